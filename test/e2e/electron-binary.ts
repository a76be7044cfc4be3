import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The Electron binary's path when one is installed; undefined where the download was skipped. */
export function electronBinary(): string | undefined {
  try {
    const path = createRequire(__filename)('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}
