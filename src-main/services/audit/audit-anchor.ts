import type { Clock } from '../../clock';
import type { Database } from '../../platform/db/database';
import { databaseId } from '../../platform/db/database';
import { AuditRepository } from '../../platform/db/repositories/audit.repository';
import type { SecretStore } from '../../platform/keychain/secret-store';

export interface AuditHead {
  id: number;
  hash: string;
}

/** What the keychain holds for this database. Throwing means the keychain did not answer. */
export type AnchorReading = { state: 'present'; head: AuditHead } | { state: 'missing' } | { state: 'unreadable' };

/**
 * Whether this process keeps the anchor up with its commits: `ok`; `failing`, the keychain did
 * not take the last write (it is retried); or `refused`, the stored anchor is missing, garbled or
 * no longer matches the log, and this process will not overwrite it (see `advance`).
 */
export type AnchorWriteState = 'ok' | 'failing' | 'refused';

/** Before issue 9 one account served every database on a keychain service. */
export const LEGACY_ANCHOR_ACCOUNT = 'audit:head';

/** The anchor's account, named after the database's own id so two data directories never share one. */
export function anchorAccount(id: string): string {
  return `audit:head:${id}`;
}

/**
 * The latest audit head, kept in the keychain (DESIGN.md "Audit"). A hash chain alone cannot show
 * that rows were cut off its end, or that someone with the file rewrote every row and recomputed
 * every hash; the anchor, out of the database's reach, can.
 *
 * Writes are coalesced: while one is in flight, only the newest head waits behind it, and a head
 * never moves backwards, even when another process anchored a later one in between.
 *
 * Fail closed (issue 9, item 5): the anchor moves forward only from an anchor that still matches
 * the log (the anchored row is there with the anchored hash), so a log cut short or rewritten is
 * never blessed by the next commit. A missing anchor is created only by a process that saw the
 * log start empty; a missing or garbled anchor with rows present stays a failure until an
 * administrator re-anchors explicitly (`custodian audit reanchor`, an audited event).
 */
export class AuditAnchor {
  readonly #secrets: SecretStore;
  readonly #db: Database;
  #repo: AuditRepository | undefined;
  #account: string | undefined;
  #inFlight: Promise<void> | undefined;
  #next: AuditHead | undefined;
  /** The newest head whose write failed: retried by `retry` and by the next `advance`. */
  #unwritten: AuditHead | undefined;
  /** This process appended the log's first row, so it may create the anchor that is missing. */
  #sawGenesis = false;
  #state: AnchorWriteState = 'ok';
  readonly #clock: Clock | undefined;
  /** When the keychain last answered a read or write of the anchor (by the clock), if ever. */
  #answeredAt: number | undefined;
  #checking: Promise<void> | undefined;

  /** `clock` times the keychain's last answer (`answeredAt`); without one, it is never known. */
  constructor(secrets: SecretStore, db: Database, clock?: Clock) {
    this.#secrets = secrets;
    this.#db = db;
    this.#clock = clock;
  }

  get writeState(): AnchorWriteState {
    return this.#state;
  }

  /** When the keychain last answered this anchor's read or write, by the clock; undefined if never. */
  get answeredAt(): number | undefined {
    return this.#answeredAt;
  }

  /**
   * Asks the keychain whether it still answers, by reading the anchor (issue 13, item 3): one
   * read shared by every caller that comes while it is out. No answer makes the write state
   * `failing`, and the log's head is then owed to the keychain, so audited changes are refused
   * until a retry writes it. An answer while failing writes what is owed.
   */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<void> {
    try {
      await this.read();
    } catch {
      this.#lost(this.#logHead());
      return;
    }
    this.#answered();
    if (this.#unwritten) {
      this.#queue(this.#unwritten);
      await this.#drain();
    } else if (this.#state === 'failing') {
      this.#state = 'ok';
    }
  }

