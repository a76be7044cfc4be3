import { AppError, isAppError } from '../../../src-shared/errors';
import type { Database } from '../../platform/db/database';
import { databaseId } from '../../platform/db/database';
import { EPOCH_SCOPE, ROOT_RESEAL_SQL, liveExpr, resealSql, rowMacExpr, type SealedTable } from '../../platform/db/migrations/013-state-seals';
import { schemaVersion } from '../../platform/db/database';
import {
  epochOf,
  hasSealedState,
  raiseStateFloor,
  resetStateFloor,
  rootMatches,
  sameMac,
  sealEmptyDatabase,
  sealedTablesAt,
  stateKeyFor,
  stateKeyStored,
  stateMac,
  unstoredStateKey,
  useStateKey,
} from '../../platform/db/state-mac';
import type { SecretStore } from '../../platform/keychain/secret-store';
import type { Random } from '../../random';
import type { AuditLog } from '../audit/audit.service';

/** The state MAC key's keychain account, named after the database's own id like the audit anchor. */
export function stateKeyAccount(id: string): string {
  return `state-mac:${id}`;
}

/**
 * The keychain account holding the state epoch last seen committed (issue 13, item 4): a file put
 * back from an older copy shows a lower one. Updated lazily, like the audit anchor.
 */
export function stateEpochAccount(id: string): string {
  return `state-epoch:${id}`;
}

/** A sealed row or seal that does not match: what `doctor` names. */
export interface StateFinding {
  table: string;
  row: string;
}

/**
 * The state seals' key (issue 13, item 4; migration 013). `ready` reads it from the keychain once
 * per process and keeps it in memory: the seals are checked on every hot path (a code, a slot, a
 * redeem), a D-Bus round trip each would cost more than the check. It is not dropped on lock: the
 * gateway redeems tokens and `serve` answers while the desk is locked, and the key grants nothing
 * to whoever holds it but the power to write state this user's processes can already write; the
 * secrets a lock drops (factor secrets, backup-code keys) are the ones that verify a person.
 *
 * Adoption: rows written before migration 013 have no MAC. The first process that finds no key
 * for this database makes one and MACs every such row once, recording `state_sealed` in the audit
 * log. A key found missing after anything was sealed (a MAC, a seal, or that audit row exists) is
 * never replaced: it would bless whatever the file holds now. That is ERR-STATE-TAMPERED.
 */
export class StateSeal {
  readonly #db: Database;
  readonly #secrets: SecretStore;
  readonly #random: Random;
  readonly #audit: AuditLog;
  readonly #id: string;
  #loading: Promise<void> | undefined;
  /** A key made in this process that the keychain has not confirmed holding yet. */
  #unstored: Buffer | undefined;

