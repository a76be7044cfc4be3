import type { RequestStatus, Sensitivity } from '../../../../src-shared/domain/restore-request';
import type { Database } from '../database';

export interface RestoreRequestRow {
  id: string;
  integrationId: string;
  integrationName: string;
  requester: string;
  backupId: string;
  target: string;
  sensitivity: Sensitivity;
  reason: string;
  /** JSON text of a string-to-string object. */
  context: string;
  matchCode: number;
  status: RequestStatus;
  reported: 0 | 1;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
  /** The masked source address (migration 010); null for requests stored before it. */
  source: string | null;
}

export type NewRestoreRequest = Omit<RestoreRequestRow, 'integrationName' | 'status' | 'reported' | 'decidedAt' | 'decidedBy'> & {
  /** SHA-256 of the integration id and its Idempotency-Key (migration 004); null without one. */
  idempotencyKey: string | null;
  idempotencyFingerprint: string | null;
};

/** A request found by its Idempotency-Key: enough to answer a retry as the first time. */
export interface IdempotentRow {
  id: string;
  matchCode: number;
  expiresAt: number;
  idempotencyFingerprint: string;
}

const COLUMNS = `r.id, r.integration_id AS integrationId, i.name AS integrationName, r.requester,
  r.backup_id AS backupId, r.target, r.sensitivity, r.reason, r.context, r.match_code AS matchCode,
  r.status, r.reported, r.created_at AS createdAt, r.expires_at AS expiresAt,
  r.decided_at AS decidedAt, r.decided_by AS decidedBy, r.source`;
const FROM = 'FROM restore_requests r JOIN integrations i ON i.id = r.integration_id';

/** SQL for restore requests, and nothing else (DESIGN.md "Storage behind repositories"). */
export class RestoreRequestsRepository {
  readonly #insert;
  readonly #byId;
  readonly #statusOf;
  readonly #pending;
  readonly #history;
  readonly #find;
  readonly #decide;
  readonly #overdue;
  readonly #expire;
  readonly #pendingOf;
  readonly #countPending;
  readonly #byIdempotencyKey;
  readonly #hasLapsedKeys;
  readonly #forgetLapsedKeys;

  constructor(db: Database) {
    this.#insert = db.prepare(`INSERT INTO restore_requests
      (id, integration_id, requester, backup_id, target, sensitivity, reason, context, match_code, status, created_at, expires_at,
       idempotency_key, idempotency_fingerprint, source)
      VALUES (@id, @integrationId, @requester, @backupId, @target, @sensitivity, @reason, @context, @matchCode, 'pending', @createdAt, @expiresAt,
       @idempotencyKey, @idempotencyFingerprint, @source)`);
    this.#byIdempotencyKey = db.prepare(`SELECT id, match_code AS matchCode, expires_at AS expiresAt, idempotency_fingerprint AS idempotencyFingerprint
      FROM restore_requests WHERE integration_id = ? AND idempotency_key = ?`);
    // A key answers retries for its request's lifetime; after that it may name a new request.
    this.#hasLapsedKeys = db.prepare('SELECT 1 FROM restore_requests WHERE idempotency_key IS NOT NULL AND expires_at <= ? LIMIT 1').pluck();
    this.#forgetLapsedKeys = db.prepare(
      'UPDATE restore_requests SET idempotency_key = NULL, idempotency_fingerprint = NULL WHERE idempotency_key IS NOT NULL AND expires_at <= ?',
    );
    this.#byId = db.prepare(`SELECT ${COLUMNS} ${FROM} WHERE r.id = ?`);
    this.#statusOf = db.prepare('SELECT status FROM restore_requests WHERE id = ?').pluck();
    this.#pending = db.prepare(`SELECT ${COLUMNS} ${FROM} WHERE r.status = 'pending' ORDER BY r.seq DESC LIMIT ?`);
    this.#history = db.prepare(
      `SELECT ${COLUMNS} ${FROM} WHERE r.status <> 'pending' ORDER BY COALESCE(r.decided_at, r.expires_at) DESC, r.seq DESC LIMIT ?`,
    );
    // Newest first, of one status or all (`custodian requests list`).
    this.#find = db.prepare(`SELECT ${COLUMNS} ${FROM} WHERE @status IS NULL OR r.status = @status ORDER BY r.seq DESC LIMIT @limit`);
    // Only a pending request can be decided: the WHERE clause is the guard against a second
    // decision made by another process a moment earlier.
    this.#decide = db.prepare(`UPDATE restore_requests SET status = @status, decided_at = @at, decided_by = @by,
      reported = MAX(reported, @reported) WHERE id = @id AND status = 'pending'`);
    this.#overdue = db.prepare(`SELECT ${COLUMNS} ${FROM} WHERE r.status = 'pending' AND r.expires_at <= ? ORDER BY r.seq LIMIT ?`);
    this.#expire = db.prepare(
      `UPDATE restore_requests SET status = 'expired', decided_at = expires_at WHERE id = ? AND status = 'pending'`,
    );
    this.#pendingOf = db.prepare(`SELECT r.id ${FROM} WHERE r.integration_id = ? AND r.status = 'pending' ORDER BY r.seq`).pluck();
    this.#countPending = db.prepare(`SELECT COUNT(*) FROM restore_requests WHERE status = 'pending'`).pluck();
  }

  insert(row: NewRestoreRequest): void {
    this.#insert.run(row);
  }

  byId(id: string): RestoreRequestRow | undefined {
    return this.#byId.get(id) as RestoreRequestRow | undefined;
  }

  statusOf(id: string): RequestStatus | undefined {
    return this.#statusOf.get(id) as RequestStatus | undefined;
  }

  pending(limit: number): RestoreRequestRow[] {
    return this.#pending.all(limit) as RestoreRequestRow[];
  }

  history(limit: number): RestoreRequestRow[] {
    return this.#history.all(limit) as RestoreRequestRow[];
  }

  find(status: RequestStatus | null, limit: number): RestoreRequestRow[] {
    return this.#find.all({ status, limit }) as RestoreRequestRow[];
  }

  /** True when this call decided it (it was still pending). */
  decide(id: string, status: 'approved' | 'denied', at: number, by: string, reported: boolean): boolean {
    return this.#decide.run({ id, status, at, by, reported: reported ? 1 : 0 }).changes === 1;
  }

  overdue(now: number, limit: number): RestoreRequestRow[] {
    return this.#overdue.all(now, limit) as RestoreRequestRow[];
  }

  expire(id: string): boolean {
    return this.#expire.run(id).changes === 1;
  }

  pendingIdsOf(integrationId: string): string[] {
    return this.#pendingOf.all(integrationId) as string[];
  }

  byIdempotencyKey(integrationId: string, idempotencyKey: string): IdempotentRow | undefined {
    return this.#byIdempotencyKey.get(integrationId, idempotencyKey) as IdempotentRow | undefined;
  }

  /** Frees the Idempotency-Keys of requests past their lifetime; a read first, so most ticks write nothing. */
  forgetLapsedIdempotencyKeys(now: number): void {
    if (this.#hasLapsedKeys.get(now) !== undefined) this.#forgetLapsedKeys.run(now);
  }

  countPending(): number {
    return this.#countPending.get() as number;
  }
}
