import { describe, expect, it } from 'vitest';
import { AppError } from '../../src-shared/errors';
import { loadConfig } from '../../src-main/config';

function refusal(env: NodeJS.ProcessEnv): AppError {
  try {
    loadConfig({ env });
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected ERR-CONFIG-INVALID');
}

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
    const error = refusal({ CUSTODIAN_SMS_TWILIO_BASE_URL: url });
    expect(error.code).toBe('ERR-CONFIG-INVALID');
    expect(error.details?.setting).toBe('CUSTODIAN_SMS_TWILIO_BASE_URL');
  });

  it('bounds the Twilio timeout', () => {
    expect(loadConfig({ env: { CUSTODIAN_SMS_TIMEOUT_MS: '250' } }).sms.timeoutMs).toBe(250);
    expect(refusal({ CUSTODIAN_SMS_TIMEOUT_MS: '0' }).details?.setting).toBe('CUSTODIAN_SMS_TIMEOUT_MS');
  });
});
