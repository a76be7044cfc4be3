import { AppError } from '../../../src-shared/errors';
import type { AuditLog } from './audit.service';

export type Schedule = (flush: () => void) => void;

/**
 * Commits many small audited writes together (DESIGN.md "Durability": group commit rather than
 * weaker durability). A burst of failed MFA attempts costs one fsync, not one each. Writes queued
 * in one turn of the event loop commit in one transaction at the next.
 *
 * If a batch cannot be committed, the log has lost rows it promised: from then on `assertHealthy`
 * refuses, and every caller fails closed with ERR-AUDIT-UNAVAILABLE.
 */
export class GroupCommit {
  readonly #audit: AuditLog;
  readonly #schedule: Schedule;
  #queue: (() => void)[] = [];
  #scheduled = false;
  #failed = false;

  constructor(audit: AuditLog, schedule: Schedule = (flush) => setImmediate(flush)) {
    this.#audit = audit;
    this.#schedule = schedule;
  }

  assertHealthy(): void {
    if (this.#failed) throw new AppError('ERR-AUDIT-UNAVAILABLE');
  }

  enqueue(write: () => void): void {
    this.assertHealthy();
    this.#queue.push(write);
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(() => this.flush());
    }
  }

  /** Commits everything queued so far; callers that must order after it call this first. */
  flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    try {
      this.#audit.transact(() => {
        for (const write of batch) write();
      });
    } catch {
      this.#failed = true;
    }
    this.assertHealthy();
  }

  get pending(): number {
    return this.#queue.length;
  }
}
