import type BetterSqlite3 from 'better-sqlite3';
import { m001AuditAndSettings } from './001-audit-and-settings';
import { m003Gateway } from './003-gateway';

export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: BetterSqlite3.Database): void;
}

/** Numbered, append-only: a shipped migration is never edited, only followed by a new one. */
export const migrations: readonly Migration[] = [
  m001AuditAndSettings,
  // 002 is reserved for the MFA issue (#4), developed on another branch; it lands here on merge.
  // migrate() applies every version above the database's own, so 003 runs without it.
  m003Gateway,
];
