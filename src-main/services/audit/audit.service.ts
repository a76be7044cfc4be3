import { AppError, isAppError } from '../../../src-shared/errors';
import type { AuditEntry, AuditEvent, AuditVerification } from '../../../src-shared/domain/audit';
import type { Clock } from '../../clock';
import type { Database } from '../../platform/db/database';
import { AuditRepository, type AuditRow } from '../../platform/db/repositories/audit.repository';
import { chainHash, ChainVerifier, flatAuditContent, GENESIS_HASH, type ChainVerdict } from './audit-chain';
import type { AnchorReading, AnchorWriteState, AuditAnchor, AuditHead } from './audit-anchor';
import type { AuditCheckpoint } from './audit-checkpoint';
import { walkInParallel, walkRange, type WalkWorkers } from './parallel-walk';
import { maskIp, trimUserAgent } from './redaction';

export interface AuditInput {
  /** One of AUDIT_EVENTS: tsc refuses a name the Audit screen and the catalogs do not know. */
  event: AuditEvent;
  /** Who acted: a principal, an integration name, or `system`. */
  actor: string;
  /** What it acted on: a request id, a factor id, a setting. */
  subject?: string;
  /** The raw source address; it is masked before it is stored. */
  sourceIp?: string | null;
  userAgent?: string | null;
  data?: Record<string, string | number | boolean | null>;
}

// Defence in depth: no caller may put a secret, code or raw token into a row, not even by
// accident in a failure record (DESIGN.md "Audit").
const FORBIDDEN_DATA_KEY = /secret|password|passcode|apikey|api_key|^key$|^code$|^otp$|token$|hash$/i;

/**
 * How long a keychain answer vouches that the keychain is there (issue 13, item 3): an audited
 * change coming from outside (`ready`) later than this after the last answer asks the keychain
 * first. This bounds what can still commit once the keychain has gone: the changes let in within
 * this long of its last answer, and those already in flight. A busy desk pays nothing for it (each
 * commit's anchor write is an answer); an idle one pays one keychain read for its next change.
 */
export const ANCHOR_FRESH_MS = 1_000;

/** The verification faults that concern the anchor, not the chain: an administrator may re-anchor. */
const ANCHOR_FAULTS: ReadonlySet<string> = new Set(['head-missing', 'anchor-mismatch', 'anchor-lagging', 'anchor-missing', 'anchor-unreadable', 'anchor-unavailable']);

export type ReanchorResult =
  | { changed: false; verification: AuditVerification }
  | { changed: true; previous: string; verification: AuditVerification };

export type AuditListener = (appended: { id: number; event: string }) => void;

/** The keychain checkpoint was garbled, or names a row the log no longer holds with that hash. */
export type CheckpointFault = 'checkpoint-unreadable' | 'checkpoint-mismatch';

/**
 * `audit verify --incremental`: the verification of the rows after the checkpoint (`from`; 0 when
 * there was none yet and the whole log was walked), or the checkpoint refused. `rows` counts the
 * rows walked.
 */
export type IncrementalVerification = (AuditVerification & { from: number }) | CheckpointRefusal;
export interface CheckpointRefusal {
  ok: false;
  rows: 0;
  firstBadId: number;
  reason: CheckpointFault;
  from: number;
}

export function isCheckpointRefusal(v: IncrementalVerification): v is CheckpointRefusal {
  return !v.ok && (v.reason === 'checkpoint-unreadable' || v.reason === 'checkpoint-mismatch');
}

export interface AuditLogOptions {
  /** The last verified row, kept in the keychain: `verifyIncremental` walks from it. */
  checkpoint?: AuditCheckpoint;
  /** Worker threads for long walks (parallel-walk.ts); without them the walk is on one thread. */
  walkers?: WalkWorkers;
}

/**
 * The tamper-evident audit log. `transact` is how services change state: the change and its
 * audit rows commit together or not at all, and if the row cannot be written the change is
 * refused with ERR-AUDIT-UNAVAILABLE (fail closed).
 */
