import type { Database } from '../database';

export interface RestoreTokenRow {
  id: string;
  requestId: string;
  integrationId: string;
  requester: string;
  backupId: string;
  target: string;
  /** SHA-256 (hex) of the raw token, once its requester has collected it; NULL before. */
  tokenHash: string | null;
  ttlSeconds: number;
  issuedAt: number;
  expiresAt: number;
  deliveredAt: number | null;
  redeemedAt: number | null;
  revokedAt: number | null;
  revokedBy: string | null;
}

export type NewRestoreToken = Pick<RestoreTokenRow, 'id' | 'requestId' | 'integrationId' | 'requester' | 'backupId' | 'target' | 'ttlSeconds' | 'issuedAt' | 'expiresAt'>;

const COLUMNS = `id, request_id AS requestId, integration_id AS integrationId, requester, backup_id AS backupId, target,
  token_hash AS tokenHash, ttl_seconds AS ttlSeconds, issued_at AS issuedAt, expires_at AS expiresAt,
  delivered_at AS deliveredAt, redeemed_at AS redeemedAt, revoked_at AS revokedAt, revoked_by AS revokedBy`;

/** SQL for restore tokens, and nothing else (DESIGN.md "Storage behind repositories"). */
export class RestoreTokensRepository {
  readonly #insert;
  readonly #byRequest;
  readonly #byHash;
  readonly #deliver;
  readonly #redeem;
  readonly #revoke;
  readonly #lapsed;
  readonly #delete;

  constructor(db: Database) {
    this.#insert = db.prepare(`INSERT INTO restore_tokens
      (id, request_id, integration_id, requester, backup_id, target, token_hash, ttl_seconds, issued_at, expires_at)
      VALUES (@id, @requestId, @integrationId, @requester, @backupId, @target, NULL, @ttlSeconds, @issuedAt, @expiresAt)`);
    this.#byRequest = db.prepare(`SELECT ${COLUMNS} FROM restore_tokens WHERE request_id = ?`);
    this.#byHash = db.prepare(`SELECT ${COLUMNS} FROM restore_tokens WHERE token_hash = ?`);
    // Delivered once (STYLE.md "Guards in SQL"): only the reader whose UPDATE finds the hash still
    // NULL stores one, so of two long-polls (or two processes) exactly one gets the raw token.
    this.#deliver = db.prepare(`UPDATE restore_tokens SET token_hash = @hash, delivered_at = @now
      WHERE request_id = @requestId AND token_hash IS NULL AND revoked_at IS NULL AND redeemed_at IS NULL AND expires_at > @now`);
    // Redeemed once: the same guard for the redeem, so of two concurrent redeems one wins.
    this.#redeem = db.prepare(`UPDATE restore_tokens SET redeemed_at = @now
      WHERE id = @id AND redeemed_at IS NULL AND revoked_at IS NULL AND expires_at > @now`);
    this.#revoke = db.prepare(`UPDATE restore_tokens SET revoked_at = @now, revoked_by = @by
      WHERE id = @id AND redeemed_at IS NULL AND revoked_at IS NULL AND expires_at > @now`);
    this.#lapsed = db.prepare(`SELECT ${COLUMNS} FROM restore_tokens WHERE expires_at <= ? ORDER BY expires_at LIMIT ?`);
    this.#delete = db.prepare('DELETE FROM restore_tokens WHERE id = ? AND expires_at <= ?');
  }

  insert(row: NewRestoreToken): void {
    this.#insert.run(row);
  }

  byRequest(requestId: string): RestoreTokenRow | undefined {
    return this.#byRequest.get(requestId) as RestoreTokenRow | undefined;
  }

  byHash(hash: string): RestoreTokenRow | undefined {
    return this.#byHash.get(hash) as RestoreTokenRow | undefined;
  }

  /** True when this call stored the hash: its caller alone may hand the raw token out. */
  deliver(requestId: string, hash: string, now: number): boolean {
    return this.#deliver.run({ requestId, hash, now }).changes === 1;
  }

  /** True when this call redeemed the token (it was live and unredeemed). */
  redeem(id: string, now: number): boolean {
    return this.#redeem.run({ id, now }).changes === 1;
  }

  /** True when this call revoked the token (it was live and unredeemed). */
  revoke(id: string, now: number, by: string): boolean {
    return this.#revoke.run({ id, now, by }).changes === 1;
  }

  /** Tokens whose life ended at or before `before`, oldest first. */
  lapsed(before: number, limit: number): RestoreTokenRow[] {
    return this.#lapsed.all(before, limit) as RestoreTokenRow[];
  }

  /** True when this call deleted it (another process may have purged it a moment ago). */
  delete(id: string, before: number): boolean {
    return this.#delete.run(id, before).changes === 1;
  }
}