  /**
   * Reads this database's anchor. A database from before issue 9 adopts the shared legacy anchor
   * the first time, but only if it vouches for this very log; the legacy entry is then removed.
   */
  async read(): Promise<AnchorReading> {
    const account = this.#anchorAccount();
    const reading = parseAnchor(await this.#secrets.get(account));
    if (reading.state !== 'missing') return reading;
    const legacy = parseAnchor(await this.#secrets.get(LEGACY_ANCHOR_ACCOUNT));
    if (legacy.state !== 'present' || this.#hashAt(legacy.head.id) !== legacy.head.hash) return reading;
    await this.#secrets.set(account, formatAnchor(legacy.head));
    await this.#secrets.delete(LEGACY_ANCHOR_ACCOUNT).catch(() => false);
    return legacy;
  }

  /**
   * Moves the anchor forward to `head`, committed by this process; resolves once it is written
   * (or has failed, or was refused). `fromGenesis`: the commit appended the log's first row.
   */
  advance(head: AuditHead, fromGenesis: boolean): Promise<void> {
    if (fromGenesis) this.#sawGenesis = true;
    this.#queue(head);
    return this.#drain();
  }

  /** Tries the last failed write again (the keychain may be back). */
  retry(): Promise<void> {
    // Failing with nothing owed (the keychain stopped answering a check on an empty log): ask again.
    if (!this.#unwritten && this.#state === 'failing') return this.check();
    if (this.#unwritten) this.#queue(this.#unwritten);
    return this.#drain();
  }

  /** The administrator's explicit re-anchor: writes `head` whatever the keychain held. */
  async reset(head: AuditHead): Promise<void> {
    await this.#inFlight;
    await this.#secrets.set(this.#anchorAccount(), formatAnchor(head));
    this.#unwritten = undefined;
    this.#state = 'ok';
    this.#answered();
  }

  #queue(head: AuditHead): void {
    if (!this.#next || head.id > this.#next.id) this.#next = head;
  }

  #drain(): Promise<void> {
    this.#inFlight ??= this.#write().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #write(): Promise<void> {
    while (this.#next) {
      const head = this.#next;
      this.#next = undefined;
      try {
        const current = await this.read();
        // Once an anchor exists, a missing one later means it was removed: never recreate it.
        if (current.state === 'present') this.#sawGenesis = false;
        if (current.state === 'present' && current.head.id >= head.id) {
          this.#settled('ok');
        } else if (current.state === 'present' ? this.#hashAt(current.head.id) === current.head.hash : current.state === 'missing' && this.#sawGenesis) {
          // The keychain has no compare-and-set: another process may anchor a later head between
          // this read and this write, which would then move the anchor back. So this writes the
          // log's head as it stands now (rows another process chained onto a matching anchor
          // included), and looks again once written: a head that moved meanwhile is written
          // next, so the last process to write always leaves the anchor at the head.
          const target = this.#later(head);
          await this.#secrets.set(this.#anchorAccount(), formatAnchor(target));
          this.#sawGenesis = false;
          this.#settled('ok');
          const now = this.#logHead();
          if (now && now.id > target.id) this.#queue(now);
        } else {
          this.#settled('refused');
        }
      } catch {
        this.#lost(head);
      }
    }
  }

  #settled(state: 'ok' | 'refused'): void {
    this.#state = state;
    this.#unwritten = undefined;
    this.#answered();
  }

  /** The keychain did not answer: `head` (if any) is owed to it, and writes are failing. */
  #lost(head: AuditHead | undefined): void {
    if (head && (!this.#unwritten || head.id > this.#unwritten.id)) this.#unwritten = head;
    this.#state = 'failing';
  }

  #answered(): void {
    if (this.#clock) this.#answeredAt = this.#clock.now();
  }

  #anchorAccount(): string {
    this.#account ??= anchorAccount(databaseId(this.#db));
    return this.#account;
  }

  #logHead(): AuditHead | undefined {
    this.#repo ??= new AuditRepository(this.#db);
    return this.#repo.head();
  }

  /** `head`, or the log's head if a later one has been committed since (by any process). */
  #later(head: AuditHead): AuditHead {
    const now = this.#logHead();
    return now && now.id > head.id ? now : head;
  }

  #hashAt(id: number): string | undefined {
    this.#repo ??= new AuditRepository(this.#db);
    return this.#repo.hashAt(id);
  }
}

/** `<id> <hash>`: the anchor's text, and the checkpoint's (audit-checkpoint.ts). */
export function formatAnchor(head: AuditHead): string {
  return `${head.id} ${head.hash}`;
}

export function parseAnchor(raw: string | null): AnchorReading {
  if (raw === null) return { state: 'missing' };
  const [id, hash, extra] = raw.split(' ');
  const n = Number(id);
  return Number.isSafeInteger(n) && n > 0 && hash !== undefined && /^[0-9a-f]{64}$/.test(hash) && extra === undefined
    ? { state: 'present', head: { id: n, hash } }
    : { state: 'unreadable' };
}
