/**
 * Failed-attempt bookkeeping per profile and source: `maxAttempts` failures within `windowMs`,
 * then a block that doubles with each further failure (30 s, 1 min, 2 min, ... up to an hour),
 * as Okta and Duo throttle verification. Pure: the caller persists the state it gets back.
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
