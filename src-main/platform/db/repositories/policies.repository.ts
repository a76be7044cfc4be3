import { policySchema, type Policy } from '../../../../src-shared/domain/policy';
import type { Sensitivity } from '../../../../src-shared/domain/restore-request';
import { AppError } from '../../../../src-shared/errors';
import type { Database } from '../database';

interface PolicyRow {
  sensitivity: string;
  mode: string;
  requiredSteps: number;
  eligible: string;
  challengeTimeoutSeconds: number;
}

/** The saved policies (migration 007); a sensitivity without a row follows the default. */
export class PoliciesRepository {
  readonly #get;
  readonly #all;
  readonly #put;

  constructor(db: Database) {
    const columns = `sensitivity, mode, required_steps AS requiredSteps, eligible, challenge_timeout_seconds AS challengeTimeoutSeconds`;
    this.#get = db.prepare(`SELECT ${columns} FROM mfa_policies WHERE sensitivity = ?`);
    this.#all = db.prepare(`SELECT ${columns} FROM mfa_policies`);
    this.#put = db.prepare(
      `INSERT INTO mfa_policies (sensitivity, mode, required_steps, eligible, challenge_timeout_seconds, updated_at)
       VALUES (@sensitivity, @mode, @requiredSteps, @eligible, @challengeTimeoutSeconds, @updatedAt)
       ON CONFLICT (sensitivity) DO UPDATE SET mode = excluded.mode, required_steps = excluded.required_steps,
         eligible = excluded.eligible, challenge_timeout_seconds = excluded.challenge_timeout_seconds, updated_at = excluded.updated_at`,
    );
  }

  get(sensitivity: Sensitivity): Policy | undefined {
    const row = this.#get.get(sensitivity) as PolicyRow | undefined;
    return row ? toPolicy(row) : undefined;
  }

  all(): Policy[] {
    return (this.#all.all() as PolicyRow[]).map(toPolicy);
  }

  put(policy: Policy, nowMs: number): void {
    this.#put.run({
      sensitivity: policy.sensitivity,
      mode: policy.mode,
      requiredSteps: policy.requiredSteps,
      eligible: JSON.stringify(policy.eligible),
      challengeTimeoutSeconds: policy.challengeTimeoutSeconds,
      updatedAt: nowMs,
    });
  }
}

/**
 * A row that no longer parses (edited by hand) is not replaced by the default, which may be
 * weaker than what was saved: reading it fails closed.
 */
function toPolicy(row: PolicyRow): Policy {
  let eligible: unknown;
  try {
    eligible = JSON.parse(row.eligible);
  } catch {
    throw new AppError('ERR-INTERNAL');
  }
  const parsed = policySchema.safeParse({ ...row, eligible });
  if (!parsed.success) throw new AppError('ERR-INTERNAL');
  return parsed.data;
}
