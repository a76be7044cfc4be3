import type { AuditEntry, AuditVerification } from '../domain/audit';
import type { AppInfo, UserSettings } from '../domain/settings';
import type { CreatedIntegration, GatewayStatus, IntegrationView, RestoreRequestView } from '../domain/restore-request';
import type { Language } from '../i18n';
import type { ErrorPayload } from '../errors';
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
    onChanged(listener: (settings: UserSettings) => void): Unsubscribe;
  };
  // --- gateway (issue #5) ---
  requests: {
    list(view: 'pending' | 'history', limit?: number): Promise<RestoreRequestView[]>;
    deny(id: string): Promise<RestoreRequestView>;
    /** Deny and report: flags the request and its integration as suspected MFA fatigue or fraud. */
    report(id: string): Promise<RestoreRequestView>;
    onChanged(listener: (event: EventPayload<'requests:changed'>) => void): Unsubscribe;
  };
  integrations: {
    list(): Promise<IntegrationView[]>;
    /** The answer carries the API key: the only time it is ever shown. */
    add(name: string): Promise<CreatedIntegration>;
    revoke(id: string): Promise<IntegrationView>;
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
