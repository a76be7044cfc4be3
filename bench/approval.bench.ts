import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { approvePurpose } from '../src-shared/domain/approval';
import { TestClock } from '../src-main/clock';
import { createCustodian } from '../src-main/composition';
import { loadConfig } from '../src-main/config';
import { openDatabase } from '../src-main/platform/db/database';
import { totpCode, type TotpParams } from '../src-main/services/mfa/totp';
import { bareCommits, median, MemorySecretStore, result, type BenchResult } from './harness';

const SOURCE = { source: 'bench' };
const DESKTOP = { source: 'desktop' as const };
const PER_ROUND = 100;
const ROUNDS = 5;

/**
 * Issue 11: approvals per second through the whole pipeline, and redeems per second, each beside
 * a bare baseline from the same run. An approval here is what the window does: start the chain
 * for `approve:<id>` (low: one TOTP step), the step with its code (computed before the clock
 * starts), `approve` with the match code (authentication, the grant, the number, policy, the
 * decision and the token row with their audit rows, in one transaction), then the requester's
 * first status read minting the token. The clock moves a time step per approval, as a code is
 * accepted once per step.
 */
export async function approvalBenchmarks(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-approval-'));
  const clock = new TestClock(Date.UTC(2026, 10, 24, 9, 0, 15));
  const config = loadConfig({ env: { CUSTODIAN_DATA_DIR: dir, CUSTODIAN_APPROVALS_TIMEOUT_SECONDS: '3600', RESTORE_ACCESS_TOKEN_TTL_SECONDS: '86400' } });
  const db = openDatabase({ file: join(dir, 'approval.db'), synchronous: config.database.synchronous });
  const custodian = createCustodian({ config, clock, db, secrets: new MemorySecretStore() });
  const raw = openDatabase({ file: join(dir, 'raw.db'), synchronous: config.database.synchronous });
  try {
    const { mfa, chain, approvals, tokens, requests, integrations } = custodian;
    mfa.initProfile({ displayName: 'Bench', principal: 'bench@corp', role: 'security-admin' }, SOURCE);
    clock.advanceSeconds(30);
    const enrollment = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, SOURCE);
    const params: TotpParams = { secret: new URL(enrollment.uri).searchParams.get('secret') ?? '', digits: 6, period: 30, algorithm: 'SHA1' };
    await mfa.confirmEnrollment(enrollment.factor.id, totpCode(params, clock.now()), SOURCE);
    integrations.add('bench-tool', 'bench@corp');
    const integration = integrations.current(integrations.list()[0]?.id ?? '');

    // Requests for a round, and each approval's code, made before its clock starts.
    const prepare = async () => {
      const made = [];
      for (let i = 0; i < PER_ROUND; i += 1) {
        const created = await requests.create(integration, { requester: 'backup@db1', backupId: `snap-${i}`, target: '/srv/restore', reason: 'bench', sensitivity: 'low' });
        made.push({ id: created.id, matchCode: String(created.matchCode), code: totpCode(params, clock.now() + (i + 1) * 30_000) });
      }
      return made;
    };
    const approveAll = async (made: Awaited<ReturnType<typeof prepare>>): Promise<number> => {
      const start = performance.now();
      for (const r of made) {
        clock.advanceSeconds(30);
        const attempt = chain.start(approvePurpose(r.id), 'low', SOURCE);
        await chain.verifyStep(attempt.attemptId, attempt.steps[0]?.id ?? '', r.code, SOURCE);
        approvals.approve(r.id, r.matchCode, DESKTOP);
        if (tokens.collect(r.id, integration.id)?.token === undefined) throw new Error('no token handed out');
      }
      return made.length / ((performance.now() - start) / 1000);
    };
    // The bare baseline: as many fsynced commits as an approval makes (chain start, its step, the
    // approval, the token's hand-out), one small row each, on a bare connection.
    const bare = bareCommits(raw);
    const commits = (): number => bare(PER_ROUND, 4);

    const a: number[] = [];
    const b: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const made = await prepare();
      a.push(await approveAll(made));
      b.push(commits());
    }

    // Redeems: fresh tokens (approved and collected outside the clock), each redeemed once.
    const redeemable: string[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const r of await prepare()) {
        clock.advanceSeconds(30);
        const attempt = chain.start(approvePurpose(r.id), 'low', SOURCE);
        await chain.verifyStep(attempt.attemptId, attempt.steps[0]?.id ?? '', r.code, SOURCE);
        approvals.approve(r.id, r.matchCode, DESKTOP);
        redeemable.push(tokens.collect(r.id, integration.id)?.token ?? '');
      }
    }
    // The bare baseline: a lookup by SHA-256 and one guarded UPDATE in one fsynced commit.
    raw.exec('CREATE TABLE IF NOT EXISTS tok (id INTEGER PRIMARY KEY, h TEXT UNIQUE NOT NULL, used INTEGER)');
    const addTok = raw.prepare('INSERT INTO tok (h) VALUES (?)');
    const bareTokens = redeemable.map(() => randomBytes(32).toString('base64url'));
    for (const token of bareTokens) addTok.run(createHash('sha256').update(token).digest('hex'));
    const find = raw.prepare('SELECT id FROM tok WHERE h = ?').pluck();
    const use = raw.prepare('UPDATE tok SET used = 1 WHERE id = ? AND used IS NULL');
    const bareRedeem = raw.transaction((token: string) => use.run(find.get(createHash('sha256').update(token).digest('hex'))).changes === 1);
    const c: number[] = [];
    const d: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const slice = (list: string[]) => list.slice(round * PER_ROUND, (round + 1) * PER_ROUND);
      let start = performance.now();
      for (const token of slice(redeemable)) tokens.redeem(integration, token, 'backup@db1');
      c.push(PER_ROUND / ((performance.now() - start) / 1000));
      start = performance.now();
      for (const token of slice(bareTokens)) if (!bareRedeem.immediate(token)) throw new Error('bare redeem refused');
      d.push(PER_ROUND / ((performance.now() - start) / 1000));
    }
    return [
      result(
        'approvals through the whole pipeline (low: 1 TOTP step; chain, grant, match code, policy, decision, token row, first status read; audit rows included)',
        'approvals/s',
        { value: median(a), baseline: median(b) },
        null,
        'bare better-sqlite3: the same fsynced commits (4 per approval), one small row each',
      ),
      result(
        'restore token redeems through the service (hash lookup, bindings, guarded UPDATE, audit row)',
        'redeems/s',
        { value: median(c), baseline: median(d) },
        null,
        'bare better-sqlite3: SHA-256 lookup and one guarded UPDATE per redeem, one fsynced commit each',
      ),
    ];
  } finally {
    raw.close();
    await custodian.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
