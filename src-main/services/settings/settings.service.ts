import type { Language } from '../../../src-shared/i18n';
import { languageSchema, type UserSettings } from '../../../src-shared/domain/settings';
import type { SettingsRepository } from '../../platform/db/repositories/settings.repository';
import type { AuditLog } from '../audit/audit.service';

export type SettingsListener = (settings: UserSettings) => void;

/** The approver's own preferences, kept in the database so every process sees the same ones. */
export class SettingsService {
  readonly #repo: SettingsRepository;
  readonly #audit: AuditLog;
  readonly #listeners = new Set<SettingsListener>();

  constructor(repo: SettingsRepository, audit: AuditLog) {
    this.#repo = repo;
    this.#audit = audit;
  }

  get(): UserSettings {
    const stored = languageSchema.safeParse(this.#repo.get('language'));
    return { language: stored.success ? stored.data : 'en' };
  }

  setLanguage(language: Language, actor: string): UserSettings {
    const before = this.get().language;
    if (before === language) return this.get();
    this.#audit.recordChange({ event: 'settings_changed', actor, subject: 'language', data: { from: before, to: language } }, () => {
      this.#repo.put('language', language);
    });
    const settings = this.get();
    for (const listener of this.#listeners) listener(settings);
    return settings;
  }

  onChanged(listener: SettingsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
