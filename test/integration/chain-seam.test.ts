import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultPolicies } from '../../src-shared/domain/policy';
import { TestClock } from '../../src-main/clock';
import { loadConfig, type Config } from '../../src-main/config';
import { databaseFile, openDatabase } from '../../src-main/platform/db/database';
import { TestRandom } from '../../src-main/random';
import type { StepContext } from '../../src-main/services/chain/chain-ports';
import type { FactorChallenge, FactorMethod, FactorOf, FactorProvisioning, FactorVerdict, UncountedOutcome } from '../../src-main/services/mfa/methods/factor-method';
import { FactorMethodRegistry } from '../../src-main/services/mfa/methods/registry';
import { pushMethod, smsMethod } from '../fixtures/sms-method';
import type { TotpFactorParams } from '../../src-shared/domain/mfa';
import { TotpMethod } from '../../src-main/services/mfa/methods/totp.method';
import { SecretVault } from '../../src-main/services/mfa/secret-vault';
import type { SecretStore } from '../../src-main/platform/keychain/secret-store';
import { ApproverSecrets, chainHarness, ScriptedRandom, seedApprover, type Approver, type ChainHarness } from '../fixtures/chain-harness';
import { failsWith } from '../fixtures/fails-with';
import { oathtool } from '../fixtures/otp';
import { tempCustodian } from '../fixtures/temp-custodian';
import { createHandlers } from '../../src-main/ipc/handlers';
import type { MfaContext } from '../../src-main/services/mfa/mfa.service';

const DESKTOP: StepContext = { source: 'desktop' };
const START = Date.UTC(2026, 10, 24, 9, 0, 0);

/** The production TOTP method, counting what the chain asks of it. */
class CountingTotp implements FactorMethod<'totp'> {
  readonly type = 'totp';
  readonly calls: string[] = [];
  readonly #inner: TotpMethod;
  constructor(inner: TotpMethod) {
    this.#inner = inner;
  }
  enroll(params: TotpFactorParams): { secret: string; params: TotpFactorParams } {
    this.calls.push('enroll');
    return this.#inner.enroll(params);
  }
  provisioning(factor: FactorOf<'totp'>, secret: string, principal: string): FactorProvisioning {
    return this.#inner.provisioning(factor, secret, principal);
  }
  confirm(factor: FactorOf<'totp'>, code: string): Promise<FactorVerdict> {
    this.calls.push(`confirm:${factor.id}`);
    return this.#inner.confirm(factor, code);
  }
  challenge(factor: FactorOf<'totp'>): Promise<FactorChallenge> {
    this.calls.push(`challenge:${factor.id}`);
    return this.#inner.challenge(factor);
  }
  verify(factor: FactorOf<'totp'>, code: string): Promise<FactorVerdict> {
    this.calls.push(`verify:${factor.id}`);
    return this.#inner.verify(factor, code);
  }
  uncounted(): UncountedOutcome {
    return this.#inner.uncounted();
  }
  forget(): void {
    this.#inner.forget();
  }
  withdraw(): void {
    this.#inner.withdraw();
  }
}

let dir: string;
let clock: TestClock;
let config: Config;
let approver: Approver;
let h: ChainHarness;
let counting: CountingTotp;

function setUp(env: NodeJS.ProcessEnv = {}): void {
  config = loadConfig({ env: { ...env, CUSTODIAN_DATA_DIR: dir } });
  const file = databaseFile(dir);
  const db = openDatabase({ file, synchronous: config.database.synchronous });
  approver = seedApprover(db, clock, 2);
  const random = new TestRandom(3);
  const vault = new SecretVault(new ApproverSecrets(approver), random);
  counting = new CountingTotp(new TotpMethod({ vault, clock, config, random }));
  // The methods this config turns on, as the composition root passes them (MFA_METHODS).
  h = chainHarness(file, clock, config, approver, new ScriptedRandom([0]), db, new FactorMethodRegistry({ totp: counting, sms: smsMethod({ db, vault, clock, config, random }), push: pushMethod({ db, vault, clock, config, random }) }, config.mfa.methods));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'custodian-seam-'));
  clock = new TestClock(START);
});
afterEach(() => {
  if (h.db.open) h.db.close();
  rmSync(dir, { recursive: true, force: true });
});

