import { assertNever } from '../../../../src-shared/assert-never';
import { factorParamsSchema, type Factor, type FactorParams, type FactorState } from '../../../../src-shared/domain/mfa';
import { AppError } from '../../../../src-shared/errors';
import type { Database } from '../database';

/** What proved the right to add a factor (issue 9, item 4); see migration 005. */
export type EnrolledWith = 'setup' | 'authenticator' | 'recovery';

interface FactorRow {
  id: string;
  profileId: string;
  label: string;
  state: FactorState;
  createdAt: string;
  pendingExpiresAt: number | null;
  secretShown: number;
  confirmedAt: string | null;
  lastUsedStep: number;
  lastUsedAt: string | null;
  enrolledWith: EnrolledWith;
  /** Epoch ms when a recovery factor gets full rights; null for every other factor. */
  recoveryUntil: number | null;
}

/** A factor row with its type's parameters (migration 006), discriminated by `type`. */
export type FactorRecord = FactorRow & FactorParams;

const COLUMNS = `id, profile_id AS profileId, type, params, label, state, created_at AS createdAt,
  pending_expires_at AS pendingExpiresAt, secret_shown AS secretShown, confirmed_at AS confirmedAt,
  last_used_step AS lastUsedStep, last_used_at AS lastUsedAt, enrolled_with AS enrolledWith, recovery_until AS recoveryUntil`;

/** Whether the factor is a recovery factor still in its delay at `nowMs` (issue 9, item 4). */
export function inRecovery(r: Pick<FactorRecord, 'state' | 'enrolledWith' | 'recoveryUntil'>, nowMs: number): boolean {
  if (r.enrolledWith !== 'recovery') return false;
  // A pending one will become a recovery factor; an active one is one until its delay ends.
  return r.state === 'pending' || (r.recoveryUntil ?? Number.POSITIVE_INFINITY) > nowMs;
}

/** The type's parameters of a record, without the row's other fields. */
export function factorParams(r: FactorRecord): FactorParams {
  switch (r.type) {
    case 'totp':
      return { type: r.type, digits: r.digits, period: r.period, algorithm: r.algorithm };
    case 'sms':
      return { type: r.type, phoneMasked: r.phoneMasked };
    case 'push':
      return { type: r.type };
    default:
      return assertNever(r);
  }
}

export function toFactor(r: FactorRecord, nowMs: number): Factor {
  const recovery = r.state !== 'disabled' && inRecovery(r, nowMs);
  return {
    id: r.id,
    ...factorParams(r),
    label: r.label,
    state: r.state,
    createdAt: r.createdAt,
    confirmedAt: r.confirmedAt,
    lastUsedAt: r.lastUsedAt,
    pendingExpiresAt: r.pendingExpiresAt === null ? null : new Date(r.pendingExpiresAt).toISOString(),
    recovery,
    recoveryUntil: recovery && r.recoveryUntil !== null ? new Date(r.recoveryUntil).toISOString() : null,
  };
}

export class FactorsRepository {
  readonly #byId;
  readonly #visible;
  readonly #active;
  readonly #expiredPending;
  readonly #all;
  readonly #insert;
  readonly #activate;
  readonly #markShown;
  readonly #rename;
  readonly #disable;
  readonly #delete;
  readonly #used;
  readonly #setEnrolledWith;

