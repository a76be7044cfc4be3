import type { Migration } from './index';

export const m001AuditAndSettings: Migration = {
  version: 1,
  name: 'audit-and-settings',
  up(db) {
    db.exec(`
      -- content is the canonical JSON array the hash covers; every other column is generated
      -- from it, so a row has one source of truth and nothing beside it to edit unnoticed.
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        content TEXT NOT NULL CHECK (json_valid(content)),
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        ts TEXT GENERATED ALWAYS AS (json_extract(content, '$[1]')) VIRTUAL,
        event TEXT GENERATED ALWAYS AS (json_extract(content, '$[2]')) VIRTUAL,
        actor TEXT GENERATED ALWAYS AS (json_extract(content, '$[3]')) VIRTUAL,
        subject TEXT GENERATED ALWAYS AS (json_extract(content, '$[4]')) VIRTUAL,
        source TEXT GENERATED ALWAYS AS (json_extract(content, '$[5]')) VIRTUAL,
        user_agent TEXT GENERATED ALWAYS AS (json_extract(content, '$[6]')) VIRTUAL,
        data TEXT GENERATED ALWAYS AS (json_extract(content, '$[7]')) VIRTUAL
      ) STRICT;
      CREATE INDEX audit_log_event ON audit_log (event, id);

      -- Append-only by construction. Someone with the file can drop these triggers; the hash
      -- chain is what catches that.
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `);
  },
};
