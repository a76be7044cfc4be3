import { createHash } from 'node:crypto';
import { AppError } from '../../../src-shared/errors';
import {
  normalizeSensitivity,
  type CreateRestoreRequestBody,
  type RestoreRequestStatus,
  type RequestStatus,
  type RestoreRequestView,
  type Sensitivity,
} from '../../../src-shared/domain/restore-request';
import type { Clock } from '../../clock';
import type { Config } from '../../config';
import { pooledRandomBase64url } from '../../platform/random';
import type { Random } from '../../random';
import type { IdempotentRow, RestoreRequestRow, RestoreRequestsRepository } from '../../platform/db/repositories/restore-requests.repository';
import type { AuditLog } from '../audit/audit.service';
import type { GroupCommit } from '../audit/group-commit';
import type { Integration, IntegrationsService } from '../gateway/integrations.service';
import { maskIp } from '../audit/redaction';
import { RequestWaiters } from './request-waiters';

export interface RequestSource {
  ip?: string | undefined;
  userAgent?: string | undefined;
}

export interface CreatedRequest {
  id: string;
  status: 'pending';
  expiresAt: string;
  matchCode: number;
}

/** What arrived, as the presenter needs it for a notice: nothing the tool did not send. */
export interface ArrivedRequest {
  integrationName: string;
  requester: string;
  backupId: string;
  target: string;
  sensitivity: Sensitivity;
}

/**
 * A change to the requests: an arrival in this process (with what the notice shows), or anything
 * else (a decision, an expiry, another process's commit), `id` when it is one request.
 */
export type RequestsChange = { kind: 'arrived'; id: string; arrival: ArrivedRequest } | { kind: 'changed'; id: string | null };

export type RequestsListener = (change: RequestsChange) => void;

export interface RestoreRequestsDeps {
  repo: RestoreRequestsRepository;
  audit: AuditLog;
  clock: Clock;
  config: Config;
  integrations: IntegrationsService;
  groupCommit: GroupCommit;
  /** Draws the match codes (issue 10: repeatable in tests). */
  random: Random;
}

// The sweeper expires at most this many per tick, so one tick never holds the write lock long.
const SWEEP_BATCH = 200;

/**
 * Restore requests from arrival to decision (DESIGN.md "Restore approval", issue #5): stored
 * `pending` with a match code, expired by the sweeper, denied or denied-and-reported by the
 * approver. Every change commits with its audit row and wakes the requesters long-polling on it.
 * Approval is ApprovalService's (issue 11), which calls `decided` after its commit. What the
 * approver is told of it (notices, the tray) is the presenter's (requests-presenter.ts), fed by
 * `onChanged`.
 */
export class RestoreRequestsService {
  readonly #repo: RestoreRequestsRepository;
  readonly #deps: RestoreRequestsDeps;
  readonly #waiters = new RequestWaiters();
  readonly #listeners = new Set<RequestsListener>();

