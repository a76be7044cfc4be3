import type { Clock } from '../../clock';

export interface RateLimitSettings {
  burst: number;
  refillPerMinute: number;
}

/**
 * One token bucket per integration (issue #5): up to `burst` requests at once, refilled
 * continuously at `refillPerMinute`. Time comes from the injected clock, so tests are exact; the
 * state is a number pair per integration, not a timer.
 */
export class RateLimiter {
  readonly #clock: Clock;
  readonly #settings: RateLimitSettings;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(clock: Clock, settings: RateLimitSettings) {
    this.#clock = clock;
    this.#settings = settings;
  }

  /** Takes one token; answers how long to wait when there is none. */
  take(key: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const now = this.#clock.now();
    const perMs = this.#settings.refillPerMinute / 60_000;
    const bucket = this.#buckets.get(key) ?? { tokens: this.#settings.burst, at: now };
    const tokens = Math.min(this.#settings.burst, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
    if (tokens >= 1) {
      this.#buckets.set(key, { tokens: tokens - 1, at: now });
      return { ok: true };
    }
    this.#buckets.set(key, { tokens, at: now });
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
  }
}
