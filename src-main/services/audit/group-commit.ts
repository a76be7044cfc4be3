import { AppError, isAppError } from '../../../src-shared/errors';
import type { AuditLog } from './audit.service';

export type Schedule = (flush: () => void) => void;

interface Queued {
  write: () => unknown;
  /** Present for `commit`: its caller waits, so a failure is told to it rather than remembered. */
  settle?: { resolve: (value: unknown) => void; reject: (error: AppError) => void };
}

/**
 * Commits many small audited writes together (DESIGN.md "Durability": group commit rather than
 * weaker durability). A burst of failed MFA attempts or of arriving restore requests costs one
 * fsync, not one each. Writes queued in one turn of the event loop commit in one transaction at
 * the next; while a commit waits on the disk, the next burst gathers behind it.
 *
 * Two kinds of write share a batch:
 * - `enqueue` is fire-and-forget (a failed attempt the caller has already answered). If its batch
 *   cannot be committed, the log owes rows it promised: they are kept, and until they are written
 *   `assertHealthy` refuses, so every caller fails closed with ERR-AUDIT-UNAVAILABLE. Each refusal
 *   first tries the owed rows again, so the desk recovers by itself once the disk (or the
 *   database) takes writes again, with no restart and no row lost (issue 13, item 3).
 * - `commit` is awaited (a request answered only once it is durable). Each runs in its own
 *   savepoint, so one that throws rejects only its own caller; if the batch cannot be committed,
 *   its callers are refused and nothing was promised.
 */
export class GroupCommit {
  readonly #audit: AuditLog;
  readonly #schedule: Schedule;
  #queue: Queued[] = [];
  #scheduled = false;
  /** `enqueue` writes whose batch could not be committed: owed to the log, written before anything else. */
  #owed: Queued[] = [];

  constructor(audit: AuditLog, schedule: Schedule = (flush) => setImmediate(flush)) {
    this.#audit = audit;
    this.#schedule = schedule;
  }

  assertHealthy(): void {
    if (this.#owed.length === 0) return;
    const owed = this.#owed;
    try {
      this.#audit.transact(() => {
        for (const { write } of owed) write();
      });
      this.#owed = [];
    } catch (error) {
      throw refusal(error);
    }
  }

  enqueue(write: () => void): void {
    this.assertHealthy();
    this.#push({ write });
  }

  /** Resolves with `write`'s result once the batch holding it is committed. */
  commit<T>(write: () => T): Promise<T> {
    this.assertHealthy();
    return new Promise<T>((resolve, reject) => {
      this.#push({ write, settle: { resolve: resolve as (value: unknown) => void, reject } });
    });
  }

  /** Commits everything queued so far; callers that must order after it call this first. */
  flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    // Callers hear nothing until the batch is committed: an answer sent earlier could be undone.
    const answers: (() => void)[] = [];
    try {
      this.#audit.transact(() => {
        for (const { write, settle } of batch) {
          if (!settle) {
            write();
            continue;
          }
          try {
            const value = this.#audit.transact(write);
            answers.push(() => settle.resolve(value));
          } catch (error) {
            answers.push(() => settle.reject(isAppError(error) ? error : new AppError('ERR-AUDIT-UNAVAILABLE')));
          }
        }
      });
    } catch (error) {
      this.#owed.push(...batch.filter((q) => !q.settle));
      const refused = refusal(error);
      for (const { settle } of batch) settle?.reject(refused);
      if (this.#owed.length > 0) throw refused;
      return;
    }
    for (const answer of answers) answer();
  }

  get pending(): number {
    return this.#queue.length;
  }

  #push(queued: Queued): void {
    this.#queue.push(queued);
    if (!this.#scheduled) {
      this.#scheduled = true;
      // A scheduled flush has no caller to throw to; the failure is kept for the next caller.
      this.#schedule(() => {
        try {
          this.flush();
        } catch {
          // Kept in #owed; assertHealthy retries them and tells every later caller.
        }
      });
    }
  }
}

/**
 * Why a batch was refused, as its callers hear it: a keychain that does not take the audit anchor
 * says so (issue 13); anything else is the log that cannot be written.
 */
function refusal(error: unknown): AppError {
  return isAppError(error) && error.code === 'ERR-KEYCHAIN-UNAVAILABLE' ? error : new AppError('ERR-AUDIT-UNAVAILABLE');
}
