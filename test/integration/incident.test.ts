import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IncidentState } from '../../src-shared/domain/incident';
import type { ChainStartPurpose } from '../../src-shared/domain/policy';
import type { Sensitivity } from '../../src-shared/domain/restore-request';
import { failsWith } from '../fixtures/fails-with';
import { runCli } from '../fixtures/run-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { answerChain, twoFactorsThroughCli, twoFactorsThroughRouter } from '../fixtures/two-factors';

// Incident mode (issue 11): on at once, off only with a grant for `incident:leave` from a chain at
// the critical policy; both audited with who and from where; one state for every process.
const DESK = { actor: 'alice@corp', source: 'desktop' };
let t: TempCustodian;

afterEach(async () => {
  await t.remove();
});

/**
 * A security-admin with two authenticators, enrolled through the window's channels. `chain` runs
 * a whole chain for a purpose and earns its grant; each call moves the clock a time step on, so
 * no code is a replay of an earlier one.
 */
async function approverWithTwoFactors(c: TempCustodian) {
  const { call, code } = await twoFactorsThroughRouter(c);
  const chain = async (purpose: ChainStartPurpose, sensitivity: Sensitivity): Promise<void> => {
    c.clock.advanceSeconds(30);
    const view = c.custodian.chain.start(purpose, sensitivity, { source: 'desktop' });
    for (const step of view.steps) await c.custodian.chain.verifyStep(view.attemptId, step.id, code(step.id), { source: 'desktop' });
  };
  return { call, chain };
}

function events(c: TempCustodian, n: number): string[] {
  return c.custodian.audit
    .list(n)
    .entries.map((e) => e.event)
    .reverse();
}

