import { describe, expect, it } from 'vitest';
import type { Factor } from '../../src-shared/domain/mfa';
import { ENROLLABLE_FACTOR_TYPES } from '../../src-shared/domain/mfa';
import { defaultPolicy, weakenings, type Policy } from '../../src-shared/domain/policy';
import { activeChainFactors, choosesNothing, movedId, satisfiability, withId, withType } from '../../src-renderer/features/policies/eligible-draft';

function factor(id: string, label: string, createdAt: string, state: Factor['state'] = 'active'): Factor {
  return {
    id,
    label,
    state,
    type: 'totp',
    digits: 6,
    period: 30,
    algorithm: 'SHA1',
    createdAt,
    confirmedAt: createdAt,
    lastUsedAt: null,
    pendingExpiresAt: null,
    recovery: false,
    recoveryUntil: null,
  };
}

const phone = factor('f_aaaaaaaaaaaaaaaa', 'Work phone', '2026-01-01T10:00:00.000Z');
const tablet = factor('f_bbbbbbbbbbbbbbbb', 'Tablet', '2026-01-02T10:00:00.000Z');
const old = factor('f_cccccccccccccccc', 'Old phone', '2025-12-01T10:00:00.000Z', 'disabled');
const pending = factor('f_dddddddddddddddd', 'New phone', '2026-01-03T10:00:00.000Z', 'pending');

describe("the Policies form's eligible factors", () => {
  it('offers only the types a factor method exists for (all three in this build)', () => {
    expect(ENROLLABLE_FACTOR_TYPES).toEqual(['totp', 'sms', 'push']);
  });

  it('judges a draft against the active factors only, in the order main walks them', () => {
    const active = activeChainFactors([tablet, pending, old, phone]);
    expect(active.map((f) => f.label)).toEqual(['Work phone', 'Tablet']);
    const medium = defaultPolicy('medium', 60);
    expect(satisfiability(medium, active)).toEqual({ eligible: 2, steps: 1, met: true });
    // A disabled factor named by id does not count.
    expect(satisfiability({ ...medium, requiredSteps: 2, eligible: { by: 'ids', ids: [tablet.id, old.id] } }, active)).toEqual({ eligible: 1, steps: 2, met: false });
  });

  it('orders the named factors: a checked one joins the end, up and down swap neighbours, the ends stay put', () => {
    const ids = withId(withId([], phone.id, true), tablet.id, true);
    expect(ids).toEqual([phone.id, tablet.id]);
    expect(movedId(ids, tablet.id, -1)).toEqual([tablet.id, phone.id]);
    expect(movedId(ids, phone.id, 1)).toEqual([tablet.id, phone.id]);
    expect(movedId(ids, phone.id, -1)).toEqual(ids);
    expect(movedId(ids, tablet.id, 1)).toEqual(ids);
    expect(withId(ids, phone.id, false)).toEqual([tablet.id]);
    expect(withId(ids, phone.id, true)).toEqual(ids);
  });

  it('keeps the types in one order, so unchecking and checking one again is no change', () => {
    expect(withType(withType(['totp', 'sms'], 'totp', false), 'totp', true)).toEqual(['totp', 'sms']);
    expect(choosesNothing({ by: 'types', types: withType(['totp'], 'totp', false) })).toBe(true);
  });

  it('treats switching to the same factors by id as no weakening, and back to types as one', () => {
    const active = activeChainFactors([phone, tablet]);
    const byType: Policy = defaultPolicy('medium', 60);
    const byIds: Policy = { ...byType, eligible: { by: 'ids', ids: [tablet.id] } };
    expect(weakenings(byType, { ...byType, eligible: { by: 'ids', ids: [phone.id, tablet.id] } }, active)).toEqual([]);
    expect(weakenings(byType, byIds, active)).toEqual([]);
    expect(weakenings(byIds, byType, active)).toEqual(['more-factors']);
  });
});
