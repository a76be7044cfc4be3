import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKUP_STEP, type Policy } from '../../src-shared/domain/policy';
import type { AppError } from '../../src-shared/errors';
import { TestClock } from '../../src-main/clock';
import { loadConfig, type Config } from '../../src-main/config';
import { databaseFile, openDatabase, type Database } from '../../src-main/platform/db/database';
import { BackupCodesRepository } from '../../src-main/platform/db/repositories/backup-codes.repository';
import { FactorsRepository } from '../../src-main/platform/db/repositories/factors.repository';
import type { Random } from '../../src-main/services/chain/chain-core';
import type { StepContext } from '../../src-main/services/chain/chain-ports';
import { migrations } from '../../src-main/platform/db/migrations';
import { ENDED_ATTEMPT_KEEP_MS, STEP_UP_GRANT_TTL_MS } from '../../src-main/services/chain/chain.service';
import { POLICY_WEAKEN_PURPOSE, type ActorContext } from '../../src-main/services/policy/policy.service';
import { chainHarness, ScriptedRandom, seedApprover, type Approver, type ChainHarness } from '../fixtures/chain-harness';
import { failsWith } from '../fixtures/fails-with';
import { oathtool } from '../fixtures/otp';
import { sqlite } from '../fixtures/sqlite-cli';

const DESKTOP: StepContext = { source: 'desktop' };
const ADMIN: ActorContext = { actor: 'alice@corp', source: 'desktop' };
const START = Date.UTC(2026, 10, 24, 9, 0, 0);

let dir: string;
let file: string;
let clock: TestClock;
let config: Config;
let approver: Approver;
let h: ChainHarness;
const extra: Database[] = [];

