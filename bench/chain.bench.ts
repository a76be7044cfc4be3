import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { verifySync } from 'otplib';
import { TestClock } from '../src-main/clock';
import { createCustodian } from '../src-main/composition';
import { loadConfig } from '../src-main/config';
import { openDatabase } from '../src-main/platform/db/database';
import { MANAGE } from '../src-shared/domain/policy';
import { totpCode, type TotpParams } from '../src-main/services/mfa/totp';
import { bareCommits, MemorySecretStore, result, type BenchResult } from './harness';

const SOURCE = { source: 'bench' };

/**
 * Issue 10: chain steps per second through the ChainService, against otplib's bare check of the
 * same codes. Each round runs whole critical chains (two TOTP factors, random order): start the
 * attempt, then each step with the right code, which takes its attempt slot, checks the ±1 window,
 * moves the factor's replay floor and writes the step's audit row in one transaction with the
 * attempt's guarded update; the completed chain also mints its grant. Both sides compute the code
 * they check. The clock moves a time step per chain, since a code is accepted once per step.
 */
export async function chainBenchmarks(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-chain-'));
  const clock = new TestClock(Date.UTC(2026, 10, 24, 9, 0, 15));
  const config = loadConfig({ env: { CUSTODIAN_DATA_DIR: dir } });
  const db = openDatabase({ file: join(dir, 'chain.db'), synchronous: config.database.synchronous });
  const custodian = createCustodian({ config, clock, db, secrets: new MemorySecretStore() });
  try {
    const { mfa, chain } = custodian;
    mfa.initProfile({ displayName: 'Bench', principal: 'bench@corp', role: 'security-admin' }, SOURCE);
    const factors = new Map<string, TotpParams>();
    for (const label of ['Phone', 'Token']) {
      const first = factors.size === 0;
      clock.advanceSeconds(30);
      // The second factor is added with a step-up chain paid by the first (issue 10).
      if (!first) {
        const attempt = chain.start(MANAGE.enroll, 'critical', SOURCE);
        const [only] = attempt.steps;
        if (!only) throw new Error('no step to pass');
        await chain.verifyStep(attempt.attemptId, only.id, totpCode(factors.get(only.id) as TotpParams, clock.now()), SOURCE);
      }
      const enrollment = await mfa.startEnrollment({ label, digits: 6, period: 30, algorithm: 'SHA1' }, SOURCE);
      const params: TotpParams = { secret: new URL(enrollment.uri).searchParams.get('secret') ?? '', digits: 6, period: 30, algorithm: 'SHA1' };
      clock.advanceSeconds(30);
      await mfa.confirmEnrollment(enrollment.factor.id, totpCode(params, clock.now()), SOURCE);
      factors.set(enrollment.factor.id, params);
    }

    const CHAINS = 400;
    const steps = async (): Promise<number> => {
      const start = performance.now();
      let done = 0;
      for (let i = 0; i < CHAINS; i += 1) {
        clock.advanceSeconds(30);
        let attempt = chain.start('test:critical', 'critical', SOURCE);
        for (const step of attempt.steps) {
          attempt = await chain.verifyStep(attempt.attemptId, step.id, totpCode(factors.get(step.id) as TotpParams, clock.now()), SOURCE);
          done += 1;
        }
        if (attempt.status !== 'completed') throw new Error(`the bench chain ended ${attempt.status}`);
        // The app's tick sweeps once a minute of its clock (lapsed grants go): so does the bench,
        // whose clock moves 30 s a chain. Its cost is counted.
        if (i % 2 === 1) chain.sweep();
      }
      return done / ((performance.now() - start) / 1000);
    };
    const crypto = new NodeCryptoPlugin();
    const all = [...factors.values()];
    const bare = (): number => {
      const start = performance.now();
      const n = CHAINS * all.length;
      for (let i = 0; i < n; i += 1) {
        const params = all[i % all.length] as TotpParams;
        const now = clock.now() + i * 30_000;
        const token = totpCode(params, now);
        if (!verifySync({ secret: params.secret, token, crypto, epoch: Math.floor(now / 1000), epochTolerance: 30 }).valid) throw new Error('bare check refused');
      }
      return n / ((performance.now() - start) / 1000);
    };
    // What durability alone costs: the same number of fsynced commits (a chain's start and its
    // two steps each commit with synchronous=FULL), one small row each, on a bare connection.
    const raw = openDatabase({ file: join(dir, 'raw.db'), synchronous: config.database.synchronous });
    const bare3 = bareCommits(raw);
    const commits = (): number => bare3(CHAINS, 3) * all.length;
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      a.push(await steps());
      b.push(bare());
      c.push(commits());
    }
    raw.close();
    const median = (v: number[]): number => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)] as number;
    return [
      result(
        'factor chain steps through the service (critical, 2 TOTP steps, random order; start, slot, check, replay floor, audit and grant included)',
        'steps/s',
        { value: median(a), baseline: median(b) },
        null,
        "otplib's bare verifySync of the same codes, each computed as the subject computes it",
      ),
      result(
        'factor chain steps through the service (critical, 2 TOTP steps, random order; start, slot, check, replay floor, audit and grant included)',
        'steps/s',
        { value: median(a), baseline: median(c) },
        null,
        'bare better-sqlite3: the same fsynced commits (3 per chain of 2 steps), one small row each',
      ),
    ];
  } finally {
    await custodian.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
