import type { AuditEntry, AuditVerification } from '../domain/audit';
import type { BackupCodesStatus, EnrollmentView, Factor, LockStatus, Profile, Role, TotpAlgorithm } from '../domain/mfa';
import type { AppInfo, UserSettings } from '../domain/settings';
import type { CreatedIntegration, GatewayStatus, IntegrationView, RestoreRequestView } from '../domain/restore-request';
import type { Language } from '../i18n';
import type { ChainAttemptView, ChainStartPurpose, FactorChallenge, Policy } from '../domain/policy';
import type { Sensitivity } from '../domain/restore-request';
import type { ErrorPayload } from '../errors';
import type { ApprovalPreview, RestoreTokenView } from '../domain/approval';
import type { IncidentChange, IncidentState } from '../domain/incident';
import type { SmsConfigView, SmsTestResult } from '../domain/sms';
import type { PushAnswer, PushPrompt } from '../domain/push';
import type { EventPayload } from './contract';

export type Unsubscribe = () => void;

/**
 * `window.custodian`: one function per operation, grouped by area (STYLE.md rule 4). Calls
 * resolve with the contract's response or reject with an ErrorPayload; no channel name and no
 * ipcRenderer ever reach the page.
 */
export interface CustodianApi {
  app: {
    info(): Promise<AppInfo>;
  };
  audit: {
    list(options?: { limit?: number; beforeId?: number }): Promise<{ entries: AuditEntry[]; total: number }>;
    verify(): Promise<AuditVerification>;
    onAppended(listener: (event: EventPayload<'audit:appended'>) => void): Unsubscribe;
  };
  settings: {
    get(): Promise<UserSettings>;
    setLanguage(language: Language): Promise<UserSettings>;
    /** For tokens issued from now on; a longer one needs a grant for `settings:token-ttl` from a critical chain first. */
    setTokenTtl(seconds: number): Promise<UserSettings>;
    onChanged(listener: (settings: UserSettings) => void): Unsubscribe;
  };
  profile: {
    get(): Promise<{ profile: Profile | null }>;
    init(profile: { displayName: string; principal: string; role: Role }): Promise<Profile>;
    /** A privilege change: needs a grant for `profile:role:<role>` from a critical chain first. */
    setRole(role: Role): Promise<Profile>;
  };
  factors: {
    list(): Promise<{ factors: Factor[]; backupCodes: BackupCodesStatus }>;
    /**
     * Once MFA is on, needs a grant for `factors:enroll` from a critical chain first; a chain
     * where a backup code stood in makes a recovery factor.
     */
    enroll(
      options: { type?: 'totp'; label: string; digits?: 6 | 8; period?: 30 | 60; algorithm?: TotpAlgorithm } | { type: 'sms'; label: string; phone: string }
        | { type: 'push'; label: string },
    ): Promise<EnrollmentView>;
    /** A pending factor's QR code again; takes a grant as enrolling does. */
    resume(factorId: string): Promise<EnrollmentView>;
    /** A pending SMS factor's confirming code, sent again; counted by the SMS send limit. */
    resendCode(factorId: string): Promise<{ sent: { digits: number; resendAfter: string } }>;
    /** Drops a pending factor and deletes its secret. */
    removePending(factorId: string): Promise<{ factorId: string }>;
    /** "Can't scan?": the secret for manual entry, once per enrollment. */
    revealSecret(factorId: string): Promise<{ secret: string }>;
    /** The first confirmed factor turns MFA on and returns the backup codes, shown once. */
    confirm(factorId: string, code: string): Promise<{ factor: Factor; backupCodes: string[] | null }>;
    rename(factorId: string, label: string): Promise<Factor>;
    /** Needs a grant for `factors:disable:<factorId>` from a critical chain; stops a recovery factor too. */
    disable(factorId: string): Promise<Factor>;
    onChanged(listener: () => void): Unsubscribe;
  };
  backupCodes: {
    /** Needs a grant for `backup-codes:regenerate` from a critical chain; every old code stops working. */
    regenerate(): Promise<{ codes: string[]; status: BackupCodesStatus }>;
  };
  lock: {
    status(): Promise<LockStatus>;
    unlock(code: string): Promise<LockStatus>;
    lock(): Promise<LockStatus>;
    /** Tells main the approver is active, so the idle lock waits. */
    activity(): Promise<LockStatus>;
    onChanged(listener: (status: LockStatus) => void): Unsubscribe;
  };
  /** Factor chains (issue 10): the steps in order, never a secret. */
  chain: {
    start(purpose: ChainStartPurpose, sensitivity: Sensitivity): Promise<ChainAttemptView>;
    /** `factorId` is the current step's, or `backup` for a backup code standing in once. */
    verifyStep(attemptId: string, factorId: string, code: string): Promise<ChainAttemptView>;
    /** What the current step asks for (issue 12); for SMS this sends the code, for push raises the prompt. */
    challenge(attemptId: string): Promise<FactorChallenge>;
    get(attemptId: string): Promise<ChainAttemptView>;
  };
  policies: {
    list(): Promise<Policy[]>;
    /** A weaker policy needs a `policies:weaken` grant from a critical chain first. */
    save(policy: Policy): Promise<Policy>;
  };
  /** The approval pipeline (issue 11): preview, then a chain for `approve:<id>`, then approve. */
  approvals: {
    preview(requestId: string): Promise<ApprovalPreview>;
    /** The match code the requester shows; answers the token's metadata, never the token. */
    approve(requestId: string, matchCode: string): Promise<{ request: RestoreRequestView; token: RestoreTokenView }>;
  };
  tokens: {
    /** A request's token: metadata and countdown only; null when it has none. */
    get(requestId: string): Promise<RestoreTokenView | null>;
    /** Takes back a token not yet redeemed. */
    revoke(requestId: string): Promise<RestoreTokenView>;
  };
  /** Incident mode (issue 11): on at once; off after a critical chain for `incident:leave`. */
  incident: {
    get(): Promise<IncidentState>;
    turnOn(): Promise<IncidentChange>;
    /** ERR-MFA-REQUIRED until a chain at the critical policy for `incident:leave` completed. */
    turnOff(): Promise<IncidentChange>;
    onChanged(listener: (state: IncidentState) => void): Unsubscribe;
  };
  /** SMS through Twilio (issue 12): the credentials go in, only what is set comes back, masked. */
  sms: {
    getConfig(): Promise<SmsConfigView>;
    /** Leave `authToken` out to keep the saved one (same account only). */
    setConfig(config: { accountSid: string; authToken?: string; sender: string }): Promise<SmsConfigView>;
    /** A fixed test text to `to`; answers Twilio's message SID and the number masked. */
    test(to: string): Promise<SmsTestResult>;
  };
  /** Push (issue 12): this window is the approver's push device. */
  push: {
    /** The pushes waiting for an answer, from this window or another process. */
    pending(): Promise<PushPrompt[]>;
    /** Picks one of the prompt's three numbers. */
    answer(id: string, number: number): Promise<PushAnswer>;
    /** "Deny and report": the step fails and a security event is recorded. */
    deny(id: string): Promise<PushAnswer>;
    onChanged(listener: () => void): Unsubscribe;
  };
  requests: {
    list(view: 'pending' | 'history', limit?: number): Promise<RestoreRequestView[]>;
    deny(id: string): Promise<RestoreRequestView>;
    /** Deny and report: flags the request and its integration as suspected MFA fatigue or fraud. */
    report(id: string): Promise<RestoreRequestView>;
    onChanged(listener: (event: EventPayload<'requests:changed'>) => void): Unsubscribe;
    /** How many requests wait; answered while locked too, as it says nothing about them. */
    pendingCount(): Promise<number>;
    onPendingCount(listener: (count: number) => void): Unsubscribe;
  };
  integrations: {
    list(): Promise<IntegrationView[]>;
    /** The answer carries the API key: the only time it is ever shown. */
    add(name: string): Promise<CreatedIntegration>;
    revoke(id: string): Promise<IntegrationView>;
    /** Lifts the mute a report set; an integration that is not muted is answered as it is. */
    unmute(id: string): Promise<IntegrationView>;
    onChanged(listener: () => void): Unsubscribe;
  };
  gateway: {
    status(): Promise<GatewayStatus>;
    onStatus(listener: (status: GatewayStatus) => void): Unsubscribe;
  };
  // --- end gateway ---
}

export type CustodianError = ErrorPayload;

export function isCustodianError(value: unknown): value is CustodianError {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}
