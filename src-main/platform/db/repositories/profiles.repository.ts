import type { Profile, Role } from '../../../../src-shared/domain/mfa';
import type { Database } from '../database';

interface ProfileRow {
  id: string;
  displayName: string;
  principal: string;
  role: Role;
  mfaEnabled: number;
}

const toProfile = (r: ProfileRow): Profile => ({ ...r, mfaEnabled: r.mfaEnabled === 1 });

/** The approver at this desktop: one profile per data directory. */
export class ProfilesRepository {
  readonly #first;
  readonly #insert;
  readonly #setRole;
  readonly #setMfa;

  constructor(db: Database) {
    this.#first = db.prepare(
      'SELECT id, display_name AS displayName, principal, role, mfa_enabled AS mfaEnabled FROM profiles ORDER BY created_at LIMIT 1',
    );
    this.#insert = db.prepare(
      'INSERT INTO profiles (id, display_name, principal, role, mfa_enabled, created_at) VALUES (?, ?, ?, ?, 0, ?)',
    );
    this.#setRole = db.prepare('UPDATE profiles SET role = ? WHERE id = ?');
    this.#setMfa = db.prepare('UPDATE profiles SET mfa_enabled = ? WHERE id = ?');
  }

  current(): Profile | null {
    const row = this.#first.get() as ProfileRow | undefined;
    return row ? toProfile(row) : null;
  }

  insert(p: { id: string; displayName: string; principal: string; role: Role; createdAt: string }): void {
    this.#insert.run(p.id, p.displayName, p.principal, p.role, p.createdAt);
  }

  setRole(id: string, role: Role): void {
    this.#setRole.run(role, id);
  }

  setMfaEnabled(id: string, enabled: boolean): void {
    this.#setMfa.run(enabled ? 1 : 0, id);
  }
}