const code = (factorId: string, at = clock.now()): string => oathtool(approver.secrets.get(factorId) ?? '', at);
const F = (i: number): string => approver.factorIds[i] as string;

describe('the chain checks codes through the factor seam (issue 12)', () => {
  beforeEach(() => setUp());

  it('asks the factor’s method for every verdict, and still moves the replay floor itself', async () => {
    const started = h.chain.start('approve:req_1', 'low', DESKTOP);
    const typed = code(F(0));
    expect((await h.chain.verifyStep(started.attemptId, F(0), typed, DESKTOP)).status).toBe('completed');
    expect(counting.calls).toEqual([`verify:${F(0)}`]);
    // The method changed nothing; the port used the code up: the same code again is a replay.
    const again = h.chain.start('approve:req_2', 'low', DESKTOP);
    await failsWith(h.chain.verifyStep(again.attemptId, F(0), typed, DESKTOP), 'ERR-MFA-REPLAYED');
    expect(counting.calls).toEqual([`verify:${F(0)}`, `verify:${F(0)}`]);
  });

  it('lists each factor with the type and digits of its record', () => {
    h.db.prepare("UPDATE factors SET params = json_set(params, '$.digits', 8) WHERE id = ?").run(F(1));
    expect(h.port.list()).toEqual([
      { id: F(0), type: 'totp', label: 'Phone 1', digits: 6 },
      { id: F(1), type: 'totp', label: 'Phone 2', digits: 8 },
    ]);
  });

  it('answers a factor disabled while its method was checking as a wrong code, and uses nothing up', async () => {
    const started = h.chain.start('approve:req_1', 'low', DESKTOP);
    const typed = code(F(0));
    const floor = (): unknown => h.db.prepare('SELECT last_used_step FROM factors WHERE id = ?').pluck().get(F(0));
    const before = floor();
    // Disabled after the port read the factor, while the method waits on the keychain.
    const original = counting.verify.bind(counting);
    counting.verify = async (factor, c) => {
      const verdict = await original(factor, c);
      h.db.prepare("UPDATE factors SET state = 'disabled' WHERE id = ?").run(F(0));
      return verdict;
    };
    await failsWith(h.chain.verifyStep(started.attemptId, F(0), typed, DESKTOP), 'ERR-MFA-INVALID');
    expect(floor()).toBe(before);
  });
});

describe('a step’s challenge (issue 12)', () => {
  beforeEach(() => setUp());
  const events = (): string[] => [...h.audit.export()].map((e) => e.event);

  it('asks the current step’s method, answers the digits to type, and audits it without moving the chain', async () => {
    h.db.prepare("UPDATE factors SET params = json_set(params, '$.digits', 8) WHERE id = ?").run(F(1));
    const started = h.chain.start('approve:req_1', 'medium', DESKTOP);
    expect(await h.chain.challenge(started.attemptId, DESKTOP)).toEqual({ kind: 'code', digits: 6 });
    // No attempt slot is taken (nothing was guessed), and the chain stays where it was.
    expect(h.port.failures()).toBe(0);
    expect(h.chain.attempt(started.attemptId)).toMatchObject({ position: 0, status: 'open' });
    await h.chain.verifyStep(started.attemptId, F(0), code(F(0)), DESKTOP);
    expect(counting.calls).toEqual([`challenge:${F(0)}`, `verify:${F(0)}`]);
    const rows = [...h.audit.export()].filter((e) => e.event === 'mfa_chain_challenged');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor: 'alice@corp',
      subject: started.attemptId,
      data: { attemptId: started.attemptId, step: 1, factorId: F(0), type: 'totp', challenge: 'code', purpose: 'approve:req_1', sensitivity: 'medium', source: 'desktop' },
    });
  });

  it('answers the next step’s digits once the first has passed', async () => {
    h.db.prepare("UPDATE factors SET params = json_set(params, '$.digits', 8) WHERE id = ?").run(F(1));
    h.policies.save({ ...h.policies.get('medium'), requiredSteps: 2, eligible: { by: 'ids', ids: [F(0), F(1)] } }, { actor: 'alice@corp', source: 'desktop' });
    const started = h.chain.start('approve:req_1', 'medium', DESKTOP);
    await h.chain.verifyStep(started.attemptId, F(0), code(F(0)), DESKTOP);
    expect(await h.chain.challenge(started.attemptId, DESKTOP)).toEqual({ kind: 'code', digits: 8 });
    expect(counting.calls.at(-1)).toBe(`challenge:${F(1)}`);
  });

  it('is refused for an unknown attempt, a completed one and an expired one, asking no method', async () => {
    await failsWith(h.chain.challenge('ch_nope', DESKTOP), 'ERR-NOT-FOUND');
    const done = h.chain.start('approve:req_1', 'low', DESKTOP);
    await h.chain.verifyStep(done.attemptId, F(0), code(F(0)), DESKTOP);
    await failsWith(h.chain.challenge(done.attemptId, DESKTOP), 'ERR-NOT-FOUND');
    const lapsed = h.chain.start('approve:req_2', 'low', DESKTOP);
    clock.advanceSeconds(60);
    await failsWith(h.chain.challenge(lapsed.attemptId, DESKTOP), 'ERR-MFA-EXPIRED');
    expect(h.chain.attempt(lapsed.attemptId).status).toBe('expired');
    await failsWith(h.chain.challenge(lapsed.attemptId, DESKTOP), 'ERR-MFA-EXPIRED');
    expect(counting.calls.filter((c) => c.startsWith('challenge:'))).toEqual([]);
    expect(events()).not.toContain('mfa_chain_challenged');
    expect(events().filter((e) => e === 'mfa_chain_expired')).toHaveLength(1);
  });

  it('is refused for a step whose factor was disabled since the chain was drawn', async () => {
    const started = h.chain.start('approve:req_1', 'low', DESKTOP);
    h.db.prepare("UPDATE factors SET state = 'disabled' WHERE id = ?").run(F(0));
    await failsWith(h.chain.challenge(started.attemptId, DESKTOP), 'ERR-NOT-FOUND');
    expect(events()).not.toContain('mfa_chain_challenged');
  });
});

