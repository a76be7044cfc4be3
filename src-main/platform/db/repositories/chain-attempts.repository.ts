import { z } from 'zod';
import { chainFactorSchema, type ChainMode } from '../../../../src-shared/domain/policy';
import type { Sensitivity } from '../../../../src-shared/domain/restore-request';
import { AppError } from '../../../../src-shared/errors';
import type { ChainState, ChainStatus } from '../../../services/chain/chain-core';
import type { Database } from '../database';

/** A chain attempt as stored (migrations 007 and 008): its state, plus what it is for and its version. */
export interface ChainAttemptRecord {
  id: string;
  purpose: string;
  sensitivity: Sensitivity;
  createdAt: number;
  /** Bumped by every change; a change lands only on the version it was computed from. */
  version: number;
  state: ChainState;
}

interface AttemptRow {
  id: string;
  purpose: string;
  sensitivity: Sensitivity;
  mode: ChainMode;
  steps: string;
  pool: string;
  position: number;
  backupAllowed: number;
  backupUsed: number;
  status: ChainStatus;
  createdAt: number;
  expiresAt: number;
  version: number;
}

const factorsSchema = z.array(chainFactorSchema);

export class ChainAttemptsRepository {
  readonly #get;
  readonly #insert;
  readonly #advance;
  readonly #purge;

  constructor(db: Database) {
    this.#get = db.prepare(
      `SELECT id, purpose, sensitivity, mode, steps, pool, position, backup_allowed AS backupAllowed, backup_used AS backupUsed, status,
         created_at AS createdAt, expires_at AS expiresAt, version
       FROM mfa_chain_attempts WHERE id = ?`,
    );
    this.#insert = db.prepare(
      `INSERT INTO mfa_chain_attempts (id, purpose, sensitivity, mode, steps, pool, position, backup_allowed, backup_used, status, created_at, expires_at, version)
       VALUES (@id, @purpose, @sensitivity, @mode, @steps, @pool, @position, @backupAllowed, @backupUsed, @status, @createdAt, @expiresAt, 0)`,
    );
    // Issue 10: "two windows (or a window and a shell) racing on one attempt cannot both advance
    // it". A compare-and-set on the version: whoever computed from a state someone else has
    // already moved lands nothing.
    this.#advance = db.prepare(
      `UPDATE mfa_chain_attempts SET steps = @steps, position = @position, backup_used = @backupUsed, status = @status,
         version = version + 1
       WHERE id = @id AND version = @version`,
    );
    this.#purge = db.prepare(
      `DELETE FROM mfa_chain_attempts WHERE expires_at <= ?
         AND NOT EXISTS (SELECT 1 FROM step_up_grants g WHERE g.attempt_id = mfa_chain_attempts.id)`,
    );
  }

  get(id: string): ChainAttemptRecord | undefined {
    const row = this.#get.get(id) as AttemptRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  insert(record: Omit<ChainAttemptRecord, 'version'>): void {
    const s = record.state;
    this.#insert.run({
      id: record.id,
      purpose: record.purpose,
      sensitivity: record.sensitivity,
      mode: s.mode,
      steps: JSON.stringify(s.steps),
      pool: JSON.stringify(s.pool),
      position: s.position,
      backupAllowed: s.backupAllowed ? 1 : 0,
      backupUsed: s.backupUsed ? 1 : 0,
      status: s.status,
      createdAt: record.createdAt,
      expiresAt: s.expiresAt,
    });
  }

  /** Writes `next` only if the row is still at `version`; true when it landed. */
  advance(id: string, version: number, next: ChainState): boolean {
    return (
      this.#advance.run({
        id,
        version,
        steps: JSON.stringify(next.steps),
        position: next.position,
        backupUsed: next.backupUsed ? 1 : 0,
        status: next.status,
      }).changes === 1
    );
  }

  /** Drops attempts that ended before `beforeMs` and earned no grant; returns how many. */
  purge(beforeMs: number): number {
    return this.#purge.run(beforeMs).changes;
  }
}

function toRecord(row: AttemptRow): ChainAttemptRecord {
  let steps: unknown;
  let pool: unknown;
  try {
    steps = JSON.parse(row.steps);
    pool = JSON.parse(row.pool);
  } catch {
    throw new AppError('ERR-INTERNAL');
  }
  const parsedSteps = factorsSchema.safeParse(steps);
  const parsedPool = factorsSchema.safeParse(pool);
  // A row edited by hand fails closed rather than verifying a chain nobody drew.
  if (!parsedSteps.success || !parsedPool.success || parsedSteps.data.length === 0) throw new AppError('ERR-INTERNAL');
  return {
    id: row.id,
    purpose: row.purpose,
    sensitivity: row.sensitivity,
    createdAt: row.createdAt,
    version: row.version,
    state: {
      mode: row.mode,
      steps: parsedSteps.data,
      pool: parsedPool.data,
      position: row.position,
      backupAllowed: row.backupAllowed === 1,
      backupUsed: row.backupUsed === 1,
      status: row.status,
      expiresAt: row.expiresAt,
    },
  };
}
