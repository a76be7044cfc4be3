import type { Database } from '../database';

export interface IncidentRow {
  active: 0 | 1;
  changedAt: number | null;
  changedBy: string | null;
}

/** SQL for incident mode (migration 010), and nothing else. */
export class IncidentRepository {
  readonly #get;
  readonly #set;

  constructor(db: Database) {
    this.#get = db.prepare('SELECT active, changed_at AS changedAt, changed_by AS changedBy FROM incident_mode WHERE id = 1');
    // A guarded UPDATE (STYLE.md "Guards in SQL"): only a change of state writes, so two windows
    // or two processes turning it on at once make one change and one audit row, not two.
    this.#set = db.prepare('UPDATE incident_mode SET active = @active, changed_at = @at, changed_by = @by WHERE id = 1 AND active <> @active');
  }

  get(): IncidentRow {
    // The row is created by the migration; its absence would be a damaged file: fail secure (on).
    return (this.#get.get() as IncidentRow | undefined) ?? { active: 1, changedAt: null, changedBy: null };
  }

  /** True when this call changed the state (it was not already `active`). */
  set(active: boolean, at: number, by: string): boolean {
    return this.#set.run({ active: active ? 1 : 0, at, by }).changes === 1;
  }
}
