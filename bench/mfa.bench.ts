import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { verifySync } from 'otplib';
import { TestClock } from '../src-main/clock';
import { createCustodian } from '../src-main/composition';
import { loadConfig } from '../src-main/config';
import { openDatabase } from '../src-main/platform/db/database';
import { backupCodeMac, findBackupCode, generateBackupCodes, normalizeBackupCode } from '../src-main/services/mfa/backup-codes';
import { totpCode } from '../src-main/services/mfa/totp';
import { compare, MemorySecretStore, rate, result, type BenchResult } from './harness';

async function rateAsync(n: number, fn: (i: number) => Promise<void>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i += 1) await fn(i);
  return n / ((performance.now() - start) / 1000);
}

async function compareAsync(rounds: number, subject: () => Promise<number>, baseline: () => number): Promise<{ value: number; baseline: number }> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    a.push(await subject());
    b.push(baseline());
  }
  const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)] as number;
  return { value: median(a), baseline: median(b) };
}

/**
 * TOTP verification through the service (window ±1, a wrong code so the whole window is checked,
 * replay and rate-limit bookkeeping and the audit rows included, committed in groups) beside
 * otplib's bare verifySync on the same inputs and beside three raw HMAC-SHA-1s.
 */
async function totpBenchmarks(dir: string): Promise<BenchResult[]> {
  const N = 8000;
  const clock = new TestClock(Date.UTC(2026, 10, 24, 9, 0, 15));
  // The largest budget the settings allow, on the shortest window: the clock moves on a window
  // before the budget runs out, so every call checks the window and none is refused unchecked.
  const config = loadConfig({ env: { CUSTODIAN_DATA_DIR: dir, CUSTODIAN_MFA_RATE_LIMIT_MAX_ATTEMPTS: '100', CUSTODIAN_MFA_RATE_LIMIT_WINDOW_SECONDS: '10' } });
  const db = openDatabase({ file: join(dir, 'mfa.db'), synchronous: config.database.synchronous });
  const custodian = createCustodian({ config, clock, db, secrets: new MemorySecretStore() });
  const { mfa } = custodian;
  mfa.initProfile({ displayName: 'Bench', principal: 'bench@corp', role: 'admin' }, { source: 'bench' });
  const enrollment = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, { source: 'bench' });
  const secret = new URL(enrollment.uri).searchParams.get('secret') ?? '';
  await mfa.confirmEnrollment(enrollment.factor.id, totpCode({ secret, digits: 6, period: 30, algorithm: 'SHA1' }, clock.now()), { source: 'bench' });
  // A code that is certainly wrong in the window however far the clock moves here: a year away.
  const wrong = totpCode({ secret, digits: 6, period: 30, algorithm: 'SHA1' }, clock.now() + 365 * 86_400_000);
  const crypto = new NodeCryptoPlugin();
  const epoch = Math.floor(clock.now() / 1000);
  let round = 0;

  const service = async (): Promise<number> => {
    round += 1;
    const r = await rateAsync(N, async (i) => {
      // 99 failures per window: each takes its slot and is audited, none is blocked.
      if (i % 99 === 0) clock.advanceSeconds(10);
      const source = `bench-${round}`;
      await mfa.verify(wrong, { source }, { allowBackup: false, purpose: 'bench' }).catch(() => undefined);
      if (i === N - 1) mfa.flush();
    });
    return r;
  };
  const bare = (): number =>
    rate(N, (n) => {
      for (let i = 0; i < n; i += 1) verifySync({ secret, token: wrong, crypto, epoch, epochTolerance: 30 });
    });
  const key = Buffer.from(secret, 'latin1');
  const counter = Buffer.alloc(8);
  const rawHmacs = (): number =>
    rate(N, (n) => {
      for (let i = 0; i < n; i += 1) {
        for (let step = -1; step <= 1; step += 1) {
          counter.writeBigUInt64BE(BigInt(Math.floor(epoch / 30) + step));
          createHmac('sha1', key).update(counter).digest();
        }
      }
    });

  const vsOtplib = await compareAsync(5, service, bare);
  const vsRaw = await compareAsync(5, service, rawHmacs);
  await custodian.dispose();
  return [
    result('TOTP verify through the service (±1 window, wrong code, bookkeeping and audit included)', 'verifications/s', vsOtplib, 0.5, "otplib's bare verifySync on the same inputs"),
    result('TOTP verify through the service (±1 window, wrong code, bookkeeping and audit included)', 'verifications/s', vsRaw, null, 'three raw node:crypto HMAC-SHA-1 computations'),
  ];
}

/** A backup code check: normalise, one HMAC-SHA-256, ten constant-time compares. */
function backupCodeBenchmark(): BenchResult {
  const N = 50_000;
  const key = randomBytes(32);
  const macs = generateBackupCodes().map((c) => backupCodeMac(key, c));
  const typed = 'abcd-efgh';
  const measured = compare(
    5,
    () =>
      rate(N, (n) => {
        for (let i = 0; i < n; i += 1) findBackupCode(key, normalizeBackupCode(typed) ?? '', macs);
      }),
    () =>
      rate(N, (n) => {
        for (let i = 0; i < n; i += 1) createHmac('sha256', key).update('ABCDEFGH').digest('hex');
      }),
  );
  return result('backup code check (normalise, HMAC-SHA-256, 10 constant-time compares)', 'checks/s', measured, null, 'one raw HMAC-SHA-256');
}

export async function mfaBenchmarks(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-mfa-'));
  try {
    return [...(await totpBenchmarks(dir)), backupCodeBenchmark()];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
