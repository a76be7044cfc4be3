import type { PushStatus } from '../../../../src-shared/domain/push';
import type { Sensitivity } from '../../../../src-shared/domain/restore-request';
import type { Database } from '../database';

/** A push as stored (migration 012): the right number only as its HMAC. */
export interface PushChallengeRecord {
  id: string;
  factorId: string;
  profileId: string;
  attemptId: string | null;
  purpose: string;
  sensitivity: Sensitivity | null;
  source: string;
  startedBy: string;
  choices: number[];
  numberMac: Buffer;
  status: PushStatus;
  createdAt: number;
  expiresAt: number;
  answeredAt: number | null;
}

type StoredRow = Omit<PushChallengeRecord, 'choices'> & { choices: string };

const COLUMNS = `id, factor_id AS factorId, profile_id AS profileId, attempt_id AS attemptId, purpose, sensitivity, source,
  started_by AS startedBy, choices, number_mac AS numberMac, status, created_at AS createdAt, expires_at AS expiresAt,
  answered_at AS answeredAt`;

export type RaiseResult = { ok: true; superseded: string[] } | { ok: false; oldest: number };

/** Pushes raised, answered and used (issue 12); every move of a row is a guarded UPDATE. */
export class PushChallengesRepository {
  readonly #get;
  readonly #latest;
  readonly #pending;
  readonly #overdue;
  readonly #supersede;
  readonly #withdrawFor;
  readonly #insert;
  readonly #window;
  readonly #move;
  readonly #expire;
  readonly #purge;
  readonly #raise;

  constructor(db: Database) {
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM push_challenges WHERE id = ?`);
    this.#latest = db.prepare(
      `SELECT ${COLUMNS} FROM push_challenges WHERE factor_id = ? AND attempt_id IS ? AND status <> 'superseded'
       ORDER BY created_at DESC, rowid DESC LIMIT 1`,
    );
    this.#pending = db.prepare(
      `SELECT ${COLUMNS} FROM push_challenges WHERE profile_id = ? AND status = 'pending' AND expires_at > ? ORDER BY created_at, rowid`,
    );
    this.#overdue = db.prepare(`SELECT ${COLUMNS} FROM push_challenges WHERE status = 'pending' AND expires_at <= ?`);
    this.#supersede = db.prepare(`UPDATE push_challenges SET status = 'superseded' WHERE factor_id = ? AND status = 'pending' RETURNING id`);
    this.#withdrawFor = db.prepare(
      `UPDATE push_challenges SET status = 'superseded' WHERE factor_id = ? AND attempt_id = ? AND status = 'pending' RETURNING id`,
    );
    this.#insert = db.prepare(
      `INSERT INTO push_challenges (id, factor_id, profile_id, attempt_id, purpose, sensitivity, source, started_by, choices,
         number_mac, status, created_at, expires_at, answered_at)
       VALUES (@id, @factorId, @profileId, @attemptId, @purpose, @sensitivity, @source, @startedBy, @choices, @numberMac,
         'pending', @createdAt, @expiresAt, NULL)`,
    );
    this.#window = db.prepare('SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM push_challenges WHERE factor_id = ? AND created_at > ?');
    this.#move = db.prepare(
      `UPDATE push_challenges SET status = @to, answered_at = coalesce(answered_at, @now)
       WHERE id = @id AND status = @from AND (@from <> 'pending' OR expires_at > @now)`,
    );
    this.#expire = db.prepare(`UPDATE push_challenges SET status = 'expired' WHERE id = ? AND status = 'pending' AND expires_at <= ?`);
    this.#purge = db.prepare(`DELETE FROM push_challenges WHERE created_at <= ? AND status <> 'pending'`);
    // Counting, superseding and inserting under one write lock: two processes raising pushes for
    // one factor cannot both pass the limit, and only the newest push stays pending.
    this.#raise = db.transaction((record: PushChallengeRecord, windowMs: number, max: number): RaiseResult => {
      const since = record.createdAt - windowMs;
      const { n, oldest } = this.#window.get(record.factorId, since) as { n: number; oldest: number | null };
      if (n >= max) return { ok: false, oldest: oldest ?? record.createdAt };
      const superseded = (this.#supersede.all(record.factorId) as { id: string }[]).map((r) => r.id);
      this.#insert.run({ ...record, choices: JSON.stringify(record.choices) });
      return { ok: true, superseded };
    });
  }

  get(id: string): PushChallengeRecord | undefined {
    return parse(this.#get.get(id) as StoredRow | undefined);
  }

  /** The newest push for a factor and a chain attempt (null: the push confirming an enrollment). */
  latest(factorId: string, attemptId: string | null): PushChallengeRecord | undefined {
    return parse(this.#latest.get(factorId, attemptId) as StoredRow | undefined);
  }

  /** The profile's pushes waiting for an answer, oldest first. */
  pending(profileId: string, nowMs: number): PushChallengeRecord[] {
    return (this.#pending.all(profileId, nowMs) as StoredRow[]).map((row) => parse(row) as PushChallengeRecord);
  }

  /** Pending pushes whose time ran out, for the sweep to record as ignored. */
  overdue(nowMs: number): PushChallengeRecord[] {
    return (this.#overdue.all(nowMs) as StoredRow[]).map((row) => parse(row) as PushChallengeRecord);
  }

  /**
   * Records a new pending push, superseding the factor's pending one, unless `max` pushes were
   * raised for the factor within `windowMs` (push fatigue: one cannot flood the approver).
   */
  raise(record: PushChallengeRecord, windowMs: number, max: number): RaiseResult {
    return this.#raise.immediate(record, windowMs, max);
  }

  /** Moves a push from `from` to `to`: true for the one caller that moved it. A pending push must be live. */
  move(id: string, from: PushStatus, to: PushStatus, nowMs: number): boolean {
    return this.#move.run({ id, from, to, now: nowMs }).changes === 1;
  }

  /** Withdraws a factor's waiting push (the factor is being disabled); answers how many. */
  withdraw(factorId: string): number {
    return this.#supersede.all(factorId).length;
  }

  /** Withdraws the factor's waiting push for one chain attempt (a backup code stood in for its step); answers how many. */
  withdrawFor(factorId: string, attemptId: string): number {
    return this.#withdrawFor.all(factorId, attemptId).length;
  }

  /** A pending push past its time becomes `expired`: true for the one caller that moved it. */
  expire(id: string, nowMs: number): boolean {
    return this.#expire.run(id, nowMs).changes === 1;
  }

  /** Drops ended pushes raised before `beforeMs`; the audit log keeps their story. */
  purge(beforeMs: number): number {
    return this.#purge.run(beforeMs).changes;
  }
}

function parse(row: StoredRow | undefined): PushChallengeRecord | undefined {
  if (!row) return undefined;
  const choices: unknown = JSON.parse(row.choices);
  return { ...row, choices: Array.isArray(choices) ? choices.filter((c): c is number => typeof c === 'number') : [] };
}
