import { createHash, randomBytes, randomInt } from 'node:crypto';

/**
 * Injected randomness (STYLE.md rule 6), beside `Clock`: services take their secrets, ids and
 * backup codes from here, never from node:crypto directly, so a test can make them repeatable
 * with a `TestRandom`. The app always runs on `cryptoRandom` (the composition root's default).
 */
export interface Random {
  /** `n` random bytes. */
  bytes(n: number): Buffer;
  /** A uniform integer in [0, max); `max` is a positive safe integer. */
  int(max: number): number;
}

/** The CSPRNG: OpenSSL by way of node:crypto. */
export const cryptoRandom: Random = {
  bytes: (n) => randomBytes(n),
  int: (max) => randomInt(max),
};

/**
 * Deterministic, for tests only: SHA-256 in counter mode over a seed, so one seed gives one
 * sequence on every machine, and two seeds give unrelated ones. Not for secrets anyone keeps.
 */
export class TestRandom implements Random {
  readonly #seed: string;
  #counter = 0;
  #buffer = Buffer.alloc(0);

  constructor(seed: string | number = 1) {
    this.#seed = String(seed);
  }

  bytes(n: number): Buffer {
    while (this.#buffer.length < n) {
      const block = createHash('sha256').update(`${this.#seed}:${this.#counter++}`).digest();
      this.#buffer = Buffer.concat([this.#buffer, block]);
    }
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return Buffer.from(out);
  }

  int(max: number): number {
    if (!Number.isSafeInteger(max) || max <= 0) throw new RangeError('max must be a positive safe integer');
    // Rejection sampling on 48 bits, as crypto.randomInt does: no bias towards small values.
    const range = 2 ** 48;
    const limit = range - (range % max);
    for (;;) {
      const value = this.bytes(6).readUIntBE(0, 6);
      if (value < limit) return value % max;
    }
  }
}
