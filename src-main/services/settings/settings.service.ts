import type { Language } from '../../../src-shared/i18n';
import type { Sensitivity } from '../../../src-shared/domain/restore-request';
import {
  languageSchema,
  TOKEN_TTL_PURPOSE,
  tokenTtlSecondsSchema,
  type TokenTtlSetting,
  type UserSettings,
} from '../../../src-shared/domain/settings';
import { AppError } from '../../../src-shared/errors';
import type { SettingsRepository } from '../../platform/db/repositories/settings.repository';
import type { AuditLog } from '../audit/audit.service';

export type SettingsListener = (settings: UserSettings) => void;

/** The settings row and audit subject of the token TTL: its path in the config, as the README names it. */
export const TOKEN_TTL_SETTING = 'restoreTokens.ttlSeconds';

/** The chain's grants, as a weakening needs them (ChainService implements it). */
export interface SettingsGrants {
  consumeGrant(purpose: string, atLeast: Sensitivity): boolean;
}

/** Who changes a desk-wide setting, and from where: recorded in the audit row. */
export interface SettingsContext {
  /** The approver's principal, or `cli:<user>` from a shell. */
  actor: string;
  /** `desktop` (the window) or `cli`. */
  source: string;
}

export interface SettingsServiceDeps {
  repo: SettingsRepository;
  audit: AuditLog;
  /** Late-bound: the chain is built after the settings (the MFA service needs the language). */
  grants: SettingsGrants;
  /**
   * The token TTL from the config: the default, or the environment's pin when `pinnedBy` names
   * the variable that set it.
   */
  tokenTtl: { configured: number; pinnedBy: string | null };
}

/**
 * The settings kept in the database, so every process on the data directory (the window,
 * `custodian serve`, a shell) reads the same ones: the approver's language, and the restore
 * token TTL (issue 11), which each process reads again at every token issue.
 */
export class SettingsService {
  readonly #deps: SettingsServiceDeps;
  readonly #listeners = new Set<SettingsListener>();
  /** The settings listeners last heard, to tell them of another process's change only once. */
  #told: string;

  constructor(deps: SettingsServiceDeps) {
    this.#deps = deps;
    this.#told = JSON.stringify(this.get());
  }

  get(): UserSettings {
    const stored = languageSchema.safeParse(this.#deps.repo.get('language'));
    return { language: stored.success ? stored.data : 'en', tokenTtl: this.tokenTtl() };
  }

  /**
   * The TTL in force, read from the database each time (another process may have changed it a
   * moment ago). Precedence: the environment pins it (the deployment decides); otherwise the value
   * an administrator stored; otherwise the default. A stored value that does not parse (edited by
   * hand) is ignored for the default rather than trusted.
   */
  tokenTtl(): TokenTtlSetting {
    const { configured, pinnedBy } = this.#deps.tokenTtl;
    if (pinnedBy !== null) return { seconds: configured, source: 'environment', variable: pinnedBy };
    const raw = this.#deps.repo.get(TOKEN_TTL_SETTING);
    const stored = tokenTtlSecondsSchema.safeParse(raw === undefined ? undefined : Number(raw));
    if (stored.success) return { seconds: stored.data, source: 'stored', variable: null };
    return { seconds: configured, source: 'default', variable: null };
  }

  setLanguage(language: Language, actor: string): UserSettings {
    const before = this.get().language;
    if (before === language) return this.get();
    this.#deps.audit.recordChange({ event: 'settings_changed', actor, subject: 'language', data: { from: before, to: language } }, () => {
      this.#deps.repo.put('language', language);
    });
    return this.#publish();
  }

  /**
   * Sets the TTL for tokens issued from now on, in every process. Pinned by the environment:
   * ERR-SETTING-PINNED, nothing changes. Longer than the TTL in force: a weakening, so it uses up
   * a grant for TOKEN_TTL_PURPOSE from a chain at the critical policy, inside the transaction that
   * makes the change (a change that does not commit leaves the grant unused), else
   * ERR-MFA-REQUIRED. Shorter needs none. The same value changes nothing and spends nothing.
   */
  setTokenTtl(seconds: number, ctx: SettingsContext): UserSettings {
    const parsed = tokenTtlSecondsSchema.safeParse(seconds);
    if (!parsed.success) throw new AppError('ERR-VALIDATION', { field: 'seconds' });
    const { audit, repo, grants } = this.#deps;
    const pinned = this.#deps.tokenTtl.pinnedBy;
    if (pinned !== null) throw new AppError('ERR-SETTING-PINNED', { setting: TOKEN_TTL_SETTING, variable: pinned });
    const changed = audit.transact(() => {
      // Read inside the IMMEDIATE transaction: another process's change cannot land between this
      // comparison and the write, so "longer" is judged against what is really in force.
      const before = this.tokenTtl().seconds;
      if (before === parsed.data) return false;
      const longer = parsed.data > before;
      if (longer && !grants.consumeGrant(TOKEN_TTL_PURPOSE, 'critical')) throw new AppError('ERR-MFA-REQUIRED');
      repo.put(TOKEN_TTL_SETTING, String(parsed.data));
      audit.append({
        event: 'settings_changed',
        actor: ctx.actor,
        subject: TOKEN_TTL_SETTING,
        data: { from: before, to: parsed.data, source: ctx.source, ...(longer ? { stepUp: TOKEN_TTL_PURPOSE } : {}) },
      });
      return true;
    });
    return changed ? this.#publish() : this.get();
  }

  /** Another process committed (the shared tick's data_version check): tell listeners if the settings changed. */
  externalChange(): void {
    this.#publish();
  }

  onChanged(listener: SettingsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #publish(): UserSettings {
    const settings = this.get();
    const key = JSON.stringify(settings);
    if (key === this.#told) return settings;
    this.#told = key;
    for (const listener of this.#listeners) listener(settings);
    return settings;
  }
}