describe('incident mode', () => {
  beforeEach(() => {
    t = tempCustodian();
  });

  it('starts off, turns on at once with an audit row naming who and from where, and a second "on" changes nothing', () => {
    const heard: IncidentState[] = [];
    t.custodian.incident.onChanged((s) => heard.push(s));
    expect(t.custodian.incident.isOn()).toBe(false);
    expect(t.custodian.incident.state()).toEqual({ on: false, changedAt: null, changedBy: null });

    const on = t.custodian.incident.turnOn(DESK);
    const at = new Date(t.clock.now()).toISOString();
    expect(on).toEqual({ changed: true, state: { on: true, changedAt: at, changedBy: 'alice@corp' } });
    expect(t.custodian.incident.isOn()).toBe(true);
    expect(t.custodian.audit.list(1).entries[0]).toMatchObject({ event: 'incident_mode_on', actor: 'alice@corp', subject: 'incident-mode', data: { source: 'desktop' } });
    expect(heard).toEqual([on.state]);

    const head = t.custodian.audit.head();
    t.clock.advanceSeconds(5);
    expect(t.custodian.incident.turnOn({ actor: 'bob@corp', source: 'cli' })).toEqual({ changed: false, state: on.state });
    expect(t.custodian.audit.head()).toEqual(head);
    expect(heard).toHaveLength(1);
  });

  it('refuses to turn off without a grant (ERR-MFA-REQUIRED) and changes nothing; "off" when off changes nothing either', async () => {
    expect(t.custodian.incident.turnOff(DESK)).toEqual({ changed: false, state: { on: false, changedAt: null, changedBy: null } });
    t.custodian.incident.turnOn(DESK);
    const head = t.custodian.audit.head();
    await failsWith(() => t.custodian.incident.turnOff(DESK), 'ERR-MFA-REQUIRED');
    expect(t.custodian.incident.isOn()).toBe(true);
    expect(t.custodian.audit.head()).toEqual(head);
  });

  it('turns off with a critical chain’s grant for incident:leave, using it up in the same transaction as the change', async () => {
    const { chain } = await approverWithTwoFactors(t);
    t.custodian.incident.turnOn(DESK);
    await chain('incident:leave', 'critical');
    const off = t.custodian.incident.turnOff({ actor: 'alice@corp', source: 'desktop' });
    expect(off).toMatchObject({ changed: true, state: { on: false, changedBy: 'alice@corp' } });
    expect(t.custodian.incident.isOn()).toBe(false);
    // The grant's use and the change commit together, the grant first.
    expect(events(t, 2)).toEqual(['mfa_step_up_used', 'incident_mode_off']);
    expect(t.custodian.audit.list(1).entries[0]).toMatchObject({ actor: 'alice@corp', data: { source: 'desktop', stepUp: 'incident:leave' } });
    // Used once: on again, and off again needs a new chain.
    t.custodian.incident.turnOn(DESK);
    await failsWith(() => t.custodian.incident.turnOff(DESK), 'ERR-MFA-REQUIRED');
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: true });
  });

  it('refuses a grant for another purpose, or from a chain below critical, and leaves that grant unused', async () => {
    const { chain } = await approverWithTwoFactors(t);
    t.custodian.incident.turnOn(DESK);
    await chain('policies:weaken', 'critical');
    await failsWith(() => t.custodian.incident.turnOff(DESK), 'ERR-MFA-REQUIRED');
    expect(t.custodian.chain.consumeGrant('policies:weaken', 'critical')).toBe(true);
    await chain('incident:leave', 'high');
    await failsWith(() => t.custodian.incident.turnOff(DESK), 'ERR-MFA-REQUIRED');
    expect(t.custodian.incident.isOn()).toBe(true);
    expect(t.custodian.chain.consumeGrant('incident:leave', 'high')).toBe(true);
  });

  it('leaves an unused grant unused when incident mode is already off', async () => {
    const { chain } = await approverWithTwoFactors(t);
    await chain('incident:leave', 'critical');
    expect(t.custodian.incident.turnOff(DESK).changed).toBe(false);
    expect(t.custodian.chain.consumeGrant('incident:leave', 'critical')).toBe(true);
  });

  it('is one state for every process on the data directory, and a change there reaches listeners here on the next tick', () => {
    const heard: boolean[] = [];
    t.custodian.incident.onChanged((s) => heard.push(s.on));
    const other = tempCustodian({ dir: t.dir });
    try {
      other.custodian.incident.turnOn({ actor: 'bob@corp', source: 'cli' });
      // Read from the database: no tick needed for the answer the approval pipeline asks for.
      expect(t.custodian.incident.isOn()).toBe(true);
      expect(heard).toEqual([]);
      t.custodian.tick();
      expect(heard).toEqual([true]);
      // Another commit that leaves incident mode as it was tells nobody anything.
      other.custodian.settings.setLanguage('tr', 'bob@corp');
      t.custodian.tick();
      expect(heard).toEqual([true]);
    } finally {
      void other.close();
    }
  });
});

describe('the incident channels', () => {
  beforeEach(() => {
    t = tempCustodian();
  });

  it('get, on and off go through the router; off without a chain is ERR-MFA-REQUIRED, with one it turns off', async () => {
    const { call, chain } = await approverWithTwoFactors(t);
    expect(await call('incident:get')).toEqual({ ok: true, data: { on: false, changedAt: null, changedBy: null } });
    expect(await call('incident:on')).toMatchObject({ ok: true, data: { changed: true, state: { on: true, changedBy: 'alice@corp' } } });
    expect(await call('incident:on', { force: true })).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION' } });
    expect(await call('incident:off')).toMatchObject({ ok: false, error: { code: 'ERR-MFA-REQUIRED' } });
    expect(await call('chain:start', { purpose: 'incident:leave', sensitivity: 'critical' })).toMatchObject({ ok: true });
    await chain('incident:leave', 'critical');
    expect(await call('incident:off')).toMatchObject({ ok: true, data: { changed: true, state: { on: false } } });
    expect(t.custodian.audit.list(1).entries[0]).toMatchObject({ event: 'incident_mode_off', actor: 'alice@corp', data: { source: 'desktop' } });
  });
});