export class AuditLog {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #repo: AuditRepository;
  readonly #anchor: AuditAnchor | undefined;
  readonly #checkpoint: AuditCheckpoint | undefined;
  readonly #walkers: WalkWorkers | undefined;
  readonly #listeners = new Set<AuditListener>();
  #pending: { id: number; event: string }[] = [];
  /** The head as of the last append in the open transaction; saves a query per row in a batch. */
  #txHead: { id: number; hash: string } | undefined;
  /** The open transaction appended the log's first row (the anchor may then be created). */
  #txGenesis = false;
  #anchoring: Promise<void> = Promise.resolve();
  /** One transaction wrapper for every call: building a new one per call costs more than a row. */
  readonly #run: ReturnType<Database['transaction']>;

  constructor(db: Database, clock: Clock, anchor?: AuditAnchor, options: AuditLogOptions = {}) {
    this.#db = db;
    this.#run = db.transaction((fn: () => unknown) => fn());
    this.#clock = clock;
    this.#repo = new AuditRepository(db);
    this.#anchor = anchor;
    this.#checkpoint = options.checkpoint;
    this.#walkers = options.walkers;
  }

  /**
   * Runs `fn` in one IMMEDIATE transaction (the write lock is taken first, so the head read by
   * `append` cannot move under another process). Listeners hear about the rows after commit.
   */
  transact<T>(fn: () => T): T {
    const outermost = !this.#db.inTransaction;
    const pendingBefore = this.#pending.length;
    let result: T;
    try {
      result = this.#run.immediate(fn) as T;
    } catch (error) {
      // A nested call rolls back only its savepoint: forget what it appended, and re-read the
      // head from the database, which has rolled back with it.
      this.#pending.length = outermost ? 0 : pendingBefore;
      this.#txHead = undefined;
      if (outermost) this.#txGenesis = false;
      if (isAppError(error)) throw error;
      throw new AppError('ERR-AUDIT-UNAVAILABLE');
    }
    if (outermost) {
      const head = this.#txHead;
      const fromGenesis = this.#txGenesis;
      this.#txHead = undefined;
      this.#txGenesis = false;
      this.#flush(head, fromGenesis);
    }
    return result;
  }