describe('MFA_METHODS (issue 12)', () => {
  const ADMIN = { actor: 'alice@corp', source: 'desktop' };

  it('totp (the default) keeps today’s chains: every TOTP factor drawn and checked', async () => {
    setUp({ MFA_METHODS: 'totp' });
    expect(h.port.list().map((f) => f.id)).toEqual([F(0), F(1)]);
    const started = h.chain.start('approve:req_1', 'critical', DESKTOP);
    for (const s of started.steps) await h.chain.verifyStep(started.attemptId, s.id, code(s.id), DESKTOP);
    expect(h.chain.attempt(started.attemptId).status).toBe('completed');
  });

  it('without totp, the TOTP factors are drawn into no chain: a policy that needs them is unsatisfiable, saved or started', () => {
    setUp({ MFA_METHODS: 'sms' });
    expect(h.port.list()).toEqual([]);
    expect(h.port.withFullRights()).toEqual([]);
    for (const sensitivity of ['low', 'critical'] as const) {
      expect(() => h.chain.start('approve:req_1', sensitivity, DESKTOP)).toThrow(expect.objectContaining({ code: 'ERR-MFA-POLICY-UNSATISFIABLE', details: { required: sensitivity === 'low' ? 1 : 2, eligible: 0 } }));
    }
    // Named by type or by id, the same.
    expect(() => h.policies.save({ ...h.policies.get('low'), eligible: { by: 'types', types: ['totp'] } }, ADMIN)).toThrow(expect.objectContaining({ code: 'ERR-MFA-POLICY-UNSATISFIABLE' }));
    expect(() => h.policies.save({ ...h.policies.get('low'), eligible: { by: 'ids', ids: [F(0)] } }, ADMIN)).toThrow(expect.objectContaining({ code: 'ERR-MFA-POLICY-UNSATISFIABLE' }));
    expect([...h.audit.export()]).toEqual([]);
  });

  it('without totp, refuses a step of a chain another process drew with totp on, before any code is checked', async () => {
    setUp({ MFA_METHODS: 'totp' });
    const started = h.chain.start('approve:req_1', 'low', DESKTOP);
    // A second process on the same database, whose MFA_METHODS leaves totp out.
    const pushOnly = loadConfig({ env: { MFA_METHODS: 'push', CUSTODIAN_DATA_DIR: dir } });
    const random = new TestRandom(4);
    const other = new CountingTotp(new TotpMethod({ vault: new SecretVault(new ApproverSecrets(approver), random), clock, config: pushOnly, random }));
    const second = chainHarness(databaseFile(dir), clock, pushOnly, approver, new ScriptedRandom([0]), undefined, new FactorMethodRegistry({ totp: other, sms: smsMethod({ db: h.db, vault: new SecretVault(new ApproverSecrets(approver), random), clock, config: pushOnly, random }), push: pushMethod({ db: h.db, vault: new SecretVault(new ApproverSecrets(approver), random), clock, config: pushOnly, random }) }, pushOnly.mfa.methods));
    try {
      await failsWith(second.chain.challenge(started.attemptId, DESKTOP), 'ERR-MFA-METHOD-DISABLED');
      await failsWith(second.chain.verifyStep(started.attemptId, F(0), code(F(0)), DESKTOP), 'ERR-MFA-METHOD-DISABLED');
      expect(other.calls).toEqual([]);
      expect(second.chain.attempt(started.attemptId)).toMatchObject({ position: 0, status: 'open' });
    } finally {
      second.db.close();
    }
    // This process, with totp on, still passes it.
    await h.chain.verifyStep(started.attemptId, F(0), code(F(0)), DESKTOP);
  });

  it('without totp, refuses a TOTP enrollment with ERR-MFA-METHOD-DISABLED and records nothing, and tells the window', async () => {
    const t = tempCustodian({ env: { MFA_METHODS: 'sms' } });
    try {
      const ctx: MfaContext = { source: 'desktop' };
      t.custodian.mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'operator' }, ctx);
      const before = t.custodian.audit.head();
      await failsWith(t.custodian.mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, ctx), 'ERR-MFA-METHOD-DISABLED');
      expect(t.custodian.mfa.listFactors().factors).toEqual([]);
      expect(t.custodian.audit.head()).toEqual(before);
      const info = await createHandlers(t.custodian, 'chromium-host')['app:info']({});
      expect(info).toMatchObject({ mfaMethods: ['sms'] });
    } finally {
      await t.remove();
    }
  });
});

