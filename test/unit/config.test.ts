import { describe, expect, it } from 'vitest';
import { AppError } from '../../src-shared/errors';
import { defaultConfig, envNameFor, envSource, loadConfig, settingPaths } from '../../src-main/config';

function configError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a config error');
}

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({ env: { HOME: '/home/alice' } });
    expect(config.gateway.port).toBe(8787);
    expect(config.mfa.challengeTimeoutSeconds).toBe(60);
    expect(config.mfa.rateLimit).toEqual({ maxAttempts: 5, windowSeconds: 300 });
    expect(config.approvals.timeoutSeconds).toBe(60);
    expect(config.approvals.reportMuteMinutes).toBe(20);
    expect(config.security.idleLockMinutes).toBe(5);
    expect(config.database.synchronous).toBe('FULL');
    expect(config.keychain.service).toBe('custodian');
  });

  it('takes CUSTODIAN_ overrides named after the setting path', () => {
    expect(envNameFor('approvals.timeoutSeconds')).toBe('CUSTODIAN_APPROVALS_TIMEOUT_SECONDS');
    const config = loadConfig({
      env: { CUSTODIAN_APPROVALS_TIMEOUT_SECONDS: '90', CUSTODIAN_GATEWAY_PORT: '9000', CUSTODIAN_DATA_DIR: '/srv/custodian' },
    });
    expect(config.approvals.timeoutSeconds).toBe(90);
    expect(config.gateway.port).toBe(9000);
    expect(config.dataDir).toBe('/srv/custodian');
  });

  it('honours the seeds’ variable names as written', () => {
    const config = loadConfig({
      env: { MFA_TIMEOUT_SECONDS: '120', RESTORE_ACCESS_TOKEN_TTL_SECONDS: '300', MFA_ENABLED: 'false', MFA_METHODS: 'totp, sms' },
    });
    expect(config.mfa.challengeTimeoutSeconds).toBe(120);
    expect(config.restoreTokens.ttlSeconds).toBe(300);
    expect(config.mfa.enabled).toBe(false);
    expect(config.mfa.methods).toEqual(['totp', 'sms']);
  });

  it('knows which variable set a setting, so a run-time setting the environment sets is pinned (issue 11)', () => {
    const path = 'restoreTokens.ttlSeconds';
    expect(envSource(loadConfig({ env: {} }), path)).toBeNull();
    expect(envSource(loadConfig({ env: { RESTORE_ACCESS_TOKEN_TTL_SECONDS: '300' } }), path)).toBe('RESTORE_ACCESS_TOKEN_TTL_SECONDS');
    // Both set: the CUSTODIAN_ name wins, and is the one named.
    const both = loadConfig({ env: { RESTORE_ACCESS_TOKEN_TTL_SECONDS: '300', CUSTODIAN_RESTORE_TOKENS_TTL_SECONDS: '600' } });
    expect([both.restoreTokens.ttlSeconds, envSource(both, path)]).toEqual([600, 'CUSTODIAN_RESTORE_TOKENS_TTL_SECONDS']);
    // An explicit override that changed the environment's value is no longer the environment's.
    const overridden = loadConfig({ env: { RESTORE_ACCESS_TOKEN_TTL_SECONDS: '300' }, overrides: (c) => void (c.restoreTokens.ttlSeconds = 120) });
    expect(envSource(overridden, path)).toBeNull();
    expect(envSource(defaultConfig(), path)).toBeNull();
  });

  it('refuses a bad value with an error naming the variable', () => {
    const notNumber = configError(() => loadConfig({ env: { CUSTODIAN_GATEWAY_PORT: 'eighty' } }));
    expect(notNumber.code).toBe('ERR-CONFIG-INVALID');
    expect(notNumber.details?.setting).toBe('CUSTODIAN_GATEWAY_PORT');

    const outOfRange = configError(() => loadConfig({ env: { CUSTODIAN_GATEWAY_PORT: '70000' } }));
    expect(outOfRange.details?.setting).toBe('CUSTODIAN_GATEWAY_PORT');

    const badEnum = configError(() => loadConfig({ env: { MFA_METHODS: 'totp,carrier-pigeon' } }));
    expect(badEnum.details?.setting).toBe('MFA_METHODS');

    // Issue 12: a method listed twice is a typo, not a wish.
    const twice = configError(() => loadConfig({ env: { MFA_METHODS: 'totp,sms,totp' } }));
    expect(twice.details).toMatchObject({ setting: 'MFA_METHODS', reason: 'a method is listed twice' });
  });

  it('lists every setting with its environment name', () => {
    const paths = settingPaths().map((s) => s.path);
    expect(paths).toContain('gateway.port');
    expect(paths).toContain('restoreTokens.ttlSeconds');
    expect(new Set(paths.map(envNameFor)).size).toBe(paths.length);
  });
});

describe('the Twilio base URL setting (sms.twilioBaseUrl)', () => {
  it('is Twilio’s own API unless set', () => {
    expect(loadConfig({ env: {} }).sms).toEqual({ twilioBaseUrl: 'https://api.twilio.com', timeoutMs: 10000 });
  });

  it.each([
    'https://twilio-proxy.corp.example',
    'https://10.0.0.5:8443/twilio',
    'http://127.0.0.1:4010',
    'http://127.3.4.5:4010',
    'http://[::1]:4010',
  ])('takes %s from CUSTODIAN_SMS_TWILIO_BASE_URL', (url) => {
    expect(loadConfig({ env: { CUSTODIAN_SMS_TWILIO_BASE_URL: url } }).sms.twilioBaseUrl).toBe(url);
  });

  it.each([
    ['plain http to another host: the auth token would cross the network in clear', 'http://twilio-proxy.corp.example'],
    ['plain http to a LAN address', 'http://10.0.0.5:4010'],
    ['plain http to a name, which a resolver could send elsewhere', 'http://localhost:4010'],
    ['a look-alike of a loopback address', 'http://127.0.0.1.evil.example'],
    ['another scheme', 'ftp://127.0.0.1/'],
    ['credentials in the URL', 'https://user:pass@api.twilio.com'],
    ['a query', 'https://api.twilio.com/?x=1'],
    ['not a URL', 'api.twilio.com'],
  ])('refuses %s, naming the variable', (_why, url) => {
    const error = configError(() => loadConfig({ env: { CUSTODIAN_SMS_TWILIO_BASE_URL: url } }));
    expect(error.code).toBe('ERR-CONFIG-INVALID');
    expect(error.details?.setting).toBe('CUSTODIAN_SMS_TWILIO_BASE_URL');
  });

  it('bounds the Twilio timeout', () => {
    expect(loadConfig({ env: { CUSTODIAN_SMS_TIMEOUT_MS: '250' } }).sms.timeoutMs).toBe(250);
    expect(configError(() => loadConfig({ env: { CUSTODIAN_SMS_TIMEOUT_MS: '0' } })).details?.setting).toBe('CUSTODIAN_SMS_TIMEOUT_MS');
  });
});