function setUp(random: Random, env: NodeJS.ProcessEnv = {}): void {
  config = loadConfig({ env: { ...env, CUSTODIAN_DATA_DIR: dir } });
  const db = openDatabase({ file, synchronous: config.database.synchronous });
  approver = seedApprover(db, clock, 3);
  h = chainHarness(file, clock, config, approver, random, db);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'custodian-chain-'));
  file = databaseFile(dir);
  clock = new TestClock(START);
});
afterEach(() => {
  for (const db of [h.db, ...extra.splice(0)]) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const code = (factorId: string, at = clock.now()): string => oathtool(approver.secrets.get(factorId) ?? '', at);
const [F1, F2, F3] = [0, 1, 2].map((i) => () => approver.factorIds[i] as string) as [() => string, () => string, () => string];

function events(harness: ChainHarness = h): string[] {
  return [...harness.audit.export()].map((e) => e.event);
}

function savePolicy(policy: Partial<Policy> & Pick<Policy, 'sensitivity'>): Policy {
  return h.policies.save({ ...h.policies.get(policy.sensitivity), ...policy }, ADMIN);
}

describe('a chain in fixed order', () => {
  beforeEach(() => setUp(new ScriptedRandom([0])));

  it('asks for the listed factors in order, completes, and audits every step without a code', async () => {
    savePolicy({ sensitivity: 'medium', mode: 'fixed', requiredSteps: 3, eligible: { by: 'ids', ids: [F3(), F1(), F2()] } });
    const started = h.chain.start('approve:req_1', 'medium', DESKTOP);
    expect(started.steps.map((s) => s.id)).toEqual([F3(), F1(), F2()]);
    expect(started.steps[0]).toEqual({ id: F3(), type: 'totp', label: 'Phone 3', digits: 6 });
    expect(started.expiresAt).toBe(new Date(START + 60_000).toISOString());
    expect(JSON.stringify(started)).not.toMatch(/secret/i);

    const typed = [code(F3()), code(F1()), code(F2())];
    expect((await h.chain.verifyStep(started.attemptId, F3(), typed[0] ?? '', DESKTOP)).position).toBe(1);
    expect((await h.chain.verifyStep(started.attemptId, F1(), typed[1] ?? '', DESKTOP)).position).toBe(2);
    const done = await h.chain.verifyStep(started.attemptId, F2(), typed[2] ?? '', DESKTOP);
    expect(done.status).toBe('completed');
    expect(events()).toEqual(['mfa_policy_changed', 'mfa_chain_started', 'mfa_chain_step_passed', 'mfa_chain_step_passed', 'mfa_chain_step_passed', 'mfa_chain_completed']);
    const rows = JSON.stringify([...h.audit.export()]);
    for (const c of typed) expect(rows).not.toContain(c);
    for (const secret of approver.secrets.values()) expect(rows).not.toContain(secret);
    // The attempt is over: nothing more to step through.
    await failsWith(h.chain.verifyStep(started.attemptId, F2(), code(F2()), DESKTOP), 'ERR-NOT-FOUND');
  });

  it('a step for a factor out of turn is a breach: refused, its code untouched, the chain back at step 1', async () => {
    savePolicy({ sensitivity: 'medium', mode: 'fixed', requiredSteps: 2 });
    const started = h.chain.start('approve:req_1', 'medium', DESKTOP);
    await h.chain.verifyStep(started.attemptId, F1(), code(F1()), DESKTOP);
    const checksBefore = h.port.checks;
    await failsWith(h.chain.verifyStep(started.attemptId, F3(), code(F3()), DESKTOP), 'ERR-MFA-CHAIN-BREACHED');
    expect(h.port.checks).toBe(checksBefore);
    expect(h.chain.attempt(started.attemptId)).toMatchObject({ position: 0, status: 'open' });
    expect(events().slice(-2)).toEqual(['mfa_chain_breached', 'mfa_chain_reset']);
    const breach = [...h.audit.export()].at(-2);
    expect(breach?.data).toMatchObject({ expected: F2(), submitted: F3(), step: 2 });
    // The breach counts against the rate limit like any failed step.
    expect(h.port.failures()).toBe(2);
  });

  it('a wrong code resets to step 1 and the chain starts over; the replay floor holds across attempts', async () => {
    savePolicy({ sensitivity: 'medium', mode: 'fixed', requiredSteps: 2 });
    const started = h.chain.start('approve:req_1', 'medium', DESKTOP);
    const first = code(F1());
    await h.chain.verifyStep(started.attemptId, F1(), first, DESKTOP);
    await failsWith(h.chain.verifyStep(started.attemptId, F2(), '000000' === code(F2()) ? '111111' : '000000', DESKTOP), 'ERR-MFA-INVALID');
    expect(h.chain.attempt(started.attemptId)).toMatchObject({ position: 0, steps: started.steps });
    expect(events().slice(-2)).toEqual(['mfa_chain_step_failed', 'mfa_chain_reset']);
    // The code that passed step 1 was used up in its time step, in any attempt.
    const other = h.chain.start('approve:req_2', 'medium', DESKTOP);
    await failsWith(h.chain.verifyStep(other.attemptId, F1(), first, DESKTOP), 'ERR-MFA-REPLAYED');
    clock.advanceSeconds(30);
    await h.chain.verifyStep(started.attemptId, F1(), code(F1()), DESKTOP);
    expect((await h.chain.verifyStep(started.attemptId, F2(), code(F2()), DESKTOP)).status).toBe('completed');
  });

  it('counts every step against the rate limit until the chain completes', async () => {
    savePolicy({ sensitivity: 'medium', mode: 'fixed', requiredSteps: 2 });
    const started = h.chain.start('approve:req_1', 'medium', DESKTOP);
    await h.chain.verifyStep(started.attemptId, F1(), code(F1()), DESKTOP);
    // Passing one step does not give the budget back: knowing one factor buys no extra guesses.
    expect(h.port.failures()).toBe(1);
    await h.chain.verifyStep(started.attemptId, F2(), code(F2()), DESKTOP);
    expect(h.port.failures()).toBe(0);
    // Four wrong steps and the fifth is refused before any check.
    const again = h.chain.start('approve:req_2', 'medium', DESKTOP);
    for (let i = 0; i < 5; i += 1) await failsWith(h.chain.verifyStep(again.attemptId, F1(), '12345', DESKTOP), 'ERR-MFA-INVALID');
    await failsWith(h.chain.verifyStep(again.attemptId, F1(), code(F1()), DESKTOP), 'ERR-MFA-RATE-LIMITED');
  });

  it('a backup code stands in for one step per attempt; a second one is a failed step and is not used up', async () => {
    savePolicy({ sensitivity: 'medium', mode: 'fixed', requiredSteps: 2 });
    const backup = new BackupCodesRepository(h.db);
    const started = h.chain.start('approve:req_1', 'medium', DESKTOP);
    const passed = await h.chain.verifyStep(started.attemptId, BACKUP_STEP, approver.backupCodes[0] ?? '', DESKTOP);
    expect(passed).toMatchObject({ position: 1, backupUsed: true });
    expect(backup.usable(approver.profileId, clock.now())).toHaveLength(9);
    await failsWith(h.chain.verifyStep(started.attemptId, BACKUP_STEP, approver.backupCodes[1] ?? '', DESKTOP), 'ERR-MFA-INVALID');
    expect(backup.usable(approver.profileId, clock.now())).toHaveLength(9);
    expect(h.chain.attempt(started.attemptId)).toMatchObject({ position: 0, backupUsed: true });
    await failsWith(h.chain.verifyStep(started.attemptId, BACKUP_STEP, approver.backupCodes[1] ?? '', DESKTOP), 'ERR-MFA-INVALID');
    await h.chain.verifyStep(started.attemptId, F1(), code(F1()), DESKTOP);
    expect((await h.chain.verifyStep(started.attemptId, F2(), code(F2()), DESKTOP)).status).toBe('completed');
    // A used backup code does not work twice, in a new attempt either.
    const other = h.chain.start('approve:req_2', 'medium', DESKTOP);
    await failsWith(h.chain.verifyStep(other.attemptId, BACKUP_STEP, approver.backupCodes[0] ?? '', DESKTOP), 'ERR-MFA-INVALID');
  });

  it('after expiresAt every step gets ERR-MFA-EXPIRED, audited once, with no attempt slot taken', async () => {
    const started = h.chain.start('approve:req_1', 'low', DESKTOP);
    clock.advanceSeconds(60);
    await failsWith(h.chain.verifyStep(started.attemptId, F1(), code(F1()), DESKTOP), 'ERR-MFA-EXPIRED');
    await failsWith(h.chain.verifyStep(started.attemptId, F1(), code(F1()), DESKTOP), 'ERR-MFA-EXPIRED');
    expect(events().filter((e) => e === 'mfa_chain_expired')).toHaveLength(1);
    expect(h.chain.attempt(started.attemptId).status).toBe('expired');
    expect(h.port.failures()).toBe(0);
    expect(h.chain.consumeGrant('approve:req_1')).toBe(false);
  });

  it('an attempt survives a restart: another connection on the file carries on where it stood', async () => {
    savePolicy({ sensitivity: 'medium', mode: 'fixed', requiredSteps: 2 });
    const started = h.chain.start('approve:req_1', 'medium', DESKTOP);
    await h.chain.verifyStep(started.attemptId, F1(), code(F1()), DESKTOP);
    h.db.close();
    h = chainHarness(file, clock, config, approver, new ScriptedRandom([0]));
    expect(h.chain.attempt(started.attemptId).position).toBe(1);
    expect((await h.chain.verifyStep(started.attemptId, F2(), code(F2()), DESKTOP)).status).toBe('completed');
    expect(h.chain.consumeGrant('approve:req_1')).toBe(true);
  });
});

describe('a chain in random order', () => {
  it('draws its steps from the Random port, and draws again after a failed step', async () => {
    // Critical by default: two distinct factors at random. Index 2 then 0 of [F1, F2, F3] gives
    // [F3, F2]; the redraw's 1 then 1 gives [F2, F3].
    setUp(new ScriptedRandom([2, 0, 1, 1]));
    const started = h.chain.start('factors:enroll', 'critical', DESKTOP);
    expect(started.mode).toBe('random');
    expect(started.steps.map((s) => s.id)).toEqual([F3(), F2()]);
    await h.chain.verifyStep(started.attemptId, F3(), code(F3()), DESKTOP);
    await failsWith(h.chain.verifyStep(started.attemptId, F2(), '00000x', DESKTOP), 'ERR-MFA-INVALID');
    const redrawn = h.chain.attempt(started.attemptId);
    expect(redrawn.steps.map((s) => s.id)).toEqual([F2(), F3()]);
    expect(redrawn.position).toBe(0);
    const reset = [...h.audit.export()].at(-1);
    expect(reset?.event).toBe('mfa_chain_reset');
    expect(reset?.data).toMatchObject({ redrawn: true, steps: `${F2()},${F3()}` });
    await h.chain.verifyStep(started.attemptId, F2(), code(F2()), DESKTOP);
    // F3's code of this time step was used before the reset: the next one.
    clock.advanceSeconds(30);
    expect((await h.chain.verifyStep(started.attemptId, F3(), code(F3()), DESKTOP)).status).toBe('completed');
  });
});

describe('a recovery factor in its delay (issue 9, item 4)', () => {
  beforeEach(() => setUp(new ScriptedRandom([0])));

  it('is not drawn into a chain that changes MFA', async () => {
    h.db.prepare("UPDATE factors SET enrolled_with = 'recovery', recovery_until = ? WHERE id = ?").run(clock.now() + 86_400_000, F1());
    savePolicy({ sensitivity: 'medium', mode: 'fixed', requiredSteps: 2, eligible: { by: 'ids', ids: [F1(), F2()] } });
    // Only F2 has full rights: the weakening's chain cannot be met, a test's can.
    await failsWith(() => h.chain.start(POLICY_WEAKEN_PURPOSE, 'medium', DESKTOP), 'ERR-MFA-POLICY-UNSATISFIABLE');
    expect(h.chain.start('test:medium', 'medium', DESKTOP).steps.map((s) => s.id)).toEqual([F1(), F2()]);
    // A management chain draws only from the factors with full rights, and is never longer than
    // they are: F2 and F3, then F2 alone.
    expect(h.chain.start('factors:enroll', 'critical', DESKTOP).steps.map((s) => s.id).sort()).toEqual([F2(), F3()].sort());
    new FactorsRepository(h.db).disable(F3(), new Date(clock.now()).toISOString());
    expect(h.chain.start('factors:enroll', 'critical', DESKTOP).steps.map((s) => s.id)).toEqual([F2()]);
    await failsWith(() => h.chain.start('policies:weaken', 'critical', DESKTOP), 'ERR-MFA-POLICY-UNSATISFIABLE');
  });

  it('may not pass a step of a chain that changes MFA drawn before, keeps its code and leaves the chain as it was', async () => {
    // A stronger medium policy (no grant needed to save it) that asks for F1 first.
    savePolicy({ sensitivity: 'medium', mode: 'fixed', requiredSteps: 2, eligible: { by: 'ids', ids: [F1(), F2()] } });
    const weaken = h.chain.start(POLICY_WEAKEN_PURPOSE, 'medium', DESKTOP);
    // Then F1 turns out to be a recovery factor for another day (a row from another process).
    h.db.prepare("UPDATE factors SET enrolled_with = 'recovery', recovery_until = ? WHERE id = ?").run(clock.now() + 86_400_000, F1());
    const typed = code(F1());
    await failsWith(h.chain.verifyStep(weaken.attemptId, F1(), typed, DESKTOP), 'ERR-MFA-RECOVERY-PENDING');
    expect(h.chain.attempt(weaken.attemptId).position).toBe(0);
    expect(events()).toContain('mfa_recovery_refused');
    expect(JSON.stringify([...h.audit.export()])).not.toContain(typed);

    // The same code still serves a chain that changes nothing (a test): it was not used up.
    const test = h.chain.start('test:medium', 'medium', DESKTOP);
    expect((await h.chain.verifyStep(test.attemptId, F1(), typed, DESKTOP)).position).toBe(1);
  });
});

describe('step-up grants', () => {
  beforeEach(() => setUp(new ScriptedRandom([0])));

  async function complete(purpose: string, sensitivity: 'low' | 'critical' = 'low'): Promise<void> {
    const started = h.chain.start(purpose, sensitivity, DESKTOP);
    for (const s of started.steps) await h.chain.verifyStep(started.attemptId, s.id, code(s.id), DESKTOP);
    clock.advanceSeconds(30);
  }

  it('serve once, and only their own purpose', async () => {
    await complete('approve:req_1');
    expect(h.chain.consumeGrant('approve:req_2')).toBe(false);
    expect(h.chain.consumeGrant('factors:enroll')).toBe(false);
    expect(h.chain.consumeGrant('approve:req_1')).toBe(true);
    expect(h.chain.consumeGrant('approve:req_1')).toBe(false);
    expect(events().at(-1)).toBe('mfa_step_up_used');
    await failsWith(() => h.chain.requireGrant('approve:req_1'), 'ERR-MFA-REQUIRED');
  });

  it('lapse after their short life, and one from a lower sensitivity does not serve a higher one', async () => {
    await complete('approve:req_1');
    expect(h.chain.consumeGrant('approve:req_1', 'critical')).toBe(false);
    clock.advance(STEP_UP_GRANT_TTL_MS);
    expect(h.chain.consumeGrant('approve:req_1')).toBe(false);
  });

  it('cannot be spent twice by two connections on one file', async () => {
    await complete('factors:enroll');
    const other = chainHarness(file, clock, config, approver, new ScriptedRandom([0]));
    extra.push(other.db);
    expect([h.chain.consumeGrant('factors:enroll'), other.chain.consumeGrant('factors:enroll')]).toEqual([true, false]);
  });
});

describe('two windows racing on one attempt', () => {
  beforeEach(() => setUp(new ScriptedRandom([0])));

  it('only one of two steps checked at once from two connections advances the attempt', async () => {
    // One step: each window holds a different right answer (the TOTP code, a backup code), so
    // only the version guard on the attempt row can stop both from completing it.
    const started = h.chain.start('approve:req_1', 'low', DESKTOP);
    const other = chainHarness(file, clock, config, approver, new ScriptedRandom([0]));
    extra.push(other.db);
    const results = await Promise.allSettled([
      h.chain.verifyStep(started.attemptId, F1(), code(F1()), DESKTOP),
      other.chain.verifyStep(started.attemptId, BACKUP_STEP, approver.backupCodes[0] ?? '', { source: 'cli' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected');
    expect((refused?.reason as AppError).code).toBe('ERR-MFA-INVALID');
    expect(events()).toContain('mfa_chain_completed');
    expect(events().filter((e) => e === 'mfa_chain_completed')).toHaveLength(1);
    expect(h.chain.consumeGrant('approve:req_1')).toBe(true);
    expect(other.chain.consumeGrant('approve:req_1')).toBe(false);
  });
});

describe('another process moving the attempt while a code is checked', () => {
  beforeEach(() => setUp(new ScriptedRandom([0])));

  it('makes this step land nothing: the other process\'s move stands', async () => {
    savePolicy({ sensitivity: 'medium', mode: 'fixed', requiredSteps: 2 });
    const started = h.chain.start('approve:req_1', 'medium', DESKTOP);
    // The sqlite3 command line, a process of its own, advances the attempt the way a second
    // Custodian would: a guarded UPDATE on the version it read.
    h.port.whileChecking = () => {
      sqlite(file, `UPDATE mfa_chain_attempts SET position = 1, version = version + 1 WHERE id = '${started.attemptId}' AND version = 0`);
    };
    await failsWith(h.chain.verifyStep(started.attemptId, F1(), code(F1()), DESKTOP), 'ERR-MFA-INVALID');
    h.port.whileChecking = undefined;
    expect(h.chain.attempt(started.attemptId)).toMatchObject({ position: 1, status: 'open' });
    const last = [...h.audit.export()].at(-1);
    expect(last?.event).toBe('mfa_chain_step_failed');
    expect(last?.data).toMatchObject({ reason: 'superseded' });
  });
});

describe('policies', () => {
  it('default to the configured challenge timeout (MFA_TIMEOUT_SECONDS)', () => {
    setUp(new ScriptedRandom([0]), { MFA_TIMEOUT_SECONDS: '90' });
    expect(h.policies.list().map((p) => p.challengeTimeoutSeconds)).toEqual([90, 90, 90, 90]);
    expect(h.chain.start('approve:req_1', 'low', DESKTOP).expiresAt).toBe(new Date(START + 90_000).toISOString());
  });

  it('refuse a policy asking for more steps than there are eligible active factors, and change nothing', () => {
    setUp(new ScriptedRandom([0]));
    const before = h.policies.get('critical');
    expect(() => savePolicy({ sensitivity: 'critical', requiredSteps: 4 })).toThrow(expect.objectContaining({ code: 'ERR-MFA-POLICY-UNSATISFIABLE' }));
    expect(() => savePolicy({ sensitivity: 'critical', eligible: { by: 'types', types: ['sms'] } })).toThrow(
      expect.objectContaining({ code: 'ERR-MFA-POLICY-UNSATISFIABLE' }),
    );
    expect(h.policies.get('critical')).toEqual(before);
    expect(events()).toEqual([]);
  });

  it('refuse to start an attempt the active factors can no longer satisfy', () => {
    setUp(new ScriptedRandom([0]));
    const factors = new FactorsRepository(h.db);
    factors.disable(F1(), new Date(clock.now()).toISOString());
    factors.disable(F2(), new Date(clock.now()).toISOString());
    expect(() => h.chain.start('policies:weaken', 'critical', DESKTOP)).toThrow(expect.objectContaining({ code: 'ERR-MFA-POLICY-UNSATISFIABLE' }));
    expect(events()).toEqual([]);
  });

  it('refuse to let a factor go when that would leave a policy that can be met unable to be', () => {
    setUp(new ScriptedRandom([0]));
    // Critical (2 of the 3) and high (2 of the 3, by id) can both do without one factor.
    savePolicy({ sensitivity: 'high', requiredSteps: 2, eligible: { by: 'ids', ids: [F1(), F2(), F3()] } });
    h.policies.assertCanDisable(F1());
    // A policy needing all three cannot.
    savePolicy({ sensitivity: 'medium', requiredSteps: 3 });
    expect(() => h.policies.assertCanDisable(F1())).toThrow(expect.objectContaining({ code: 'ERR-MFA-POLICY-UNSATISFIABLE' }));
    // Once one is gone (medium is unmet already and no longer counts), high and critical cannot spare another.
    new FactorsRepository(h.db).disable(F1(), new Date(clock.now()).toISOString());
    expect(() => h.policies.assertCanDisable(F2())).toThrow(expect.objectContaining({ code: 'ERR-MFA-POLICY-UNSATISFIABLE', details: { required: 2, eligible: 1 } }));
  });

  it('refuse bad input with ERR-VALIDATION', async () => {
    setUp(new ScriptedRandom([0]));
    expect(() => h.policies.save({ ...h.policies.get('low'), requiredSteps: 0 }, ADMIN)).toThrow(expect.objectContaining({ code: 'ERR-VALIDATION' }));
    expect(() => h.chain.start('no purpose', 'low', DESKTOP)).toThrow(expect.objectContaining({ code: 'ERR-VALIDATION' }));
    const started = h.chain.start('approve:req_1', 'low', DESKTOP);
    await failsWith(h.chain.verifyStep(started.attemptId, 'not-a-factor', '123456', DESKTOP), 'ERR-VALIDATION');
    await failsWith(h.chain.verifyStep('ch_nope', F1(), '123456', DESKTOP), 'ERR-NOT-FOUND');
    expect(h.port.failures()).toBe(0);
  });

  it('making one weaker takes a grant from a critical chain; the change is audited with before and after', async () => {
    setUp(new ScriptedRandom([0]));
    const before = h.policies.get('critical');
    // Stronger needs nothing.
    savePolicy({ sensitivity: 'critical', requiredSteps: 3 });
    // Weaker without a grant: refused, nothing changed.
    expect(() => savePolicy({ sensitivity: 'critical', requiredSteps: 2, mode: 'fixed' })).toThrow(expect.objectContaining({ code: 'ERR-MFA-REQUIRED' }));
    expect(h.policies.get('critical').requiredSteps).toBe(3);
    // A grant for the purpose from a lower chain does not do.
    const low = h.chain.start(POLICY_WEAKEN_PURPOSE, 'low', DESKTOP);
    await h.chain.verifyStep(low.attemptId, F1(), code(F1()), DESKTOP);
    expect(() => savePolicy({ sensitivity: 'critical', requiredSteps: 2 })).toThrow(expect.objectContaining({ code: 'ERR-MFA-REQUIRED' }));
    clock.advanceSeconds(30);
    const critical = h.chain.start(POLICY_WEAKEN_PURPOSE, 'critical', DESKTOP);
    for (const s of critical.steps) await h.chain.verifyStep(critical.attemptId, s.id, code(s.id), DESKTOP);
    const saved = savePolicy({ sensitivity: 'critical', requiredSteps: 2, mode: 'fixed' });
    expect(saved).toMatchObject({ requiredSteps: 2, mode: 'fixed' });
    const row = [...h.audit.export()].filter((e) => e.event === 'mfa_policy_changed').at(-1);
    expect(JSON.parse(String(row?.data.before))).toMatchObject({ requiredSteps: 3, mode: before.mode });
    expect(JSON.parse(String(row?.data.after))).toMatchObject({ requiredSteps: 2, mode: 'fixed' });
    expect(row?.data.weaker).toBe('fewer-steps,fixed-order');
    // The grant was used up by that change.
    expect(() => savePolicy({ sensitivity: 'critical', requiredSteps: 1 })).toThrow(expect.objectContaining({ code: 'ERR-MFA-REQUIRED' }));
  });
});

describe('migration 007', () => {
  it('adds the policy, attempt and grant tables to a database at 005, whose constraints refuse bad rows', () => {
    config = loadConfig({ env: { CUSTODIAN_DATA_DIR: dir } });
    const old = openDatabase({ file, synchronous: 'FULL', migrations: migrations.filter((m) => m.version <= 5) });
    old.close();
    setUp(new ScriptedRandom([0]));
    const tables = h.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('mfa_policies', 'mfa_chain_attempts', 'step_up_grants') ORDER BY name").pluck().all();
    expect(tables).toEqual(['mfa_chain_attempts', 'mfa_policies', 'step_up_grants']);
    expect(() => h.db.prepare("INSERT INTO mfa_policies VALUES ('urgent', 'fixed', 1, '{}', 60, 0)").run()).toThrow(/CHECK/);
    expect(() => h.db.prepare("INSERT INTO mfa_policies VALUES ('low', 'fixed', 0, '{}', 60, 0)").run()).toThrow(/CHECK/);
  });

  it('a saved policy edited by hand into nonsense fails closed instead of falling back to the default', () => {
    setUp(new ScriptedRandom([0]));
    savePolicy({ sensitivity: 'critical', requiredSteps: 3 });
    sqlite(file, `UPDATE mfa_policies SET eligible = '{"by":"anything"}' WHERE sensitivity = 'critical'`);
    expect(() => h.policies.get('critical')).toThrow(expect.objectContaining({ code: 'ERR-INTERNAL' }));
    expect(() => h.chain.start('factors:enroll', 'critical', DESKTOP)).toThrow(expect.objectContaining({ code: 'ERR-INTERNAL' }));
  });

  it('sweeps ended attempts a day on, keeping those that earned a grant', async () => {
    setUp(new ScriptedRandom([0]));
    const lapsed = h.chain.start('approve:req_1', 'low', DESKTOP);
    const done = h.chain.start('approve:req_2', 'low', DESKTOP);
    await h.chain.verifyStep(done.attemptId, F1(), code(F1()), DESKTOP);
    // A used grant stays with its attempt; one that lapsed unused goes at the sweep (issue 13).
    expect(h.chain.consumeGrant('approve:req_2')).toBe(true);
    clock.advance(60_000 + ENDED_ATTEMPT_KEEP_MS - 1);
    expect(h.chain.sweep()).toBe(0);
    clock.advance(1);
    expect(h.chain.sweep()).toBe(1);
    await failsWith(() => h.chain.attempt(lapsed.attemptId), 'ERR-NOT-FOUND');
    expect(h.chain.attempt(done.attemptId).status).toBe('completed');
  });
});
