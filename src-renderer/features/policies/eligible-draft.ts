import { factorDigits, type Factor } from '../../../src-shared/domain/mfa';
import { eligibleFactors, FACTOR_TYPES, type ChainFactor, type FactorType, type Policy } from '../../../src-shared/domain/policy';

/**
 * The approver's active factors as main's chain port lists them (`ORDER BY created_at, id`), so
 * that "any factor of these types" in a fixed order is judged here in the order main walks them.
 * Like main, it leaves out the factors of a method `MFA_METHODS` turned off (issue 12).
 */
export function activeChainFactors(factors: readonly Factor[], turnedOn: readonly FactorType[] = FACTOR_TYPES): ChainFactor[] {
  return factors
    .filter((f) => f.state === 'active' && turnedOn.includes(f.type))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
    .map((f) => ({ id: f.id, type: f.type, label: f.label, digits: factorDigits(f) }));
}

/** Whether the draft names nothing at all (the schema refuses an empty list). */
export function choosesNothing(eligible: Policy['eligible']): boolean {
  return eligible.by === 'types' ? eligible.types.length === 0 : eligible.ids.length === 0;
}

/**
 * What the form shows live before saving: how many active factors the draft admits against the
 * steps it asks for. Main decides again when it saves (ERR-MFA-POLICY-UNSATISFIABLE).
 */
export function satisfiability(draft: Policy, active: readonly ChainFactor[]): { eligible: number; steps: number; met: boolean } {
  const eligible = eligibleFactors(draft, active).length;
  return { eligible, steps: draft.requiredSteps, met: eligible >= draft.requiredSteps };
}

/** Adds or removes a type, keeping FACTOR_TYPES' order so an unchanged choice compares equal. */
export function withType(types: readonly FactorType[], type: FactorType, on: boolean): FactorType[] {
  const chosen = new Set(types);
  if (on) chosen.add(type);
  else chosen.delete(type);
  return FACTOR_TYPES.filter((t) => chosen.has(t));
}

/** Checks a factor (it joins the end of the chain's order) or unchecks it. */
export function withId(ids: readonly string[], id: string, on: boolean): string[] {
  if (on) return ids.includes(id) ? [...ids] : [...ids, id];
  return ids.filter((x) => x !== id);
}

/** Moves a chosen factor one place earlier (-1) or later (+1) in the chain's order; at an end, nothing moves. */
export function movedId(ids: readonly string[], id: string, delta: -1 | 1): string[] {
  const from = ids.indexOf(id);
  const to = from + delta;
  if (from < 0 || to < 0 || to >= ids.length) return [...ids];
  const out = [...ids];
  out[from] = out[to] as string;
  out[to] = id;
  return out;
}
