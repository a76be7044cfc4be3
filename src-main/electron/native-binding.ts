import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * better-sqlite3 built for Electron's ABI lives apart from the Node build that tests and the CLI
 * load (`npm run rebuild:electron` writes it), so neither build overwrites the other.
 */
export function electronSqliteBinding(appPath: string): string | undefined {
  const file = join(appPath, '.electron-native', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  return existsSync(file) ? file : undefined;
}