  constructor(deps: { db: Database; secrets: SecretStore; random: Random; audit: AuditLog }) {
    this.#db = deps.db;
    this.#secrets = deps.secrets;
    this.#random = deps.random;
    this.#audit = deps.audit;
    this.#id = databaseId(this.#db);
    // A new database got its key when it was opened (sealNewDatabase); one just migrated, with
    // rows to adopt, gets it here, at once, so the synchronous repositories can seal from the
    // first write. `ready` puts either in the keychain.
    this.#unstored = unstoredStateKey(this.#id);
    if (this.#unstored) {
      this.ready().catch(() => undefined);
    } else if (!stateKeyFor(this.#id) && !this.#sealedBefore()) {
      this.#unstored = this.#random.bytes(32);
      useStateKey(this.#id, this.#unstored);
      this.#adopt();
      // Into the keychain at once: another process (the CLI) opening this database needs it there.
      this.ready().catch(() => undefined);
    } else if (stateKeyFor(this.#id)) {
      // The key is in this process already (another connection loaded it): the live sets of a
      // database sealed before migration 014 are sealed now, before this connection writes.
      this.#adoptLive();
    }
  }

  /** The key is in memory and in the keychain. */
  settled(): boolean {
    return stateKeyFor(this.#id) !== undefined && this.#unstored === undefined;
  }

  /**
   * Resolves once the key is in memory and in the keychain (and old rows adopted); concurrent
   * callers share one load. Rejects with ERR-KEYCHAIN-UNAVAILABLE while the keychain does not
   * answer, and with ERR-STATE-TAMPERED when sealed state has no key (it is never replaced).
   */
  ready(): Promise<void> {
    if (this.settled()) return Promise.resolve();
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    const account = stateKeyAccount(this.#id);
    let stored = await this.#secrets.get(account);
    // Asked once more just before writing: the first answer may have waited behind a child process
    // run synchronously (a test, a script) that stored its own key meanwhile. The keychain has no
    // compare-and-set; this narrows the window to the one round trip.
    if (stored === null && this.#unstored) stored = await this.#secrets.get(account);
    if (stored === null && this.#unstored) {
      await this.#secrets.set(account, this.#unstored.toString('base64'));
      this.#unstored = undefined;
      stateKeyStored(this.#id);
      // An empty root may be another process's that never stored its key: with nothing sealed
      // under it, it is written again under this key, the one the keychain now holds.
      this.#resealEmptyRoot();
      this.#adoptLive();
      return;
    }
    if (stored === null) throw new AppError('ERR-STATE-TAMPERED', { table: 'keychain', row: account });
    const key = Buffer.from(stored, 'base64');
    if (key.length !== 32) throw new AppError('ERR-STATE-TAMPERED', { table: 'keychain', row: account });
    // The epoch floor before the key: sealed writes start only once an older copy can be told.
    raiseStateFloor(this.#id, await this.#keychainEpoch());
    // The keychain holds a key while this process made one of its own, as the database looked as if
    // nothing had ever been sealed. Either another process opened the new database too and stored
    // its key first (it then sealed what it wrote under it), or the MACs and seals were stripped
    // from the file. The keychain's key is the key: the seals tell which.
    const other = this.#unstored !== undefined && !this.#unstored.equals(key);
    this.#unstored = undefined;
    stateKeyStored(this.#id);
    useStateKey(this.#id, key);
    this.#resealEmptyRoot();
    if (other && !rootMatches(this.#db, key)) throw new AppError('ERR-STATE-TAMPERED', { table: 'state_seals', row: '*' });
    // A process that stored the key but stopped before adopting: nothing was sealed yet.
    this.#adopt();
    this.#adoptLive();
  }

  /** The epoch the keychain holds for this database (0 when none yet). */
  async #keychainEpoch(): Promise<bigint> {
    const stored = await this.#secrets.get(stateEpochAccount(this.#id));
    return stored !== null && /^\d{1,19}$/.test(stored) ? BigInt(stored) : 0n;
  }

  /** The epoch of the state as committed in the file. */
  #fileEpoch(): bigint {
    return epochOf(this.#db.prepare('SELECT mac FROM state_seals WHERE scope = ?').pluck().get(EPOCH_SCOPE));
  }

  /** The epoch this process last put in (or found in) the keychain. */
  #anchored = 0n;

  /**
   * Puts the committed state epoch in the keychain when it moved on (the tick, start and dispose
   * call this), and raises this process's floor to it. Lazy, like the audit anchor: a copy of the
   * file taken after the last anchoring is not told from the real one, an older one is. Several
   * processes share the entry: each writes only an epoch the file has committed, so the entry
   * never runs ahead of the file; two writers racing may leave it a little behind, never ahead.
   * A keychain epoch above the file's is an older copy put back: the floor is raised to it, so
   * every sealed change fails closed with ERR-STATE-TAMPERED, and doctor names it.
   */
  anchorEpoch(): Promise<void> {
    // One keychain round trip at a time per process: the tick may come again before it answers.
    this.#anchoring ??= this.#anchorEpoch().finally(() => {
      this.#anchoring = undefined;
    });
    return this.#anchoring;
  }

  #anchoring: Promise<void> | undefined;

  async #anchorEpoch(): Promise<void> {
    if (!this.settled() || !this.#db.open || this.#resealing) return;
    if (this.#fileEpoch() <= this.#anchored) return;
    const stored = await this.#keychainEpoch();
    if (!this.#db.open) return;
    const committed = this.#fileEpoch();
    if (stored > committed) {
      raiseStateFloor(this.#id, stored);
      return;
    }
    if (committed > stored) await this.#secrets.set(stateEpochAccount(this.#id), committed.toString());
    this.#anchored = committed;
    raiseStateFloor(this.#id, committed);
  }

  #resealing = false;

  /**
   * `custodian integrity reseal` (issue 13, item 4): after the administrator put back a copy of
   * this database from a backup, its state is older than the epoch the keychain saw, and every
   * sealed change is refused. Only that is accepted here: an older copy of this very database,
   * every row and seal still matching its MAC. An edited row or seal is not blessed (ERR-STATE-
   * TAMPERED naming it). `stepUp` runs the critical chain and spends its grant; while it runs, the
   * epoch floor is lifted in this process alone (every MAC and seal is still checked), since the
   * chain's own writes are sealed changes. Then the epoch the file has reached is recorded in the
   * audit log (`state_resealed`) and put in the keychain as the new floor.
   */
  async resealAfterRestore(actor: string, stepUp: () => Promise<void>): Promise<{ changed: boolean; keychainEpoch: string; epoch: string }> {
    const found = await this.findings();
    const other = found.find((f) => !(f.table === 'state_seals' && f.row === EPOCH_SCOPE));
    if (other) throw new AppError('ERR-STATE-TAMPERED', { table: other.table, row: other.row });
    const before = await this.#keychainEpoch();
    if (found.length === 0) return { changed: false, keychainEpoch: before.toString(), epoch: this.#fileEpoch().toString() };
    this.#resealing = true;
    resetStateFloor(this.#id);
    try {
      await stepUp();
      const restored = this.#audit.transact(() => {
        const epoch = this.#fileEpoch();
        this.#audit.append({ event: 'state_resealed', actor, data: { keychainEpoch: before.toString(), epoch: epoch.toString() } });
        return epoch;
      });
      await this.#secrets.set(stateEpochAccount(this.#id), restored.toString());
      this.#anchored = restored;
      raiseStateFloor(this.#id, restored);
      return { changed: true, keychainEpoch: before.toString(), epoch: restored.toString() };
    } finally {
      this.#resealing = false;
      // Refused or failed: the floor is the keychain's again (a success raised it past that).
      raiseStateFloor(this.#id, before);
    }
  }

  /** The root alone, over no seal and no sealed row, protects nothing: it is sealed again under the key. */
  #resealEmptyRoot(): void {
    this.#audit.transact(() => {
      if (!this.#sealedBefore()) sealEmptyDatabase(this.#db);
    });
  }

  /** Whether anything was ever sealed in this database. */
  #sealedBefore(): boolean {
    return hasSealedState(this.#db, { rows: false });
  }

  /** MACs the rows from before migration 013, once: only while no root seal exists. */
  #adopt(): void {
    this.#audit.transact(() => {
      if (this.#db.prepare("SELECT 1 FROM state_seals WHERE scope = '*'").get() !== undefined) return;
      if (this.#sealedBefore()) throw new AppError('ERR-STATE-TAMPERED', { table: 'state_seals', row: '*' });
      const adopted: Record<string, number> = {};
      let total = 0;
      for (const t of this.#tables()) {
        const n = this.#db.prepare(`UPDATE ${t.table} SET row_mac = ${rowMacExpr(t, t.table)} WHERE row_mac IS NULL`).run().changes;
        if (n > 0) adopted[t.table] = n;
        total += n;
        if (t.scope === null) continue;
        // A live set is sealed even with no rows: its seal's presence says it was (migration 014).
        const scopes = t.live ? [''] : (this.#db.prepare(`SELECT DISTINCT ${t.scope || "''"} AS s FROM ${t.table}`).pluck().all() as string[]);
        for (const s of scopes) this.#reseal(t, s);
      }
      this.#db.exec(ROOT_RESEAL_SQL);
      if (total > 0) this.#audit.append({ event: 'state_sealed', actor: 'system', data: { rows: total, ...adopted } });
    });
  }

  /** What this database's schema seals. */
  #tables(): readonly SealedTable[] {
    return sealedTablesAt(schemaVersion(this.#db));
  }

  /**
   * Seals the live sets of a database sealed before migration 014 (grants, tokens, pushes had row
   * MACs only), once: a live set's seal, once written, is never removed, so its absence later is a
   * deletion the root shows. Only rows whose MACs hold and a root that matches are sealed: this
   * blesses nothing an edit made. A refusal is not thrown here: the seal stays missing, so every
   * change of that table and `doctor` report it.
   */
  #adoptLive(): void {
    try {
      this.#sealLiveSets();
    } catch (error) {
      if (!isAppError(error)) throw error;
    }
  }

  #sealLiveSets(): void {
    const key = stateKeyFor(this.#id);
    if (!key) return;
    const missing = (): SealedTable[] =>
      this.#tables().filter((t) => t.live && this.#db.prepare('SELECT 1 FROM state_seals WHERE scope = ?').get(`${t.table}:`) === undefined);
    if (missing().length === 0) return;
    this.#audit.transact(() => {
      const tables = missing();
      if (tables.length === 0) return;
      if (!rootMatches(this.#db, key)) throw new AppError('ERR-STATE-TAMPERED', { table: 'state_seals', row: '*' });
      const adopted: Record<string, number> = {};
      let total = 0;
      for (const t of tables) {
        const rows = this.#db.prepare(`SELECT ${t.columns.join(', ')}, row_mac FROM ${t.table} WHERE ${liveExpr(t, t.table)}`).raw().all() as unknown[][];
        for (const r of rows) {
          const values = r.slice(0, t.columns.length);
          if (!sameMac(r[t.columns.length], stateMac(key, ['row', t.table, ...values]))) {
            throw new AppError('ERR-STATE-TAMPERED', { table: t.table, row: String(values[t.columns.indexOf(t.pk)]) });
          }
        }
        this.#reseal(t, '');
        if (rows.length > 0) adopted[t.table] = rows.length;
        total += rows.length;
      }
      if (total > 0) this.#audit.append({ event: 'state_sealed', actor: 'system', data: { rows: total, ...adopted } });
    });
  }

  #reseal(t: SealedTable, scope: string): void {
    this.#db.prepare(resealSql(t, '@scope')).run({ scope });
  }

  /**
   * Every sealed row, scope seal and the root, checked (for `doctor`); an empty list when all
   * match. Throws what `ready` throws when the key cannot be had.
   */
  async findings(): Promise<StateFinding[]> {
    await this.ready();
    const key = stateKeyFor(this.#id);
    if (!key) throw new AppError('ERR-KEYCHAIN-UNAVAILABLE');
    const found: StateFinding[] = [];
    const seals = new Map((this.#db.prepare('SELECT scope, mac FROM state_seals').all() as { scope: string; mac: Buffer }[]).map((r) => [r.scope, r.mac]));
    const expectedSeals = new Set<string>();
    for (const t of this.#tables()) {
      const rows = this.#db
        .prepare(`SELECT ${t.columns.join(', ')}, row_mac, ${t.scope || "''"} AS _scope, ${liveExpr(t, t.table)} AS _live FROM ${t.table} ORDER BY ${t.pk}`)
        .raw()
        .all() as unknown[][];
      const byScope = new Map<string, string[]>();
      for (const r of rows) {
        const values = r.slice(0, t.columns.length);
        const mac = r[t.columns.length];
        const pk = values[t.columns.indexOf(t.pk)];
        if (!sameMac(mac, stateMac(key, ['row', t.table, ...values]))) found.push({ table: t.table, row: String(pk) });
        if (t.scope === null || r[t.columns.length + 2] !== 1) continue;
        const scope = String(r[t.columns.length + 1]);
        const list = byScope.get(scope) ?? [];
        list.push(Buffer.isBuffer(mac) ? mac.toString('hex').toUpperCase() : '');
        byScope.set(scope, list);
      }
      if (t.scope === null) continue;
      for (const [scope, macs] of byScope) {
        const name = `${t.table}:${scope}`;
        expectedSeals.add(name);
        if (!sameMac(seals.get(name), stateMac(key, ['scope', name, macs.join(',')]))) found.push({ table: t.table, row: scope === '' ? '*' : scope });
      }
    }
    // A seal whose rows are all gone: rows were deleted (the attempt row reset, the codes dropped),
    // unless it is the seal over no rows the app writes when it empties a scope itself.
    for (const [name, mac] of seals) {
      if (name === '*' || name === EPOCH_SCOPE || expectedSeals.has(name)) continue;
      if (sameMac(mac, stateMac(key, ['scope', name, '']))) continue;
      const [table = name, ...rest] = name.split(':');
      const scope = rest.join(':');
      found.push({ table, row: scope === '' ? '*' : scope });
    }
    const list = [...seals.entries()].filter(([n]) => n !== '*').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const sealsText = list.map(([n, m]) => `${n}=${m.toString('hex').toUpperCase()}`).join(',');
    if (!sameMac(seals.get('*'), stateMac(key, ['root', sealsText]))) found.push({ table: 'state_seals', row: '*' });
    // An older copy of the whole file: every seal may match, but the keychain saw a later epoch.
    if (epochOf(seals.get(EPOCH_SCOPE)) < (await this.#keychainEpoch())) found.push({ table: 'state_seals', row: EPOCH_SCOPE });
    return found;
  }

  /** For doctor: a finding list, or the error that kept the check from running. */
  async check(): Promise<{ ok: true; findings: StateFinding[] } | { ok: false; error: AppError }> {
    try {
      return { ok: true, findings: await this.findings() };
    } catch (error) {
      return { ok: false, error: isAppError(error) ? error : new AppError('ERR-INTERNAL') };
    }
  }
}
