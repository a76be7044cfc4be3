import { randomInt } from 'node:crypto';
import type { Random } from './chain-core';

/** The Random port on the CSPRNG (uniform, no modulo bias); the composition root passes it in. */
export const cryptoRandom: Random = {
  int: (maxExclusive) => randomInt(maxExclusive),
};
