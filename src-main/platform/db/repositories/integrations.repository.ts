import type { Database } from '../database';

export interface IntegrationRow {
  id: string;
  name: string;
  keyHash: string;
  createdAt: number;
  revokedAt: number | null;
  mutedUntil: number | null;
}

const COLUMNS = 'id, name, key_hash AS keyHash, created_at AS createdAt, revoked_at AS revokedAt, muted_until AS mutedUntil';

/** SQL for integrations, and nothing else (DESIGN.md "Storage behind repositories"). */
export class IntegrationsRepository {
  readonly #insert;
  readonly #byId;
  readonly #activeByName;
  readonly #all;
  readonly #revoke;
  readonly #mute;
  readonly #unmute;

  constructor(db: Database) {
    this.#insert = db.prepare('INSERT INTO integrations (id, name, key_hash, created_at) VALUES (?, ?, ?, ?)');
    this.#byId = db.prepare(`SELECT ${COLUMNS} FROM integrations WHERE id = ?`);
    this.#activeByName = db.prepare(`SELECT ${COLUMNS} FROM integrations WHERE name = ? AND revoked_at IS NULL`);
    this.#all = db.prepare(`SELECT ${COLUMNS} FROM integrations ORDER BY revoked_at IS NOT NULL, created_at DESC, rowid DESC`);
    this.#revoke = db.prepare('UPDATE integrations SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
    this.#mute = db.prepare('UPDATE integrations SET muted_until = ? WHERE id = ?');
    this.#unmute = db.prepare('UPDATE integrations SET muted_until = NULL WHERE id = ? AND revoked_at IS NULL AND muted_until > ?');
  }

  insert(id: string, name: string, keyHash: string, createdAt: number): void {
    this.#insert.run(id, name, keyHash, createdAt);
  }

  byId(id: string): IntegrationRow | undefined {
    return this.#byId.get(id) as IntegrationRow | undefined;
  }

  activeByName(name: string): IntegrationRow | undefined {
    return this.#activeByName.get(name) as IntegrationRow | undefined;
  }

  all(): IntegrationRow[] {
    return this.#all.all() as IntegrationRow[];
  }

  /** True when this call revoked it (it was active). */
  revoke(id: string, at: number): boolean {
    return this.#revoke.run(at, id).changes === 1;
  }

  mute(id: string, until: number): void {
    this.#mute.run(until, id);
  }

  /** True when this call lifted a mute still running at `now` on an active integration. */
  unmute(id: string, now: number): boolean {
    return this.#unmute.run(id, now).changes === 1;
  }
}
