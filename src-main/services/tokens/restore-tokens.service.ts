import { createHash } from 'node:crypto';
import type { RedeemedToken, RestoreTokenView } from '../../../src-shared/domain/approval';
import { AppError } from '../../../src-shared/errors';
import type { Clock } from '../../clock';
import type { RestoreTokenRow, RestoreTokensRepository } from '../../platform/db/repositories/restore-tokens.repository';
import { randomId } from '../../platform/random';
import type { Random } from '../../random';
import type { AuditLog } from '../audit/audit.service';

/** What an approval binds a token to (DESIGN.md "Restore approval"). */
export interface TokenBinding {
  requestId: string;
  integrationId: string;
  requester: string;
  backupId: string;
  target: string;
}

/** A status read's share of the token: the raw value on the first read only, then metadata. */
export interface CollectedToken {
  token?: string;
  expiresAt: string;
  ttlSeconds: number;
}

export interface RedeemSource {
  ip?: string | undefined;
  userAgent?: string | undefined;
}

/** 256 bits (issue 11, seed 001). */
const TOKEN_BYTES = 32;

/**
 * How long a lapsed token's row is kept before the purge: a requester who comes a little late
 * hears "expired" rather than "not valid". The audit log keeps every token's story for good.
 */
export const TOKEN_KEEP_AFTER_EXPIRY_MS = 60 * 60 * 1000;

const PURGE_BATCH = 200;

/**
 * Restore access tokens (issue 11 "Tokens"): issued inside the approval's transaction with their
 * binding and TTL but no value; the value is minted on the requester's first status read and
 * handed out that once; redeemed once, by its own requester and integration, within its TTL;
 * revocable until redeemed; purged after expiry.
 *
 * Why the value is minted at the first read rather than at approval: the approving process (the
 * window, a shell) is not the one that answers the requester (the gateway may live in another
 * process), and the only place they share is SQLite, where a raw token must never sit. Minting
 * it where it is handed out means it exists only in that reply.
 */
export class RestoreTokensService {
  readonly #repo: RestoreTokensRepository;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #changed: (requestId: string) => void;

  /**
   * `changed` hears of each commit that moves a token's state (collected, redeemed, revoked), so
   * the window's card follows a redeem made through this process's gateway; another process's
   * commits reach it through the shared tick's data_version check.
   */
  constructor(deps: { repo: RestoreTokensRepository; audit: AuditLog; clock: Clock; random: Random; changed?: (requestId: string) => void }) {
    this.#repo = deps.repo;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#changed = deps.changed ?? (() => undefined);
  }

  /**
   * Issues the token of an approval. Must run inside the approval's transaction, beside its
   * audit row: either both commit or neither does.
   *
   * The TTL runs from the approval, not from the first read: a token nobody collects still
   * lapses on time, the countdown the approver sees is the real one, and a requester who polls
   * late (after `--no-wait`) cannot stretch the window the approver granted.
   */
  issueWithin(binding: TokenBinding, ttlSeconds: number, actor: string): RestoreTokenView {
    const now = this.#clock.now();
    const row = { id: randomId('tok', this.#random), ...binding, ttlSeconds, issuedAt: now, expiresAt: now + ttlSeconds * 1000 };
    this.#repo.insert(row);
    this.#audit.append({
      event: 'restore_token_issued',
      actor,
      subject: row.id,
      data: { requestId: binding.requestId, integrationId: binding.integrationId, requester: binding.requester, ttlSeconds, expiresAt: iso(row.expiresAt) },
    });
    return this.view(binding.requestId) ?? fail();
  }

  /** The token of a request as the desk shows it, or null when the request has none. */
  view(requestId: string): RestoreTokenView | null {
    const row = this.#repo.byRequest(requestId);
    return row ? toView(row, this.#clock.now()) : null;
  }

  /**
   * The requester's share on a status read of an approved request: the raw token to the first
   * reader only, metadata to every later one (DESIGN.md "Gateway API"). The guarded UPDATE makes
   * it exactly one reader even across processes; the value exists only in that reader's reply.
   * A token revoked, redeemed or expired before anyone collected it is never minted.
   */
  collect(requestId: string, integrationId: string): CollectedToken | null {
    const row = this.#repo.byRequest(requestId);
    if (!row || row.integrationId !== integrationId) return null;
    const meta = { expiresAt: iso(row.expiresAt), ttlSeconds: row.ttlSeconds };
    const now = this.#clock.now();
    if (row.tokenHash !== null || row.revokedAt !== null || row.expiresAt <= now) return meta;
    const token = this.#random.bytes(TOKEN_BYTES).toString('base64url');
    const delivered = this.#audit.transact(() => {
      if (!this.#repo.deliver(requestId, hashOf(token), now)) return false;
      this.#audit.append({ event: 'restore_token_delivered', actor: 'system', subject: row.id, data: { requestId, integrationId } });
      return true;
    });
    if (!delivered) return meta;
    this.#changed(requestId);
    return { token, ...meta };
  }

