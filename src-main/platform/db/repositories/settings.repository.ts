import type { Database } from '../database';

export class SettingsRepository {
  readonly #get;
  readonly #put;

  constructor(db: Database) {
    this.#get = db.prepare('SELECT value FROM settings WHERE key = ?').pluck();
    this.#put = db.prepare(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
  }

  get(key: string): string | undefined {
    return this.#get.get(key) as string | undefined;
  }

  put(key: string, value: string): void {
    this.#put.run(key, value);
  }
}
