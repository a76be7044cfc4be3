import type { Database } from '../database';

export interface BackupCodeRecord {
  id: number;
  mac: string;
  hint: string;
  expiresAt: number;
}

export class BackupCodesRepository {
  readonly #usable;
  readonly #insert;
  readonly #use;
  readonly #retire;

  constructor(db: Database) {
    this.#usable = db.prepare(
      'SELECT id, mac, hint, expires_at AS expiresAt FROM backup_codes WHERE profile_id = ? AND used_at IS NULL AND expires_at > ? ORDER BY id',
    );
    this.#insert = db.prepare('INSERT INTO backup_codes (profile_id, mac, hint, created_at, expires_at) VALUES (?, ?, ?, ?, ?)');
    this.#use = db.prepare('UPDATE backup_codes SET used_at = ? WHERE id = ? AND used_at IS NULL');
    // Retired codes keep no MAC: nothing of an old code outlives it.
    this.#retire = db.prepare("DELETE FROM backup_codes WHERE profile_id = ?");
  }

  usable(profileId: string, nowMs: number): BackupCodeRecord[] {
    return this.#usable.all(profileId, nowMs) as BackupCodeRecord[];
  }

  replaceAll(profileId: string, codes: { mac: string; hint: string }[], createdAt: string, expiresAt: number): void {
    this.#retire.run(profileId);
    for (const code of codes) this.#insert.run(profileId, code.mac, code.hint, createdAt, expiresAt);
  }

  use(id: number, at: string): boolean {
    return this.#use.run(at, id).changes === 1;
  }

  retireAll(profileId: string): void {
    this.#retire.run(profileId);
  }
}