describe('the default policies (issue 12)', () => {
  it('admit TOTP, SMS and push below critical, and only TOTP at critical', () => {
    expect(defaultPolicies(60).map((p) => [p.sensitivity, p.eligible])).toEqual([
      ['low', { by: 'types', types: ['totp', 'sms', 'push'] }],
      ['medium', { by: 'types', types: ['totp', 'sms', 'push'] }],
      ['high', { by: 'types', types: ['totp', 'sms', 'push'] }],
      ['critical', { by: 'types', types: ['totp'] }],
    ]);
  });

  it('draw the same TOTP chains as before, and a saved policy keeps the eligibility it was saved with', async () => {
    setUp();
    expect(h.chain.start('approve:req_1', 'medium', DESKTOP).steps.map((s) => s.id)).toEqual([F(0)]);
    expect(h.chain.start('approve:req_2', 'critical', DESKTOP).steps.map((s) => s.id).sort()).toEqual([F(0), F(1)].sort());
    // Saved with TOTP only (as every policy saved before issue 12 was): no longer the default's.
    h.policies.save({ ...h.policies.get('medium'), eligible: { by: 'types', types: ['totp'] } }, { actor: 'alice@corp', source: 'desktop' });
    expect(h.policies.get('medium').eligible).toEqual({ by: 'types', types: ['totp'] });
    expect(h.policies.get('low').eligible).toEqual({ by: 'types', types: ['totp', 'sms', 'push'] });
  });
});

describe('the shared vault', () => {
  it('does not keep a secret whose keychain read was still in flight when the desk locked', async () => {
    let release: (value: string | null) => void = () => undefined;
    const slow: SecretStore = {
      get: () => new Promise((resolve) => (release = resolve)),
      set: () => Promise.resolve(),
      delete: () => Promise.resolve(true),
      probe: () => Promise.resolve(),
    };
    const vault = new SecretVault(slow, new TestRandom(1));
    const reading = vault.factorSecret('p_1', 'f_1');
    vault.forget();
    release('JBSWY3DPEHPK3PXP');
    expect(await reading).toBe('JBSWY3DPEHPK3PXP');
    expect(vault.cached('f_1')).toBeUndefined();
    // Without a lock in between, the read is kept as before.
    const again = vault.factorSecret('p_1', 'f_1');
    release('JBSWY3DPEHPK3PXP');
    await again;
    expect(vault.cached('f_1')).toBe('JBSWY3DPEHPK3PXP');
  });
});
