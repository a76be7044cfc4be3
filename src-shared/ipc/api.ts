import type { AuditEntry, AuditVerification } from '../domain/audit';
import type { AppInfo, UserSettings } from '../domain/settings';
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
}

export type CustodianError = ErrorPayload;

export function isCustodianError(value: unknown): value is CustodianError {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}