describe('custodian incident, from another process', () => {
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    // Two steps either side: the CLI enrollments use the codes of the next steps.
    t = tempCustodian({ clock: 'following', env: { CUSTODIAN_MFA_WINDOW_STEPS: '2' } });
    env = { CUSTODIAN_DATA_DIR: t.dir, CUSTODIAN_KEYCHAIN_SERVICE: t.config.keychain.service, CUSTODIAN_MFA_WINDOW_STEPS: '2' };
  });

  it('on and status from the CLI are seen by this process, and told to its listeners on the next tick', () => {
    const heard: boolean[] = [];
    t.custodian.incident.onChanged((s) => heard.push(s.on));
    const on = runCli(['incident', 'on'], env);
    expect(on.stderr).toBe('');
    expect(on.stdout).toMatch(/^incident mode is on since \S+ \(turned on by cli:\S+\): restores at high sensitivity and above are denied\n$/);
    expect(on.status).toBe(0);
    expect(t.custodian.incident.isOn()).toBe(true);
    t.custodian.tick();
    expect(heard).toEqual([true]);
    expect(t.custodian.audit.list(1).entries[0]).toMatchObject({ event: 'incident_mode_on', actor: expect.stringMatching(/^cli:/), data: { source: 'cli' } });

    const again = runCli(['incident', 'on', '--json'], env);
    expect(JSON.parse(again.stdout)).toMatchObject({ changed: false, state: { on: true } });
    expect(again.status).toBe(0);
    const status = runCli(['incident', 'status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ on: true, changedBy: expect.stringMatching(/^cli:/) });
  });

  it('off runs the critical chain in the terminal, its codes from stdin, then turns it off; exit 0', async () => {
    const codes = twoFactorsThroughCli(env);
    expect(runCli(['incident', 'on'], env).status).toBe(0);
    const off = await answerChain(['incident', 'off'], env, (label) => codes.get(label)?.() ?? '');
    expect(off.stderr).toBe('');
    expect(off.stdout).toMatch(/chain at the critical policy \(random order, 2 steps\)/);
    expect(off.stdout).toContain('chain completed: 2 of 2 steps passed');
    expect(off.stdout).toMatch(/incident mode is off\n$/);
    expect(off.status).toBe(0);
    expect(t.custodian.incident.isOn()).toBe(false);
    const rows = t.custodian.audit.list(3).entries.reverse();
    expect(rows.map((e) => e.event)).toEqual(['mfa_chain_completed', 'mfa_step_up_used', 'incident_mode_off']);
    expect(rows[2]).toMatchObject({ actor: expect.stringMatching(/^cli:/), data: { source: 'cli', stepUp: 'incident:leave' } });
    expect(rows[0]).toMatchObject({ data: { purpose: 'incident:leave', sensitivity: 'critical' } });
    // Off when off: no chain is asked for.
    const again = runCli(['incident', 'off'], env);
    expect(again).toMatchObject({ status: 0, stdout: 'incident mode is off; it already was, nothing changed\n' });
  });

  it('off exits 1 and stays on when a step fails, and the code is in no audit row', async () => {
    const codes = twoFactorsThroughCli(env);
    expect(runCli(['incident', 'on'], env).status).toBe(0);
    const off = await answerChain(['incident', 'off', '--json'], env, (label, i) => (i === 1 ? '271828' : (codes.get(label)?.() ?? '')));
    expect(off.status).toBe(1);
    expect(off.stdout).toBe('');
    expect(off.stderr).toMatch(/step 2 \((Phone|Token)\): The code is invalid\./);
    expect(t.custodian.incident.isOn()).toBe(true);
    expect(JSON.stringify(t.custodian.audit.list(20).entries)).not.toContain('271828');
    expect(t.custodian.audit.list(1).entries[0]?.event).toBe('mfa_chain_reset');
  });
});
