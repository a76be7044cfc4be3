import { describe, expect, it } from 'vitest';
import {
  defaultPolicies,
  defaultPolicy,
  eligibleFactors,
  isWeakening,
  weakenings,
  type ChainFactor,
  type Policy,
} from '../../src-shared/domain/policy';
import { AppError } from '../../src-shared/errors';
import { admit, drawSteps, startChain, step, type ChainState, type Random } from '../../src-main/services/chain/chain-core';
import { ScriptedRandom, SeededRandom } from '../fixtures/chain-harness';

const f = (n: number, type: ChainFactor['type'] = 'totp'): ChainFactor => ({ id: `f_${'a'.repeat(15)}${n}`, type, label: `Factor ${n}`, digits: 6 });
const FACTORS = [f(2), f(3), f(4), f(5)];
const NOW = Date.UTC(2026, 10, 24, 9, 0, 0);
const policy = (over: Partial<Policy> = {}): Policy => ({ ...defaultPolicy('critical', 60), ...over });
const never: Random = {
  int: () => {
    throw new Error('fixed mode must not draw');
  },
};

function appErrorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof AppError ? error.code : 'not an AppError';
  }
  return undefined;
}

describe('starting a chain', () => {
  it('fixed mode takes the first eligible factors in their order, and never draws', () => {
    const state = startChain(policy({ mode: 'fixed', requiredSteps: 3 }), FACTORS, never, NOW);
    expect(state.steps.map((s) => s.id)).toEqual([FACTORS[0]?.id, FACTORS[1]?.id, FACTORS[2]?.id]);
    expect(state).toMatchObject({ position: 0, status: 'open', backupUsed: false, expiresAt: NOW + 60_000 });
  });

  it('random mode draws the steps from the Random port', () => {
    // Partial Fisher-Yates: index 3 of [2,3,4,5] gives 5 ([5,3,4,2]), then index 1 of [3,4,2] gives 4.
    const state = startChain(policy({ mode: 'random', requiredSteps: 2 }), FACTORS, new ScriptedRandom([3, 1]), NOW);
    expect(state.steps.map((s) => s.id)).toEqual([FACTORS[3]?.id, FACTORS[2]?.id]);
  });

  it('over many attempts, random mode draws every eligible factor at every step and never one twice in a chain', () => {
    const random = new SeededRandom(20261124);
    const counts = new Map<string, number[]>(FACTORS.map((x) => [x.id, [0, 0, 0]]));
    const runs = 4000;
    for (let i = 0; i < runs; i += 1) {
      const steps = startChain(policy({ mode: 'random', requiredSteps: 3 }), FACTORS, random, NOW).steps;
      expect(new Set(steps.map((s) => s.id)).size).toBe(3);
      steps.forEach((s, position) => {
        const row = counts.get(s.id) as number[];
        row[position] = (row[position] ?? 0) + 1;
      });
    }
    // Each of 4 factors at each of 3 positions: expected runs/4 = 1000 times; far from 0 and from all.
    for (const row of counts.values()) {
      for (const n of row) {
        expect(n).toBeGreaterThan(850);
        expect(n).toBeLessThan(1150);
      }
    }
  });

  it('refuses a policy with more steps than eligible factors (ERR-MFA-POLICY-UNSATISFIABLE)', () => {
    expect(appErrorCode(() => startChain(policy({ requiredSteps: 2 }), [f(2)], new ScriptedRandom([0]), NOW))).toBe('ERR-MFA-POLICY-UNSATISFIABLE');
    // The same factor listed twice is still one factor.
    expect(appErrorCode(() => drawSteps('fixed', 2, [f(2), f(2)], never))).toBe('ERR-MFA-POLICY-UNSATISFIABLE');
  });

  it('fails closed when the Random port answers out of range', () => {
    expect(appErrorCode(() => drawSteps('random', 2, FACTORS, { int: (n) => n }))).toBe('ERR-INTERNAL');
    expect(appErrorCode(() => drawSteps('random', 2, FACTORS, { int: () => 0.5 }))).toBe('ERR-INTERNAL');
  });
});

