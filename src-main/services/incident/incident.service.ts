import { INCIDENT_LEAVE_PURPOSE, type IncidentChange, type IncidentState } from '../../../src-shared/domain/incident';
import type { Sensitivity } from '../../../src-shared/domain/restore-request';
import { AppError } from '../../../src-shared/errors';
import type { Clock } from '../../clock';
import type { IncidentRepository, IncidentRow } from '../../platform/db/repositories/incident.repository';
import type { AuditLog } from '../audit/audit.service';

/** Who turns it on or off, and from where: recorded in the audit row. */
export interface IncidentContext {
  /** The approver's principal, or `cli:<user>` from a shell. */
  actor: string;
  /** `desktop` (the window) or `cli`. */
  source: string;
  sourceIp?: string | null;
  userAgent?: string | null;
}

/** The chain's grants, as incident mode needs them (ChainService implements it). */
export interface IncidentGrants {
  consumeGrant(purpose: string, atLeast?: Sensitivity): boolean;
}

export interface IncidentServiceDeps {
  repo: IncidentRepository;
  audit: AuditLog;
  grants: IncidentGrants;
  clock: Clock;
}

export type IncidentListener = (state: IncidentState) => void;

/**
 * Incident mode (DESIGN.md "Domain"; issue 11). The state is one row in the database, so every
 * process on the data directory reads the same answer from `isOn()`; the approval pipeline takes
 * this service as `{ isOn(): boolean }`. On is immediate. Off uses up a step-up grant for
 * `incident:leave` earned by a chain at the critical policy, in the same transaction as the
 * change and its audit row, so a change that does not commit leaves the grant unused.
 */
export class IncidentService {
  readonly #deps: IncidentServiceDeps;
  readonly #listeners = new Set<IncidentListener>();
  /** The state listeners last heard, to tell them of another process's change only once. */
  #told: string;

  constructor(deps: IncidentServiceDeps) {
    this.#deps = deps;
    this.#told = JSON.stringify(this.state());
  }

  /** Read from the database each time: another process may have changed it a moment ago. */
  isOn(): boolean {
    return this.#deps.repo.get().active === 1;
  }

  state(): IncidentState {
    return toState(this.#deps.repo.get());
  }

  /** Immediate. Already on: nothing changes, no row is written, `changed` is false. */
  turnOn(ctx: IncidentContext): IncidentChange {
    const changed = this.#deps.audit.transact(() => this.#change(true, ctx, null));
    return this.#answer(changed);
  }

  /**
   * Needs a live grant for `incident:leave` from a chain at the critical policy, else
   * ERR-MFA-REQUIRED and nothing changes. Already off: nothing changes and no grant is used.
   */
  turnOff(ctx: IncidentContext): IncidentChange {
    const { audit, grants } = this.#deps;
    const changed = audit.transact(() => {
      if (this.#deps.repo.get().active === 0) return false;
      // Inside the transaction: the grant is spent only if the change it pays for commits.
      if (!grants.consumeGrant(INCIDENT_LEAVE_PURPOSE, 'critical')) throw new AppError('ERR-MFA-REQUIRED');
      return this.#change(false, ctx, INCIDENT_LEAVE_PURPOSE);
    });
    return this.#answer(changed);
  }

  /** Another process committed (the shared tick's data_version check): tell listeners if it changed. */
  externalChange(): void {
    this.#publish(this.state());
  }

  onChanged(listener: IncidentListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #change(active: boolean, ctx: IncidentContext, grant: string | null): boolean {
    const { repo, audit, clock } = this.#deps;
    if (!repo.set(active, clock.now(), ctx.actor)) return false;
    audit.append({
      event: active ? 'incident_mode_on' : 'incident_mode_off',
      actor: ctx.actor,
      subject: 'incident-mode',
      sourceIp: ctx.sourceIp ?? null,
      userAgent: ctx.userAgent ?? null,
      data: { source: ctx.source, ...(grant ? { stepUp: grant } : {}) },
    });
    return true;
  }

  #answer(changed: boolean): IncidentChange {
    const state = this.state();
    if (changed) this.#publish(state);
    return { changed, state };
  }

  #publish(state: IncidentState): void {
    const key = JSON.stringify(state);
    if (key === this.#told) return;
    this.#told = key;
    for (const listener of this.#listeners) listener(state);
  }
}

function toState(row: IncidentRow): IncidentState {
  return {
    on: row.active === 1,
    changedAt: row.changedAt === null ? null : new Date(row.changedAt).toISOString(),
    changedBy: row.changedBy,
  };
}
