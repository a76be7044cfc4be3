import type { Migration } from './index';

/**
 * Issue 11.
 * - `incident_mode`: one row, whether incident mode is on (DESIGN.md "Domain": restores at high
 *   and above are then denied), since when and by whom. It lives in the database, not in a
 *   process, so the app, `custodian serve` and the CLI all see one state; every change is a
 *   guarded UPDATE committed with its audit row.
 * - `restore_requests.source`: where a request came from, masked as the audit log masks it (an
 *   IPv4 /24, an IPv6 /48), so `custodian requests show` and the desk can say it without the full
 *   address ever being stored. Older rows have none (NULL).
 */
export const m010IncidentMode: Migration = {
  version: 10,
  name: 'incident-mode',
  up(db) {
    db.exec(`
      CREATE TABLE incident_mode (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        active INTEGER NOT NULL CHECK (active IN (0, 1)),
        changed_at INTEGER,
        changed_by TEXT
      ) STRICT;
      INSERT INTO incident_mode (id, active) VALUES (1, 0);

      ALTER TABLE restore_requests ADD COLUMN source TEXT;
    `);
  },
};
