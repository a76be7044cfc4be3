/**
 * Attempt bookkeeping per profile: `maxAttempts` attempts within `windowMs`, then a block that
 * doubles with each further failure (30 s, 1 min, 2 min, ... up to an hour), as Okta and Duo
 * throttle verification. Pure: the caller persists the state it gets back.
 *
 * An attempt is counted when it starts, not when it fails (issue 9, item 3): the caller takes a
 * slot before it checks anything, so concurrent checks can never outnumber the limit; a success
 * clears the count, which releases the slot it took.
 */
export interface AttemptState {
  windowStart: number;
  failures: number;
  lockouts: number;
  blockedUntil: number;
}

export interface AttemptPolicy {
  maxAttempts: number;
  windowMs: number;
}

export const FIRST_BLOCK_MS = 30_000;
export const MAX_BLOCK_MS = 3_600_000;

/** Seconds until the next attempt is allowed, or 0 when it is allowed now. */
export function retryAfterSeconds(state: AttemptState | undefined, nowMs: number): number {
  if (!state || state.blockedUntil <= nowMs) return 0;
  return Math.ceil((state.blockedUntil - nowMs) / 1000);
}

export function afterFailure(
  previous: AttemptState | undefined,
  nowMs: number,
  policy: AttemptPolicy,
): { state: AttemptState; blockedNow: boolean } {
  let state = previous ?? { windowStart: nowMs, failures: 0, lockouts: 0, blockedUntil: 0 };
  if (nowMs - state.windowStart >= policy.windowMs && state.blockedUntil <= nowMs) {
    // A new window. The backoff only forgets after a whole quiet window since the last block.
    const quiet = nowMs - state.blockedUntil >= policy.windowMs;
    state = { windowStart: nowMs, failures: 0, lockouts: quiet ? 0 : state.lockouts, blockedUntil: 0 };
  }
  const failures = state.failures + 1;
  if (failures < policy.maxAttempts) return { state: { ...state, failures }, blockedNow: false };
  const blockMs = Math.min(FIRST_BLOCK_MS * 2 ** state.lockouts, MAX_BLOCK_MS);
  return { state: { ...state, failures, lockouts: state.lockouts + 1, blockedUntil: nowMs + blockMs }, blockedNow: true };
}

/** A slot to check one code, or the refusal: the profile is blocked for `retryAfterSeconds`. */
export type AttemptSlot =
  | { ok: true; state: AttemptState; blockedNow: boolean }
  | { ok: false; retryAfterSeconds: number };

/**
 * Takes the slot for one check, counting it as a failure until a success clears the count. The
 * slot that reaches `maxAttempts` brings the block with it, so no check can start after it, even
 * while the checks before it are still waiting on the keychain.
 */
export function takeAttempt(previous: AttemptState | undefined, nowMs: number, policy: AttemptPolicy): AttemptSlot {
  const wait = retryAfterSeconds(previous, nowMs);
  if (wait > 0) return { ok: false, retryAfterSeconds: wait };
  return { ok: true, ...afterFailure(previous, nowMs, policy) };
}