  /**
   * `POST /v1/restore-tokens/redeem`: once, within the TTL, for its own requester and
   * integration. Another integration's token, another requester, a replay, a revoked or an
   * unknown token are all ERR-RESTORE-TOKEN-INVALID, so a deny says nothing about someone else's
   * token; a lapsed one of your own is ERR-RESTORE-TOKEN-EXPIRED. Every outcome is audited.
   *
   * The token is found by the SHA-256 of what was presented, not compared byte by byte: the
   * index lookup's timing depends only on that hash, and steering a guess's hash towards a stored
   * one is a preimage attack on SHA-256, so timing teaches nothing about any live token.
   */
  redeem(integration: { id: string; name: string }, token: string, requester: string, source: RedeemSource = {}): RedeemedToken {
    const now = this.#clock.now();
    const where = { sourceIp: source.ip ?? null, userAgent: source.userAgent ?? null };
    const outcome = this.#audit.transact((): (RedeemedToken & { requestId: string }) | { denied: 'ERR-RESTORE-TOKEN-INVALID' | 'ERR-RESTORE-TOKEN-EXPIRED' } => {
      const row = this.#repo.byHash(hashOf(token));
      const reason = denyReason(row, integration.id, requester, now);
      if (row && reason === null && this.#repo.redeem(row.id, now)) {
        this.#audit.append({
          event: 'restore_token_redeemed',
          actor: integration.name,
          subject: row.id,
          ...where,
          data: { requestId: row.requestId, integrationId: integration.id, requester, backupId: row.backupId, target: row.target },
        });
        return { backupId: row.backupId, target: row.target, expiresAt: iso(row.expiresAt), requestId: row.requestId };
      }
      // Only the requester's own token tells them more than "not valid".
      const own = row !== undefined && (reason === null || reason === 'expired' || reason === 'redeemed' || reason === 'revoked');
      this.#audit.append({
        event: 'restore_token_redeem_denied',
        actor: integration.name,
        subject: own ? row.id : '-',
        ...where,
        data: { integrationId: integration.id, requester, reason: reason ?? 'raced', ...(own ? { requestId: row.requestId } : {}) },
      });
      return { denied: reason === 'expired' ? 'ERR-RESTORE-TOKEN-EXPIRED' : 'ERR-RESTORE-TOKEN-INVALID' };
    });
    if ('denied' in outcome) throw new AppError(outcome.denied);
    this.#changed(outcome.requestId);
    return { backupId: outcome.backupId, target: outcome.target, expiresAt: outcome.expiresAt };
  }

  /**
   * An approver takes back a token not yet redeemed (issue 11). A token already revoked is
   * answered as it is; a redeemed one cannot be taken back (ERR-RESTORE-TOKEN-INVALID), an
   * expired one needs no revoking (ERR-RESTORE-TOKEN-EXPIRED).
   */
  revoke(requestId: string, actor: string): RestoreTokenView {
    const now = this.#clock.now();
    const revoked = this.#audit.transact(() => {
      const row = this.#repo.byRequest(requestId);
      if (!row) throw new AppError('ERR-NOT-FOUND');
      if (row.revokedAt !== null) return false;
      if (row.redeemedAt !== null) throw new AppError('ERR-RESTORE-TOKEN-INVALID');
      if (row.expiresAt <= now) throw new AppError('ERR-RESTORE-TOKEN-EXPIRED');
      if (!this.#repo.revoke(row.id, now, actor)) throw new AppError('ERR-RESTORE-TOKEN-INVALID');
      this.#audit.append({ event: 'restore_token_revoked', actor, subject: row.id, data: { requestId, delivered: row.tokenHash !== null } });
      return true;
    });
    if (revoked) this.#changed(requestId);
    return this.view(requestId) ?? fail();
  }

  /**
   * Deletes tokens that lapsed more than TOKEN_KEEP_AFTER_EXPIRY_MS ago, each with an audit row
   * saying how it ended; the shared tick calls it. Returns how many.
   */
  sweep(): number {
    const before = this.#clock.now() - TOKEN_KEEP_AFTER_EXPIRY_MS;
    if (this.#repo.lapsed(before, 1).length === 0) return 0;
    return this.#audit.transact(() => {
      let purged = 0;
      for (const row of this.#repo.lapsed(before, PURGE_BATCH)) {
        if (!this.#repo.delete(row.id, before)) continue;
        this.#audit.append({ event: 'restore_token_purged', actor: 'system', subject: row.id, data: { requestId: row.requestId, state: toView(row, before + 1).state } });
        purged += 1;
      }
      return purged;
    });
  }
}

type DenyReason = 'unknown' | 'other-integration' | 'other-requester' | 'revoked' | 'redeemed' | 'expired';

/** Why a token may not be redeemed now, or null when it may; bindings first, then its state. */
function denyReason(row: RestoreTokenRow | undefined, integrationId: string, requester: string, now: number): DenyReason | null {
  if (!row) return 'unknown';
  if (row.integrationId !== integrationId) return 'other-integration';
  if (row.requester !== requester) return 'other-requester';
  if (row.revokedAt !== null) return 'revoked';
  if (row.redeemedAt !== null) return 'redeemed';
  if (row.expiresAt <= now) return 'expired';
  return null;
}

export function hashOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function fail(): never {
  throw new AppError('ERR-INTERNAL');
}

function toView(row: RestoreTokenRow, now: number): RestoreTokenView {
  const state = row.revokedAt !== null ? 'revoked' : row.redeemedAt !== null ? 'redeemed' : row.expiresAt <= now ? 'expired' : row.tokenHash !== null ? 'delivered' : 'issued';
  return {
    id: row.id,
    requestId: row.requestId,
    requester: row.requester,
    backupId: row.backupId,
    target: row.target,
    state,
    issuedAt: iso(row.issuedAt),
    expiresAt: iso(row.expiresAt),
    ttlSeconds: row.ttlSeconds,
  };
}