  constructor(db: Database) {
    this.#byId = db.prepare(`SELECT ${COLUMNS} FROM factors WHERE id = ? AND profile_id = ?`);
    this.#visible = db.prepare(`SELECT ${COLUMNS} FROM factors WHERE profile_id = ? AND state != 'disabled' ORDER BY created_at, id`);
    this.#active = db.prepare(`SELECT ${COLUMNS} FROM factors WHERE profile_id = ? AND state = 'active' ORDER BY created_at, id`);
    this.#expiredPending = db.prepare(`SELECT ${COLUMNS} FROM factors WHERE state = 'pending' AND pending_expires_at <= ?`);
    this.#all = db.prepare(`SELECT ${COLUMNS} FROM factors ORDER BY created_at, id`);
    this.#insert = db.prepare(
      `INSERT INTO factors (id, profile_id, type, params, label, state, created_at, pending_expires_at, enrolled_with)
       VALUES (@id, @profileId, @type, @params, @label, 'pending', @createdAt, @pendingExpiresAt, @enrolledWith)`,
    );
    // A recovery factor's delay starts when it is confirmed: only then can it verify anything.
    this.#activate = db.prepare(
      `UPDATE factors SET state = 'active', confirmed_at = ?, pending_expires_at = NULL, last_used_step = ?, last_used_at = ?,
         recovery_until = CASE WHEN enrolled_with = 'recovery' THEN ? ELSE NULL END
       WHERE id = ? AND state = 'pending'`,
    );
    this.#setEnrolledWith = db.prepare("UPDATE factors SET enrolled_with = ? WHERE id = ? AND state = 'pending'");
    this.#markShown = db.prepare("UPDATE factors SET secret_shown = 1 WHERE id = ? AND state = 'pending' AND secret_shown = 0");
    this.#rename = db.prepare("UPDATE factors SET label = ? WHERE id = ? AND state != 'disabled'");
    this.#disable = db.prepare("UPDATE factors SET state = 'disabled', disabled_at = ? WHERE id = ? AND state = 'active'");
    this.#delete = db.prepare("DELETE FROM factors WHERE id = ? AND state = 'pending'");
    this.#used = db.prepare(
      "UPDATE factors SET last_used_step = ?, last_used_at = ? WHERE id = ? AND state = 'active' AND last_used_step < ?",
    );
  }

  get(profileId: string, id: string): FactorRecord | undefined {
    const row = this.#byId.get(id, profileId) as StoredRow | undefined;
    return row && fromRow(row);
  }

  visible(profileId: string): FactorRecord[] {
    return (this.#visible.all(profileId) as StoredRow[]).map(fromRow);
  }

  active(profileId: string): FactorRecord[] {
    return (this.#active.all(profileId) as StoredRow[]).map(fromRow);
  }

  /** Every factor of every profile, disabled ones included: the startup cleanup's view. */
  all(): FactorRecord[] {
    return (this.#all.all() as StoredRow[]).map(fromRow);
  }

  expiredPending(nowMs: number): FactorRecord[] {
    return (this.#expiredPending.all(nowMs) as StoredRow[]).map(fromRow);
  }

  insertPending(
    f: Pick<FactorRow, 'id' | 'profileId' | 'label' | 'createdAt' | 'enrolledWith'> & { params: FactorParams; pendingExpiresAt: number },
  ): void {
    const { type, ...params } = f.params;
    this.#insert.run({ id: f.id, profileId: f.profileId, type, params: JSON.stringify(params), label: f.label, createdAt: f.createdAt, pendingExpiresAt: f.pendingExpiresAt, enrolledWith: f.enrolledWith });
  }

  /** `recoveryUntil` applies only to a factor enrolled by recovery. */
  activate(id: string, confirmedAt: string, step: number, recoveryUntil: number): boolean {
    return this.#activate.run(confirmedAt, step, confirmedAt, recoveryUntil, id).changes === 1;
  }

  /** A resumed enrollment is owed to the proof given when it was resumed. */
  setEnrolledWith(id: string, enrolledWith: EnrolledWith): boolean {
    return this.#setEnrolledWith.run(enrolledWith, id).changes === 1;
  }

  /** True only the first time: the secret is shown once per enrollment. */
  markSecretShown(id: string): boolean {
    return this.#markShown.run(id).changes === 1;
  }

  rename(id: string, label: string): boolean {
    return this.#rename.run(label, id).changes === 1;
  }

  disable(id: string, at: string): boolean {
    return this.#disable.run(at, id).changes === 1;
  }

  deletePending(id: string): boolean {
    return this.#delete.run(id).changes === 1;
  }

  /** Moves the replay floor forward, never back (RFC 6238 §5.2), and only on an active factor. */
  markUsed(id: string, step: number, at: string): boolean {
    return this.#used.run(step, at, id, step).changes === 1;
  }
}

/** A row as SQLite returns it: the type and its parameters as JSON text. */
type StoredRow = FactorRow & { type: string; params: string };

/**
 * A row's type and parameters, checked: a type this version has no method for, or parameters
 * that do not fit it, make the factor unusable (ERR-INTERNAL) rather than a guess (fail closed).
 */
function fromRow(row: StoredRow): FactorRecord {
  const { type, params, ...rest } = row;
  let parsed: unknown;
  try {
    parsed = JSON.parse(params);
  } catch {
    throw new AppError('ERR-INTERNAL');
  }
  const checked = factorParamsSchema.safeParse({ ...(parsed as object), type });
  if (!checked.success) throw new AppError('ERR-INTERNAL');
  return { ...rest, ...checked.data };
}