describe('stepping through a chain', () => {
  const fixed = (): ChainState => startChain(policy({ mode: 'fixed', requiredSteps: 3 }), FACTORS, never, NOW);
  const factor = (state: ChainState, i: number) => ({ kind: 'factor' as const, factorId: state.steps[i]?.id ?? '' });

  it('advances step by step in order and completes', () => {
    let state = fixed();
    const a = step(state, factor(state, 0), 'ok', NOW + 1000, never);
    expect(a).toMatchObject({ kind: 'advanced', position: 1 });
    state = a.state;
    const b = step(state, factor(state, 1), 'ok', NOW + 2000, never);
    state = b.state;
    const c = step(state, factor(state, 2), 'ok', NOW + 3000, never);
    expect(c.kind).toBe('completed');
    expect(c.state.status).toBe('completed');
    // A completed attempt takes no further step.
    expect(step(c.state, factor(c.state, 2), 'ok', NOW + 4000, never).kind).toBe('closed');
  });

  it('a step for another factor than the current one is a breach that resets, without looking at the code', () => {
    const state = step(fixed(), factor(fixed(), 0), 'ok', NOW, never).state;
    const breach = admit(state, factor(state, 2), NOW, never);
    expect(breach).toMatchObject({ kind: 'breached', expected: state.steps[1]?.id, submitted: state.steps[2]?.id, redrawn: false });
    expect(breach?.state.position).toBe(0);
    // Even with a right code, an out-of-turn step is a breach.
    expect(step(state, factor(state, 2), 'ok', NOW, never).kind).toBe('breached');
    // A factor that is not in the chain at all, too.
    expect(step(state, { kind: 'factor', factorId: f(9).id }, 'ok', NOW, never).kind).toBe('breached');
  });

  it('any failed step resets to step 1; fixed mode keeps its chain', () => {
    let state = fixed();
    state = step(state, factor(state, 0), 'ok', NOW, never).state;
    state = step(state, factor(state, 1), 'ok', NOW, never).state;
    const failed = step(state, factor(state, 2), 'invalid', NOW, never);
    expect(failed).toMatchObject({ kind: 'failed', reason: 'invalid', at: 2, redrawn: false });
    expect(failed.state.position).toBe(0);
    expect(failed.state.steps).toEqual(state.steps);
    expect(step(state, factor(state, 2), 'replayed', NOW, never)).toMatchObject({ kind: 'failed', reason: 'replayed' });
  });

  it('random mode draws a fresh chain after a failure and after a breach', () => {
    const random = new ScriptedRandom([0, 0, 3, 2, 1, 0]);
    const state = startChain(policy({ mode: 'random', requiredSteps: 2 }), FACTORS, random, NOW);
    expect(state.steps.map((s) => s.id)).toEqual([FACTORS[0]?.id, FACTORS[1]?.id]);
    const failed = step(state, factor(state, 0), 'invalid', NOW, random);
    expect(failed).toMatchObject({ kind: 'failed', redrawn: true });
    expect(failed.state.steps.map((s) => s.id)).toEqual([FACTORS[3]?.id, FACTORS[0]?.id]);
    const breached = step(failed.state, { kind: 'factor', factorId: FACTORS[0]?.id ?? '' }, 'ok', NOW, random);
    expect(breached).toMatchObject({ kind: 'breached', redrawn: true });
    expect(breached.state.steps.map((s) => s.id)).toEqual([FACTORS[1]?.id, FACTORS[0]?.id]);
  });

  it('a backup code stands in for one step per attempt, even after a reset', () => {
    let state = fixed();
    const backed = step(state, { kind: 'backup' }, 'ok', NOW, never);
    expect(backed).toMatchObject({ kind: 'advanced', passed: 'backup', position: 1 });
    state = backed.state;
    expect(state.backupUsed).toBe(true);
    // The second backup code in the attempt is a failed step: reset, and it is not even checked.
    expect(admit(state, { kind: 'backup' }, NOW, never)).toMatchObject({ kind: 'failed', reason: 'backup-spent' });
    const reset = step(state, factor(state, 1), 'invalid', NOW, never).state;
    expect(reset).toMatchObject({ position: 0, backupUsed: true });
    expect(step(reset, { kind: 'backup' }, 'ok', NOW, never)).toMatchObject({ kind: 'failed', reason: 'backup-spent' });
  });

  it('a wrong backup code is a failed step', () => {
    expect(step(fixed(), { kind: 'backup' }, 'invalid', NOW, never)).toMatchObject({ kind: 'failed', reason: 'invalid' });
  });

  it('after expiresAt every step is expired, whatever its code, and the attempt stays closed', () => {
    const state = fixed();
    expect(step(state, factor(state, 0), 'ok', NOW + 59_999, never).kind).toBe('advanced');
    const expired = step(state, factor(state, 0), 'ok', NOW + 60_000, never);
    expect(expired.kind).toBe('expired');
    expect(expired.state.status).toBe('expired');
    expect(step(state, factor(state, 2), 'ok', NOW + 60_000, never).kind).toBe('expired');
    expect(step(expired.state, factor(state, 0), 'ok', NOW, never).kind).toBe('closed');
  });
});

