import type { Database } from '../database';
import type { ChainLink } from '../../../services/audit/audit-chain';

export interface AuditRow {
  id: number;
  ts: string;
  event: string;
  actor: string;
  subject: string;
  source: string;
  userAgent: string;
  /** JSON text of the row's data object; null only if someone broke the row's content. */
  data: string | null;
  prevHash: string;
  hash: string;
}

const ROW_COLUMNS = 'id, ts, event, actor, subject, source, user_agent AS userAgent, data, prev_hash AS prevHash, hash';
// The verify walk pages with all() (cheaper per row than iterate()) and lets SQLite join the
// bytes the hash covers, so JavaScript builds one string per row instead of four.
const LINK_PAGE_SIZE = 4000;

/** SQL for the audit log, and nothing else (DESIGN.md "Storage behind repositories"). */
export class AuditRepository {
  readonly #insert;
  readonly #head;
  readonly #links;
  readonly #page;
  readonly #pageBefore;
  readonly #after;
  readonly #count;
  readonly #hashAt;

  constructor(db: Database) {
    this.#insert = db.prepare('INSERT INTO audit_log (id, content, prev_hash, hash) VALUES (?, ?, ?, ?)');
    this.#head = db.prepare('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1');
    this.#links = db
      .prepare("SELECT id, prev_hash || char(10) || content, hash FROM audit_log WHERE id > ? AND id <= ? ORDER BY id LIMIT ?")
      .raw(true);
    this.#page = db.prepare(`SELECT ${ROW_COLUMNS} FROM audit_log ORDER BY id DESC LIMIT ?`);
    this.#pageBefore = db.prepare(`SELECT ${ROW_COLUMNS} FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?`);
    this.#after = db.prepare(`SELECT ${ROW_COLUMNS} FROM audit_log WHERE id > ? ORDER BY id LIMIT ?`);
    this.#count = db.prepare('SELECT COUNT(*) FROM audit_log').pluck();
    this.#hashAt = db.prepare('SELECT hash FROM audit_log WHERE id = ?').pluck();
  }

  hashAt(id: number): string | undefined {
    return this.#hashAt.get(id) as string | undefined;
  }

  insert(id: number, content: string, prevHash: string, hash: string): void {
    this.#insert.run(id, content, prevHash, hash);
  }

  head(): { id: number; hash: string } | undefined {
    return this.#head.get() as { id: number; hash: string } | undefined;
  }

  /** The links after row `after` up to row `through`, in id order, a page at a time. */
  *linkPages(after = Number.MIN_SAFE_INTEGER, through = Number.MAX_SAFE_INTEGER): Generator<ChainLink[]> {
    for (;;) {
      const rows = this.#links.all(after, through, LINK_PAGE_SIZE) as ChainLink[];
      if (rows.length === 0) return;
      yield rows;
      after = (rows[rows.length - 1] as ChainLink)[0];
    }
  }

  page(limit: number, beforeId?: number): AuditRow[] {
    return (beforeId === undefined ? this.#page.all(limit) : this.#pageBefore.all(beforeId, limit)) as AuditRow[];
  }

  /** Every row in id order, a page at a time (exports). */
  *rows(pageSize = 1000): Generator<AuditRow> {
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = this.#after.all(after, pageSize) as AuditRow[];
      if (rows.length === 0) return;
      yield* rows;
      after = (rows[rows.length - 1] as AuditRow).id;
    }
  }

  count(): number {
    return this.#count.get() as number;
  }
}
