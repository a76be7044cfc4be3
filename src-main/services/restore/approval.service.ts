import { timingSafeEqual } from 'node:crypto';
import {
  approvePurpose,
  classificationLevel,
  INCIDENT_MODE_FLOOR,
  POLICY_RULES,
  ROLE_CEILINGS,
  sensitivityRank,
  type ApprovalCheck,
  type ApprovalPreview,
  type PolicyRule,
  type RestoreTokenView,
} from '../../../src-shared/domain/approval';
import type { Profile } from '../../../src-shared/domain/mfa';
import type { RestoreRequestView } from '../../../src-shared/domain/restore-request';
import { AppError, isAppError, type ErrorCode } from '../../../src-shared/errors';
import { assertNever } from '../../../src-shared/assert-never';
import type { Clock } from '../../clock';
import type { ProfilesRepository } from '../../platform/db/repositories/profiles.repository';
import type { RestoreRequestRow, RestoreRequestsRepository } from '../../platform/db/repositories/restore-requests.repository';
import type { AuditLog } from '../audit/audit.service';
import type { StepContext } from '../chain/chain-ports';
import type { IntegrationsService } from '../gateway/integrations.service';
import type { StepUpGrants } from '../policy/policy.service';
import type { RestoreTokensService } from '../tokens/restore-tokens.service';
import { parseContext } from './restore-requests.service';

/**
 * Incident mode as the approval sees it (DESIGN.md "Domain"). Another part of issue 11 builds the
 * switch; the composition root passes whatever implements it.
 */
export interface IncidentMode {
  isOn(): boolean;
}

/** Where an approval comes from: the window or a shell (`custodian approve`). */
export interface ApprovalContext {
  source: 'desktop' | 'cli';
  sourceIp?: string | null;
  userAgent?: string | null;
}

export interface ApprovalDeps {
  requests: RestoreRequestsRepository;
  /** Wakes the requesters long-polling on a request and tells the window, after a commit. */
  decided: (requestId: string) => void;
  /** Reads a request as the desk shows it. */
  view: (requestId: string) => RestoreRequestView;
  tokens: RestoreTokensService;
  integrations: IntegrationsService;
  profiles: ProfilesRepository;
  /** The desk's lock in this process (the window's session). */
  lock: { isLocked(): boolean };
  grants: StepUpGrants;
  /** The profile's MFA attempt budget (issue 9, item 3), shared with every code check. */
  attempts: { takeAttemptSlot(ctx: StepContext): void };
  incident: IncidentMode;
  audit: AuditLog;
  clock: Clock;
  /**
   * `restoreTokens.ttlSeconds` as SettingsService resolves it (the environment's pin, else the
   * stored value, else the default), read at each issue inside its transaction, so a change made
   * in any process applies to tokens issued after it (DESIGN.md "Restore approval").
   */
  tokenTtlSeconds: () => number;
}

export interface Approved {
  request: RestoreRequestView;
  token: RestoreTokenView;
}

type Gate = 'authentication' | 'mfa' | 'policy';
type Verdict = { kind: 'approved'; token: RestoreTokenView } | { kind: 'denied'; code: ErrorCode };

/** The code each policy rule answers with (DESIGN.md "Error contract"). */
function codeFor(rule: PolicyRule): ErrorCode {
  switch (rule) {
    case 'expiry':
      return 'ERR-RESTORE-EXPIRED';
    case 'self-approval':
      return 'ERR-RESTORE-SELF-APPROVAL';
    case 'role-ceiling':
    case 'backup-classification':
      return 'ERR-RESTORE-POLICY-DENIED';
    case 'incident-mode':
      return 'ERR-RESTORE-INCIDENT-MODE';
    default:
      return assertNever(rule);
  }
}

/**
 * Approving a restore request (issue 11; DESIGN.md "Restore approval"): one service runs the four
 * gates in order, each only after the one before passed, in one IMMEDIATE transaction with their
 * audit rows:
 * 1. authentication: a profile, the desk unlocked, the request's integration active and unmuted;
 * 2. MFA step-up: a grant from a completed chain for `approve:<id>` at the request's sensitivity,
 *    and the match code the requester shows (a wrong one burns the grant and counts as a failed
 *    attempt);
 * 3. policy: expiry, self-approval, the role's ceiling, the backup's classification, incident mode;
 * 4. the token, bound to requester, integration, backup and target.
 * A deny commits its audit row (and the spent grant) and then throws its code; an approval
 * commits the decision, the token row and their audit rows together. The decision is a guarded
 * UPDATE on a pending row, under SQLite's write lock, so two approvers in two processes yield
 * one approval and one token at most.
 */