describe('policies', () => {
  it('defaults: one step for low, medium and high, two distinct factors for critical, the configured timeout', () => {
    const byLevel = Object.fromEntries(defaultPolicies(45).map((p) => [p.sensitivity, p]));
    expect(byLevel.low).toMatchObject({ mode: 'fixed', requiredSteps: 1, challengeTimeoutSeconds: 45 });
    expect(byLevel.medium).toMatchObject({ mode: 'fixed', requiredSteps: 1 });
    expect(byLevel.high).toMatchObject({ requiredSteps: 1 });
    expect(byLevel.critical).toMatchObject({ requiredSteps: 2 });
  });

  it('admits factors by type, or by id in the listed order', () => {
    const mixed = [f(2), f(3, 'sms'), f(4)];
    expect(eligibleFactors({ eligible: { by: 'types', types: ['totp'] } }, mixed)).toEqual([f(2), f(4)]);
    expect(eligibleFactors({ eligible: { by: 'ids', ids: [f(4).id, f(2).id, f(7).id] } }, mixed)).toEqual([f(4), f(2)]);
  });

  describe('isWeakening', () => {
    const base = policy({ mode: 'random', requiredSteps: 2, challengeTimeoutSeconds: 60, eligible: { by: 'ids', ids: [f(2).id, f(3).id] } });

    it.each<[string, Partial<Policy>, string[]]>([
      ['fewer steps', { requiredSteps: 1 }, ['fewer-steps']],
      ['fixed instead of random', { mode: 'fixed' }, ['fixed-order']],
      ['a longer timeout', { challengeTimeoutSeconds: 61 }, ['longer-timeout']],
      ['another eligible factor', { eligible: { by: 'ids', ids: [f(2).id, f(3).id, f(4).id] } }, ['more-factors']],
      ['every factor of a type instead of a list', { eligible: { by: 'types', types: ['totp'] } }, ['more-factors']],
      ['all of them at once', { requiredSteps: 1, mode: 'fixed', challengeTimeoutSeconds: 600 }, ['fewer-steps', 'fixed-order', 'longer-timeout']],
    ])('%s is weaker', (_name, change, expected) => {
      expect(weakenings(base, { ...base, ...change })).toEqual(expected);
      expect(isWeakening(base, { ...base, ...change })).toBe(true);
    });

    it.each<[string, Partial<Policy>]>([
      ['the same policy', {}],
      ['more steps', { requiredSteps: 3 }],
      ['a shorter timeout', { challengeTimeoutSeconds: 30 }],
      ['fewer eligible factors', { eligible: { by: 'ids', ids: [f(3).id] } }],
    ])('%s is not weaker', (_name, change) => {
      expect(isWeakening(base, { ...base, ...change })).toBe(false);
    });

    it('random instead of fixed is not weaker; types to ids is judged against the active factors', () => {
      const fixedTypes = policy({ mode: 'fixed', eligible: { by: 'types', types: ['totp'] } });
      expect(isWeakening(fixedTypes, { ...fixedTypes, mode: 'random' })).toBe(false);
      const toIds = { ...fixedTypes, eligible: { by: 'ids' as const, ids: [f(2).id] } };
      expect(isWeakening(fixedTypes, toIds, [f(2), f(3, 'sms')])).toBe(false);
      expect(isWeakening(fixedTypes, { ...toIds, eligible: { by: 'ids', ids: [f(3).id] } }, [f(2), f(3, 'sms')])).toBe(true);
      // Without the active factors to tell, a change of kind counts as weaker (fail secure).
      expect(isWeakening(fixedTypes, toIds)).toBe(true);
    });
  });
});