  /** Appends one row. Must run inside `transact`, next to the change it records. */
  append(input: AuditInput): number {
    if (!this.#db.inTransaction) throw new AppError('ERR-INTERNAL');
    // Fail closed (issue 13, item 3): while the keychain does not take the anchor, a row appended
    // now could be cut off or rewritten unseen, so the change it records is refused whole (the
    // transaction rolls back) rather than committed unanchored. No row records the refusal: it
    // could not be anchored either. The refusal asks the keychain again, so the desk recovers
    // by itself once it is back.
    if (this.#anchor?.writeState === 'failing') {
      void this.retryAnchor();
      throw new AppError('ERR-KEYCHAIN-UNAVAILABLE');
    }
    const data = input.data ?? {};
    for (const key of Object.keys(data)) {
      if (FORBIDDEN_DATA_KEY.test(key)) throw new AppError('ERR-INTERNAL');
    }
    const head = this.#txHead ?? this.#repo.head();
    const id = (head?.id ?? 0) + 1;
    const prevHash = head?.hash ?? GENESIS_HASH;
    const content = flatAuditContent({
      id,
      ts: new Date(this.#clock.now()).toISOString(),
      event: input.event,
      actor: input.actor,
      subject: input.subject ?? '-',
      source: maskIp(input.sourceIp),
      userAgent: trimUserAgent(input.userAgent),
      data,
    });
    const hash = chainHash(prevHash, content);
    this.#repo.insert(id, content, prevHash, hash);
    this.#txHead = { id, hash };
    if (id === 1) this.#txGenesis = true;
    this.#pending.push({ id, event: input.event });
    return id;
  }

  /** One audited event with no other change. */
  record(input: AuditInput): number {
    return this.transact(() => this.append(input));
  }

  /**
   * A change and its audit row, in one transaction: both commit or neither does. A change that
   * returns `false` found nothing to change (a race lost to another call or process): no row is
   * written and `false` comes back; a change that throws rolls back whole.
   */
  recordChange<T>(row: AuditInput, change: () => T): T {
    return this.transact(() => {
      const result = change();
      if (result !== false) this.append(row);
      return result;
    });
  }

  /** Walks the whole chain inside one read transaction, so it sees a single snapshot. */
  verifyChain(): ChainVerdict {
    return this.#db.transaction(() => {
      const verifier = new ChainVerifier();
      for (const page of this.#repo.linkPages()) if (!verifier.feed(page)) break;
      return verifier.verdict();
    })();
  }

  /**
   * The chain walk after `from` (the genesis by default) up to the head: on worker threads beside
   * this one when they are set up and the walk is long (parallel-walk.ts), which vouch for the rows
   * up to the first chunk that does not verify whole; this thread alone walks on from there, so it
   * names the first bad row, and counts the rows, exactly as a walk on one thread from `from` does.
   * Rows appended by another process during a walk on worker threads are left to the next.
   */
  async walkChain(from: AuditHead = { id: 0, hash: GENESIS_HASH }): Promise<ChainVerdict> {
    const walked = this.#walkers ? await walkInParallel(this.#db, this.#repo, from, this.#walkers).catch(() => undefined) : undefined;
    if (walked?.complete) return { ok: true, rows: walked.rows, headId: walked.through.id, headHash: walked.through.hash };
    const { verdict } = walkRange(this.#db, this.#repo, walked?.through ?? from, Number.MAX_SAFE_INTEGER);
    return { ...verdict, rows: (walked?.rows ?? 0) + verdict.rows };
  }

  /**
   * The chain walk, then the keychain anchor: the anchored row must still be there with the
   * anchored hash, and it must be the head. That catches rows cut off the end, a chain rewritten
   * and rehashed whole, and rows the anchor never vouched for. With rows present, an anchor that
   * is missing, garbled or out of reach is a failure: only an empty log may have none. A log that
   * verifies whole becomes the checkpoint `verifyIncremental` starts from.
   */
  async verify(): Promise<AuditVerification> {
    const first = await this.#verifyOnce();
    // A commit of this process that landed while the anchor was being read (a group commit on
    // the tick) has its anchor write on its way: look once more before calling the rows unvouched
    // (issue 13, found by the IPC fuzzing). A lag that remains is reported.
    if (!first.ok && first.reason === 'anchor-lagging') return this.#verifyOnce();
    return first;
  }

  async #verifyOnce(): Promise<AuditVerification> {
    const anchored = await this.#readAnchor();
    const verdict = await this.walkChain();
    const verification = this.#judge(verdict, anchored);
    if (verification.ok && verdict.ok) await this.#advanceCheckpoint(verdict);
    return verification;
  }

  /**
   * Issue 13, item 8: the same verdict as `verify` for the rows after the keychain checkpoint, at
   * a cost that depends on those rows only. It vouches that the rows after the checkpoint chain
   * onto it and that the anchor still holds; an edit to a row before the checkpoint that leaves
   * the checkpointed row's hash as it was is for the full `verify` to find. With no checkpoint
   * yet the whole log is walked; a garbled one, or one the log no longer holds (its row gone, or
   * another hash there), is refused: only a full `verify` that passes replaces it.
   */
  async verifyIncremental(): Promise<IncrementalVerification> {
    const anchored = await this.#readAnchor();
    let checkpoint: AnchorReading;
    try {
      checkpoint = this.#checkpoint ? await this.#checkpoint.read() : { state: 'missing' };
    } catch {
      // The keychain did not answer: the whole walk says so through the anchor.
      checkpoint = { state: 'missing' };
    }
    if (checkpoint.state === 'unreadable') return { ok: false, rows: 0, firstBadId: 1, reason: 'checkpoint-unreadable', from: 0 };
    const from = checkpoint.state === 'present' ? checkpoint.head : { id: 0, hash: GENESIS_HASH };
    if (checkpoint.state === 'present' && !this.#checkpoint?.matches(checkpoint.head)) {
      return { ok: false, rows: 0, firstBadId: from.id, reason: 'checkpoint-mismatch', from: from.id };
    }
    const verdict = await this.walkChain(from);
    const verification = this.#judge(verdict, anchored);
    if (verification.ok && verdict.ok) await this.#advanceCheckpoint(verdict);
    return { ...verification, from: from.id };
  }

  async #readAnchor(): Promise<AnchorReading | 'unavailable'> {
    // The anchor is read before the walk: every anchored row was committed before it was
    // anchored, so the walk that follows must see it. Read after, a commit by another process in
    // between would look like rows cut off the end.
    if (!this.#anchor) return { state: 'missing' };
    try {
      await this.#anchoring;
      // The keychain may be back since a write failed: catch up before judging.
      if (this.#anchor.writeState === 'failing') await this.#anchor.retry();
      return await this.#anchor.read();
    } catch {
      return 'unavailable';
    }
  }

  /** The walk's verdict against the anchor read before it. */
  #judge(verdict: ChainVerdict, anchored: AnchorReading | 'unavailable'): AuditVerification {
    if (!verdict.ok) return { ok: false, rows: verdict.rows, firstBadId: verdict.firstBadId, reason: verdict.reason };
    const { rows, headId } = verdict;
    const unvouched = (reason: 'anchor-missing' | 'anchor-unreadable' | 'anchor-unavailable'): AuditVerification => ({
      ok: false,
      rows,
      firstBadId: 1,
      reason,
      headId,
      anchoredId: null,
    });
    if (anchored === 'unavailable') return unvouched('anchor-unavailable');
    if (anchored.state === 'missing') return headId === null ? { ok: true, rows, headId, anchor: 'empty' } : unvouched('anchor-missing');
    if (anchored.state === 'unreadable') return unvouched('anchor-unreadable');
    const anchoredId = anchored.head.id;
    if (headId === null || anchoredId > headId) return { ok: false, rows, firstBadId: anchoredId, reason: 'head-missing', headId, anchoredId };
    if (this.#repo.hashAt(anchoredId) !== anchored.head.hash) {
      return { ok: false, rows, firstBadId: anchoredId, reason: 'anchor-mismatch', headId, anchoredId };
    }
    // Rows after the anchor may be honest (a write that failed, or is still on its way) or forged;
    // the keychain cannot tell, so they are not called verified.
    if (anchoredId < headId) return { ok: false, rows, firstBadId: anchoredId + 1, reason: 'anchor-lagging', headId, anchoredId };
    return { ok: true, rows, headId, anchor: 'verified' };
  }

  /** Best effort: a checkpoint the keychain does not take only makes the next walk longer. */
  async #advanceCheckpoint(verdict: Extract<ChainVerdict, { ok: true }>): Promise<void> {
    if (!this.#checkpoint || verdict.headId === null) return;
    await this.#checkpoint.advance({ id: verdict.headId, hash: verdict.headHash }).catch(() => undefined);
  }

  /**
   * At startup (issue 13, item 2): a process killed between a commit and its keychain write leaves
   * the anchor behind the head, and `audit verify` fails until some commit moves it. The next
   * commit of any process would move it anyway (`AuditAnchor.advance` anchors the log's head from
   * an anchor that still matches), so this does the same at once, and says so in the log: an
   * `audit_anchor_caught_up` row names the rows the anchor took on without their own write, for an
   * administrator comparing with a head kept off the machine. Only an anchor that is present and
   * still matches its row, under a chain that verifies, is moved; anything else stays a failure
   * for `audit verify` and an explicit `audit reanchor`. A keychain out of reach changes nothing.
   */
  async catchUpAnchor(): Promise<boolean> {
    if (!this.#anchor) return false;
    let reading: AnchorReading;
    try {
      await this.#anchoring;
      if (this.#anchor.writeState === 'failing') await this.retryAnchor();
      if (this.#anchor.writeState === 'failing') return false;
      reading = await this.#anchor.read();
    } catch {
      return false;
    }
    if (reading.state !== 'present') return false;
    const head = this.#repo.head();
    const anchoredId = reading.head.id;
    if (!head || head.id <= anchoredId || this.#repo.hashAt(anchoredId) !== reading.head.hash) return false;
    if (!this.verifyChain().ok) return false;
    this.record({ event: 'audit_anchor_caught_up', actor: 'system', data: { anchoredId, headId: head.id, rows: head.id - anchoredId } });
    await this.#anchoring;
    return true;
  }

  /** Whether this process's commits reach the keychain anchor (`doctor` and the Audit screen). */
  anchorWriteState(): AnchorWriteState {
    return this.#anchor?.writeState ?? 'ok';
  }

  /** Retries a failed anchor write; the shared tick calls it while writes fail. */
  retryAnchor(): Promise<void> {
    if (this.#anchor) this.#anchoring = this.#anchor.retry();
    return this.#anchoring;
  }

  /**
   * Awaited by the doors (IPC, the gateway, the CLI) before they run a change (issue 13, item 3).
   * While anchor writes fail, it tries once more, so the first change after the keychain comes
   * back already goes through; when the keychain has not answered for `ANCHOR_FRESH_MS`, it asks
   * it first, so a keychain gone while the desk sat idle refuses the very next change rather than
   * letting it commit unanchored. Never throws: `append` refuses what must be refused.
   */
  async ready(): Promise<void> {
    const anchor = this.#anchor;
    if (!anchor) return;
    if (anchor.writeState === 'failing') {
      await this.retryAnchor();
      return;
    }
    const answeredAt = anchor.answeredAt;
    if (answeredAt === undefined || this.#clock.now() - answeredAt >= ANCHOR_FRESH_MS) await anchor.check();
  }

  /**
   * The administrator's explicit re-anchor (issue 9): when the anchor is missing, garbled, lags or
   * no longer matches, and the administrator trusts the log as it stands. A broken chain is
   * refused (re-anchoring would not repair it). Otherwise an `audit_reanchored` row records what
   * the keychain held, and the anchor is set to that row: the event itself is in the log for good.
   */
  async reanchor(actor: string): Promise<ReanchorResult> {
    if (!this.#anchor) throw new AppError('ERR-KEYCHAIN-UNAVAILABLE');
    const before = await this.verify();
    if (before.ok && before.anchor === 'verified') return { changed: false, verification: before };
    if (!before.ok && !ANCHOR_FAULTS.has(before.reason)) return { changed: false, verification: before };
    if (!before.ok && before.reason === 'anchor-unavailable') throw new AppError('ERR-KEYCHAIN-UNAVAILABLE');
    const previous = before.ok ? 'empty' : before.reason;
    const previousId = before.ok ? null : (before.anchoredId ?? null);
    this.transact(() => {
      this.append({ event: 'audit_reanchored', actor, data: { previous, previousId, rows: before.rows } });
    });
    const head = this.#repo.head();
    if (!head) throw new AppError('ERR-INTERNAL');
    await this.#anchor.reset(head);
    return { changed: true, previous, verification: await this.verify() };
  }

  /** Resolves once the keychain anchor has caught up with every commit so far. */
  settled(): Promise<void> {
    return this.#anchoring;
  }

  head(): { id: number; hash: string } | null {
    return this.#repo.head() ?? null;
  }

  list(limit: number, beforeId?: number): { entries: AuditEntry[]; total: number } {
    return { entries: this.#repo.page(limit, beforeId).map(toEntry), total: this.#repo.count() };
  }

  *export(): Generator<AuditEntry & { prevHash: string }> {
    for (const row of this.#repo.rows()) yield { ...toEntry(row), prevHash: row.prevHash };
  }

  onAppended(listener: AuditListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #flush(lastAppended: { id: number; hash: string } | undefined, fromGenesis: boolean): void {
    const appended = this.#pending;
    this.#pending = [];
    // The head this transaction wrote is the head: it held the write lock until its commit.
    const head = appended.length > 0 && this.#anchor ? (lastAppended ?? this.#repo.head()) : undefined;
    if (head && this.#anchor) this.#anchoring = this.#anchor.advance(head, fromGenesis);
    for (const entry of appended) for (const listener of this.#listeners) listener(entry);
  }
}

function toEntry(row: AuditRow): AuditEntry {
  let data: Record<string, unknown>;
  try {
    const parsed: unknown = row.data === null ? null : JSON.parse(row.data);
    data = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    // A tampered row may hold anything; the verify walk reports it, the list still shows it.
    data = {};
  }
  // A tampered row may lack any field; show what is there, the verify walk reports the rest.
  const text = (value: unknown): string => (typeof value === 'string' ? value : String(value ?? ''));
  return {
    id: row.id,
    ts: text(row.ts),
    event: text(row.event),
    actor: text(row.actor),
    subject: text(row.subject),
    source: text(row.source),
    userAgent: text(row.userAgent),
    data,
    hash: row.hash,
  };
}