export class ApprovalService {
  readonly #d: ApprovalDeps;

  constructor(deps: ApprovalDeps) {
    this.#d = deps;
  }

  /**
   * The policy checks as they stand now, for the screen before the chain starts. It shows what
   * the request card shows and the approver's own standing, nothing about the backup.
   */
  preview(requestId: string): ApprovalPreview {
    const row = this.#d.requests.byId(requestId);
    if (!row) throw new AppError('ERR-NOT-FOUND');
    const profile = this.#d.profiles.current();
    if (!profile) throw new AppError('ERR-PROFILE-REQUIRED');
    const now = this.#d.clock.now();
    const failing = new Set(this.#failing(row, profile, now, false));
    const checks: ApprovalCheck[] = (['role-ceiling', 'self-approval', 'incident-mode', 'expiry'] as const).map((rule) => ({
      rule,
      state: failing.has(rule) ? 'fail' : 'pass',
    }));
    return { requestId, sensitivity: row.sensitivity, ceiling: ROLE_CEILINGS[profile.role], checks };
  }

  /**
   * Runs the gates; answers the approved request and its token's metadata (never the token: the
   * requester collects that on its next status read), or throws the deny's code.
   */
  approve(requestId: string, matchCode: string, ctx: ApprovalContext): Approved {
    const { audit, requests, clock } = this.#d;
    const where = { sourceIp: ctx.sourceIp ?? null, userAgent: ctx.userAgent ?? null };
    const verdict = audit.transact((): Verdict => {
      const now = clock.now();
      const row = requests.byId(requestId);
      // The id is on the desk's own list; that it exists tells nobody anything about a backup.
      if (!row) throw new AppError('ERR-NOT-FOUND');
      const profile = this.#d.profiles.current();
      const actor = profile?.principal ?? 'local';
      const base = { requestId, integrationId: row.integrationId, sensitivity: row.sensitivity, source: ctx.source };
      const deny = (gate: Gate, rule: string, code: ErrorCode, extra: Record<string, string | boolean> = {}): Verdict => {
        audit.append({ event: 'restore_approval_denied', actor, subject: requestId, ...where, data: { ...base, gate, rule, errorCode: code, ...extra } });
        return { kind: 'denied', code };
      };

      // Gate 1: authentication.
      if (!profile) return deny('authentication', 'no-profile', 'ERR-PROFILE-REQUIRED');
      // The lock belongs to the window's session. A shell has no desk to lock: the OS account
      // and the chain that follows are what authenticate `custodian approve`.
      if (ctx.source === 'desktop' && this.#d.lock.isLocked()) return deny('authentication', 'locked', 'ERR-LOCKED');
      let mutedUntil: number | null;
      try {
        // Read inside the transaction: a revocation committed by any process counts.
        mutedUntil = this.#d.integrations.current(row.integrationId).mutedUntil;
      } catch (error) {
        if (isAppError(error) && error.code === 'ERR-AUTH-INVALID-KEY') return deny('authentication', 'integration-revoked', 'ERR-AUTH-INVALID-KEY');
        throw error;
      }
      if (mutedUntil !== null && mutedUntil > now) return deny('authentication', 'integration-muted', 'ERR-AUTH-INVALID-KEY');
      // Decided by someone else (a race lost): nothing is spent, nothing recorded.
      if (row.status === 'approved' || row.status === 'denied') throw new AppError('ERR-RESTORE-ALREADY-DECIDED');

      // Gate 2: MFA step-up. The grant is spent in this transaction, so it is spent whatever the
      // later gates say (one chain, one try), and not spent if the transaction rolls back.
      if (!this.#d.grants.consumeGrant(approvePurpose(requestId), row.sensitivity)) return deny('mfa', 'mfa-required', 'ERR-MFA-REQUIRED');
      if (!matchCodeEquals(matchCode, row.matchCode)) {
        // A failed MFA attempt against the profile's budget (issue 11), beside the burnt grant.
        let rateLimited = false;
        try {
          this.#d.attempts.takeAttemptSlot({ source: ctx.source, sourceIp: ctx.sourceIp ?? null, userAgent: ctx.userAgent ?? null });
        } catch (error) {
          if (!isAppError(error) || error.code !== 'ERR-MFA-RATE-LIMITED') throw error;
          rateLimited = true;
        }
        return deny('mfa', 'match-mismatch', 'ERR-RESTORE-MATCH-MISMATCH', { rateLimited });
      }
      audit.append({ event: 'restore_approval_mfa_passed', actor, subject: requestId, ...where, data: { ...base } });

      // Gate 3: policy. The backup's metadata is looked at here, after MFA, and not before.
      const [rule] = this.#failing(row, profile, now, true);
      if (rule) return deny('policy', rule, codeFor(rule));
      audit.append({
        event: 'restore_approval_policy_allowed',
        actor,
        subject: requestId,
        ...where,
        data: { ...base, ceiling: ROLE_CEILINGS[profile.role], rules: POLICY_RULES.join(',') },
      });

      // Gate 4: the decision (guarded: only a pending request) and the token, together.
      if (!requests.decide(requestId, 'approved', now, actor, false)) throw new AppError('ERR-RESTORE-ALREADY-DECIDED');
      audit.append({ event: 'restore_request_approved', actor, subject: requestId, ...where, data: { ...base, requester: row.requester } });
      const token = this.#d.tokens.issueWithin(
        { requestId, integrationId: row.integrationId, requester: row.requester, backupId: row.backupId, target: row.target },
        this.#d.tokenTtlSeconds(),
        actor,
      );
      return { kind: 'approved', token };
    });
    switch (verdict.kind) {
      case 'denied':
        throw new AppError(verdict.code);
      case 'approved':
        this.#d.decided(requestId);
        return { request: this.#d.view(requestId), token: verdict.token };
      default:
        return assertNever(verdict);
    }
  }

  /**
   * The policy rules that fail now, in POLICY_RULES order. `withMetadata` adds the backup's
   * classification, which only the authoritative check after MFA looks at.
   */
  #failing(row: RestoreRequestRow, profile: Profile, now: number, withMetadata: boolean): PolicyRule[] {
    const failing: PolicyRule[] = [];
    const rank = sensitivityRank(row.sensitivity);
    for (const rule of POLICY_RULES) {
      switch (rule) {
        case 'expiry':
          if (row.status === 'expired' || row.expiresAt <= now) failing.push(rule);
          break;
        case 'self-approval':
          if (samePrincipal(profile.principal, row.requester)) failing.push(rule);
          break;
        case 'role-ceiling':
          if (rank > sensitivityRank(ROLE_CEILINGS[profile.role])) failing.push(rule);
          break;
        case 'backup-classification': {
          if (!withMetadata) break;
          // The chain ran at the request's sensitivity: a backup classified above it (or with a
          // classification nobody knows, which counts as critical) needs a request that says so.
          const classified = classificationLevel(parseContext(row.context));
          if (classified !== null && sensitivityRank(classified) > rank) failing.push(rule);
          break;
        }
        case 'incident-mode':
          if (rank >= sensitivityRank(INCIDENT_MODE_FLOOR) && this.#d.incident.isOn()) failing.push(rule);
          break;
        default:
          assertNever(rule);
      }
    }
    return failing;
  }
}

/** Principals name people case-insensitively (`Alice@Corp` is `alice@corp`). */
function samePrincipal(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * The typed number against the stored one, in constant time (BRIEF: secrets and codes compare
 * with timingSafeEqual). Anything but two digits is a mismatch, compared all the same.
 */
function matchCodeEquals(typed: string, expected: number): boolean {
  const clean = typed.trim();
  const wellFormed = /^[0-9]{2}$/.test(clean);
  const a = Buffer.from(wellFormed ? clean : '--', 'utf8');
  const b = Buffer.from(String(expected).padStart(2, '0'), 'utf8');
  return timingSafeEqual(a, b) && wellFormed;
}