  constructor(deps: RestoreRequestsDeps) {
    this.#deps = deps;
    this.#repo = deps.repo;
  }

  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Stores a request `pending` with its audit row. It resolves once the row is durable: arrivals
   * commit in groups (DESIGN.md "Durability"), so a burst from many tools costs one fsync.
   *
   * With an `idempotencyKey` (issue 9), the same integration sending the same key again within
   * the request's lifetime gets that request back, answered exactly as the first time, and
   * nothing new is stored or announced; the same key with a different body is
   * ERR-IDEMPOTENCY-CONFLICT. Only a hash of the key, scoped to the integration, is kept.
   */
  async create(integration: Integration, body: CreateRestoreRequestBody, source: RequestSource = {}, idempotencyKey?: string): Promise<CreatedRequest> {
    const { audit, clock, config, groupCommit, integrations } = this.#deps;
    const now = clock.now();
    // A flood from a muted integration is refused here, before it costs a transaction; the mute
    // is confirmed first, so a revocation since then is what the requester hears.
    if (mutedForSeconds(integration, now) > 0) refuseIfMuted(integrations.current(integration.id), now);
    const idempotency = idempotencyKey === undefined ? null : { key: sha256(`${integration.id}\n${idempotencyKey}`), fingerprint: fingerprintOf(body) };
    // A retry of a stored request is answered without queueing for a commit.
    const earlier = idempotency ? this.#repo.byIdempotencyKey(integration.id, idempotency.key) : undefined;
    if (earlier && idempotency && earlier.expiresAt > now) return replay(earlier, idempotency.fingerprint);
    const id = `req_${pooledRandomBase64url(12)}`;
    // Two digits, 10 to 99, as crypto.randomInt(10, 100) drew them.
    const matchCode = 10 + this.#deps.random.int(90);
    const sensitivity = normalizeSensitivity(body.sensitivity);
    const expiresAt = now + config.approvals.timeoutSeconds * 1000;
    const outcome = await groupCommit.commit((): CreatedRequest | null => {
      // Read again inside the transaction: a revocation or a report committed by any process
      // since the key check refuses this request rather than storing it.
      refuseIfMuted(integrations.current(integration.id), now);
      // And the key again: a racing retry (this process's batch, or another process) may have
      // stored it a moment ago. The write lock is held here, and the unique index stands behind.
      const stored = idempotency ? this.#repo.byIdempotencyKey(integration.id, idempotency.key) : undefined;
      if (stored && idempotency) {
        if (stored.expiresAt > now) return replay(stored, idempotency.fingerprint);
        // Its request's lifetime is over (the sweeper has not freed the key yet): a new request.
        this.#repo.forgetLapsedIdempotencyKeys(now);
      }
      this.#repo.insert({
        id,
        integrationId: integration.id,
        requester: body.requester,
        backupId: body.backupId,
        target: body.target,
        sensitivity,
        reason: body.reason,
        context: JSON.stringify(body.context ?? {}),
        matchCode,
        createdAt: now,
        expiresAt,
        idempotencyKey: idempotency?.key ?? null,
        idempotencyFingerprint: idempotency?.fingerprint ?? null,
        // Masked as the audit row masks it: the full address is never stored (issue 11).
        source: source.ip ? maskIp(source.ip) : null,
      });
      audit.append({
        event: 'restore_request_received',
        actor: integration.name,
        subject: id,
        sourceIp: source.ip ?? null,
        userAgent: source.userAgent ?? null,
        data: {
          integrationId: integration.id,
          requester: body.requester,
          backupId: body.backupId,
          target: body.target,
          sensitivity,
          ...(body.sensitivity !== undefined && body.sensitivity !== sensitivity ? { sensitivityGiven: body.sensitivity.slice(0, 32) } : {}),
        },
      });
      return null;
    });
    if (outcome) return outcome;
    this.#emit({
      kind: 'arrived',
      id,
      arrival: { integrationName: integration.name, requester: body.requester, backupId: body.backupId, target: body.target, sensitivity },
    });
    return { id, status: 'pending', expiresAt: new Date(expiresAt).toISOString(), matchCode };
  }

  /** A request's status as its own integration sees it; another integration's id is not found. */
  status(integrationId: string, id: string): RestoreRequestStatus {
    const row = this.#repo.byId(id);
    if (!row || row.integrationId !== integrationId) throw new AppError('ERR-NOT-FOUND');
    return toStatus(row);
  }

  /**
   * Answers as soon as the status is not pending, or when `waitSeconds` have passed on the
   * injected clock. `signal` releases the waiter when the requester hangs up.
   */
  async waitForChange(integrationId: string, id: string, waitSeconds: number, signal?: AbortSignal): Promise<RestoreRequestStatus> {
    let current = this.status(integrationId, id);
    const deadline = this.#deps.clock.now() + waitSeconds * 1000;
    while (current.status === 'pending' && this.#deps.clock.now() < deadline && !signal?.aborted) {
      const { promise, cancel } = this.#waiters.wait(id, deadline);
      signal?.addEventListener('abort', cancel, { once: true });
      await promise;
      signal?.removeEventListener('abort', cancel);
      current = this.status(integrationId, id);
    }
    return current;
  }

  list(view: 'pending' | 'history', limit: number): RestoreRequestView[] {
    return (view === 'pending' ? this.#repo.pending(limit) : this.#repo.history(limit)).map(toView);
  }

  /** Newest first, of one status or every status (`custodian requests list`). */
  find(status: RequestStatus | null, limit: number): RestoreRequestView[] {
    return this.#repo.find(status, limit).map(toView);
  }

  get(id: string): RestoreRequestView {
    const row = this.#repo.byId(id);
    if (!row) throw new AppError('ERR-NOT-FOUND');
    return toView(row);
  }

  pendingCount(): number {
    return this.#repo.countPending();
  }

  deny(id: string, actor: string): RestoreRequestView {
    const { audit, clock } = this.#deps;
    audit.transact(() => {
      const row = this.#decidable(id);
      this.#repo.decide(id, 'denied', clock.now(), actor, false);
      audit.append({ event: 'restore_request_denied', actor, subject: id, data: { integrationId: row.integrationId } });
    });
    this.#waiters.wake(id);
    this.#emit({ kind: 'changed', id });
    return this.get(id);
  }

  /**
   * Another service decided `id` and committed (the approval, issue 11): wake the requesters
   * long-polling on it and tell the window.
   */
  decided(id: string): void {
    this.#waiters.wake(id);
    this.#emit({ kind: 'changed', id });
  }

  /**
   * Something the card of `id` shows changed beside its row (its token was collected, redeemed or
   * revoked): tell the window. Nobody waits on it: the request was decided before.
   */
  touched(id: string): void {
    this.#emit({ kind: 'changed', id });
  }

  /**
   * Deny and report (issue #5): flags the request and its integration as suspected MFA fatigue or
   * fraud, denies every other pending request of that integration and mutes it for
   * `approvals.reportMuteMinutes`, all in one transaction with their audit rows.
   */
  report(id: string, actor: string): RestoreRequestView {
    const { audit, clock, config, integrations, groupCommit } = this.#deps;
    // Arrivals already accepted but not yet committed are stored first, so the report denies them too.
    groupCommit.flush();
    const now = clock.now();
    const others = audit.transact(() => {
      const row = this.#decidable(id);
      this.#repo.decide(id, 'denied', now, actor, true);
      audit.append({
        event: 'restore_request_reported',
        actor,
        subject: id,
        data: { integrationId: row.integrationId, suspicion: 'mfa-fatigue-or-fraud' },
      });
      const denied: string[] = [];
      for (const other of this.#repo.pendingIdsOf(row.integrationId)) {
        if (!this.#repo.decide(other, 'denied', now, actor, false)) continue;
        audit.append({ event: 'restore_request_denied', actor, subject: other, data: { integrationId: row.integrationId, cause: 'integration-reported', reportedRequest: id } });
        denied.push(other);
      }
      const until = now + config.approvals.reportMuteMinutes * 60_000;
      integrations.muteWithin(row.integrationId, until);
      audit.append({
        event: 'integration_muted',
        actor,
        subject: row.integrationId,
        data: { name: row.integrationName, until: new Date(until).toISOString(), reportedRequest: id, suspicion: 'mfa-fatigue-or-fraud' },
      });
      return denied;
    });
    for (const woken of [id, ...others]) this.#waiters.wake(woken);
    this.#emit({ kind: 'changed', id: null });
    integrations.notifyExternalChange();
    return this.get(id);
  }

  /**
   * One tick of the expiry sweeper: moves overdue requests to `expired` (each with its audit
   * row), wakes their requesters, then releases long-polls whose wait ran out.
   */
  sweep(): void {
    const now = this.#deps.clock.now();
    let expired: string[] = [];
    try {
      expired = this.#expireOverdue(now);
    } catch {
      // The log refuses (a full disk, a keychain gone, issue 13): the overdue requests stay
      // pending until a later tick expires them. Approving one is refused meanwhile (its
      // expiresAt), and the long-polls below are still released at their deadlines.
    }
    for (const id of expired) {
      this.#waiters.wake(id);
      this.#emit({ kind: 'changed', id });
    }
    this.#waiters.sweep(now);
    this.#repo.forgetLapsedIdempotencyKeys(now);
  }

  #expireOverdue(now: number): string[] {
    const { audit } = this.#deps;
    return this.#repo.overdue(now, SWEEP_BATCH).length === 0
      ? []
      : audit.transact(() => {
          const done: string[] = [];
          for (const row of this.#repo.overdue(now, SWEEP_BATCH)) {
            // Another process may have decided or expired it a moment ago.
            if (!this.#repo.expire(row.id)) continue;
            audit.append({ event: 'restore_request_expired', actor: 'system', subject: row.id, data: { integrationId: row.integrationId } });
            done.push(row.id);
          }
          return done;
        });
  }

  /** Another process committed (DESIGN.md "Several processes"): wake whoever waits on a change. */
  onExternalCommit(): void {
    for (const id of this.#waiters.ids()) {
      const status = this.#repo.statusOf(id);
      if (status !== 'pending') this.#waiters.wake(id);
    }
    this.#emit({ kind: 'changed', id: null });
  }

  /** Releases every long-poll, so the gateway can close without waiting a minute. */
  releaseAll(): void {
    this.#waiters.wakeAll();
  }

  onChanged(listener: RequestsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #decidable(id: string): RestoreRequestRow {
    const row = this.#repo.byId(id);
    if (!row) throw new AppError('ERR-NOT-FOUND');
    if (row.status === 'expired') throw new AppError('ERR-RESTORE-EXPIRED');
    if (row.status !== 'pending') throw new AppError('ERR-RESTORE-ALREADY-DECIDED');
    // Overdue but not swept yet: it is expired, whatever the row still says.
    if (row.expiresAt <= this.#deps.clock.now()) throw new AppError('ERR-RESTORE-EXPIRED');
    return row;
  }

  #emit(change: RequestsChange): void {
    for (const listener of this.#listeners) listener(change);
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What makes two requests the same request: the validated body, in a fixed order. */
function fingerprintOf(body: CreateRestoreRequestBody): string {
  const context = Object.entries(body.context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256(JSON.stringify([body.requester, body.backupId, body.target, body.sensitivity ?? null, body.reason, context]));
}

/** The first answer again, or a conflict when the key came back with another request. */
function replay(row: IdempotentRow, fingerprint: string): CreatedRequest {
  if (row.idempotencyFingerprint !== fingerprint) throw new AppError('ERR-IDEMPOTENCY-CONFLICT');
  return { id: row.id, status: 'pending', expiresAt: new Date(row.expiresAt).toISOString(), matchCode: row.matchCode };
}

/** Seconds left of a mute after a report (issue #5, as Duo mutes pushes after a fraud report); 0 if none. */
function mutedForSeconds(integration: Integration, now: number): number {
  return integration.mutedUntil === null || integration.mutedUntil <= now ? 0 : Math.ceil((integration.mutedUntil - now) / 1000);
}

function refuseIfMuted(integration: Integration, now: number): void {
  const retryAfterSeconds = mutedForSeconds(integration, now);
  if (retryAfterSeconds > 0) throw new AppError('ERR-RATE-LIMITED', { retryAfterSeconds });
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function toStatus(row: RestoreRequestRow): RestoreRequestStatus {
  return { id: row.id, status: row.status, expiresAt: new Date(row.expiresAt).toISOString(), decidedAt: iso(row.decidedAt) };
}

export function parseContext(text: string): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

function toView(row: RestoreRequestRow): RestoreRequestView {
  return {
    id: row.id,
    integrationId: row.integrationId,
    integrationName: row.integrationName,
    requester: row.requester,
    backupId: row.backupId,
    target: row.target,
    sensitivity: row.sensitivity,
    reason: row.reason,
    context: parseContext(row.context),
    status: row.status,
    reported: row.reported === 1,
    createdAt: new Date(row.createdAt).toISOString(),
    expiresAt: new Date(row.expiresAt).toISOString(),
    decidedAt: iso(row.decidedAt),
    decidedBy: row.decidedBy,
    source: row.source,
  };
}
