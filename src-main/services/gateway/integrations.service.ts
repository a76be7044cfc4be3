import { randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../../src-shared/errors';
import type { CreatedIntegration, IntegrationView } from '../../../src-shared/domain/restore-request';
import type { Clock } from '../../clock';
import type { IntegrationRow, IntegrationsRepository } from '../../platform/db/repositories/integrations.repository';
import type { AuditLog } from '../audit/audit.service';
import { keyVerifier, parseIntegrationKey, serverKeyProof, type ProofContext } from './gateway-proof';

export interface Integration {
  id: string;
  name: string;
  mutedUntil: number | null;
}

// Compared when no row matches, so an unknown id costs the same hash and compare as a known one.
const DUMMY_HASH = keyVerifier('custodian-no-such-integration');

export type IntegrationsListener = () => void;

/** Integrations of the gateway: each is a name and an API key shown once, kept only as a hash. */
export class IntegrationsService {
  readonly #repo: IntegrationsRepository;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #listeners = new Set<IntegrationsListener>();
  /**
   * Rows the key check has read, by id. A read outside a transaction costs about 10 µs in WAL
   * mode (the file locks of a read transaction), more than the rest of the check. A change made
   * here updates it at once and one made by another process empties it on the next tick; the
   * authoritative check is `current`, which reads the row again inside the caller's transaction.
   */
  readonly #cache = new Map<string, IntegrationRow>();

  constructor(repo: IntegrationsRepository, audit: AuditLog, clock: Clock) {
    this.#repo = repo;
    this.#audit = audit;
    this.#clock = clock;
  }

  add(name: string, actor: string): CreatedIntegration {
    const id = randomBytes(6).toString('hex');
    const key = `cst_${id}_${randomBytes(32).toString('base64url')}`;
    const now = this.#clock.now();
    this.#audit.recordChange({ event: 'integration_added', actor, subject: id, data: { name } }, () => {
      // Inside the IMMEDIATE transaction, so two processes adding the same name cannot both pass.
      if (this.#repo.activeByName(name)) throw new AppError('ERR-INTEGRATION-EXISTS', { name });
      this.#repo.insert(id, name, keyVerifier(key).toString('hex'), now);
    });
    this.#emit();
    const row = this.#repo.byId(id);
    if (!row) throw new AppError('ERR-INTERNAL');
    return { ...toView(row), key };
  }

  list(): IntegrationView[] {
    return this.#repo.all().map(toView);
  }

  /** Takes effect at once: authentication reads the row on every request. */
  revoke(id: string, actor: string): IntegrationView {
    const revoked = this.#audit.transact(() => {
      const row = this.#repo.byId(id);
      if (!row) throw new AppError('ERR-NOT-FOUND');
      this.#cache.delete(id);
      if (!this.#repo.revoke(id, this.#clock.now())) return false;
      this.#audit.append({ event: 'integration_revoked', actor, subject: id, data: { name: row.name } });
      return true;
    });
    if (revoked) this.#emit();
    const row = this.#repo.byId(id);
    if (!row) throw new AppError('ERR-NOT-FOUND');
    return toView(row);
  }

  /**
   * Lifts a report's mute before it runs out, with an audit row. An integration that is not
   * muted (or is revoked) is answered as it is, `unmuted: false`, and nothing is recorded.
   */
  unmute(id: string, actor: string): { integration: IntegrationView; unmuted: boolean } {
    const unmuted = this.#audit.transact(() => {
      const row = this.#repo.byId(id);
      if (!row) throw new AppError('ERR-NOT-FOUND');
      if (!this.#repo.unmute(id, this.#clock.now())) return false;
      this.#cache.delete(id);
      this.#audit.append({
        event: 'integration_unmuted',
        actor,
        subject: id,
        data: { name: row.name, mutedUntil: iso(row.mutedUntil) },
      });
      return true;
    });
    if (unmuted) this.#emit();
    const row = this.#repo.byId(id);
    if (!row) throw new AppError('ERR-NOT-FOUND');
    return { integration: toView(row), unmuted };
  }

  /**
   * The integration a bearer key belongs to, or ERR-AUTH-INVALID-KEY. The stored and presented
   * hashes are compared with timingSafeEqual, and a malformed or unknown key still pays for one
   * hash and one compare, so timing tells an attacker nothing about which part was wrong.
   */
  authenticate(key: string | undefined): Integration {
    const match = parseIntegrationKey(key);
    const presented = keyVerifier(key ?? '');
    const row = match ? this.#cached(match.id) : undefined;
    const stored = row ? Buffer.from(row.keyHash, 'hex') : DUMMY_HASH;
    const equal = stored.length === presented.length && timingSafeEqual(stored, presented);
    if (!row || !equal || !match || row.revokedAt !== null) throw new AppError('ERR-AUTH-INVALID-KEY');
    return toIntegration(row);
  }

  /**
   * The gateway's side of the handshake (issue 9): proves this process holds the verifier of key
   * `keyId`, before its client sends the key. An unknown or revoked id gets ERR-AUTH-INVALID-KEY,
   * so a tool learns its key is dead without ever sending it.
   */
  proveKeyHolder(keyId: string, context: ProofContext): Buffer {
    const row = this.#cached(keyId);
    if (!row || row.revokedAt !== null) throw new AppError('ERR-AUTH-INVALID-KEY');
    return serverKeyProof(Buffer.from(row.keyHash, 'hex'), keyId, context);
  }

  /**
   * The integration as the database has it now, or ERR-AUTH-INVALID-KEY once revoked. Run inside
   * the transaction that acts for the integration, it makes a revocation by any process take
   * effect before that transaction, whatever the key check saw a moment earlier.
   */
  current(id: string): Integration {
    const row = this.#repo.byId(id);
    if (!row || row.revokedAt !== null) {
      this.#cache.delete(id);
      throw new AppError('ERR-AUTH-INVALID-KEY');
    }
    this.#cache.set(id, row);
    return toIntegration(row);
  }

  byId(id: string): IntegrationRow | undefined {
    return this.#repo.byId(id);
  }

  /** Part of a report: runs inside the caller's transaction, beside its audit row. */
  muteWithin(id: string, until: number): void {
    this.#cache.delete(id);
    this.#repo.mute(id, until);
  }

  onChanged(listener: IntegrationsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Another process changed the database: forget what was read, and tell this one's listeners. */
  notifyExternalChange(): void {
    this.#cache.clear();
    this.#emit();
  }

  #cached(id: string): IntegrationRow | undefined {
    let row = this.#cache.get(id);
    if (!row) {
      row = this.#repo.byId(id);
      if (row) this.#cache.set(id, row);
    }
    return row;
  }

  #emit(): void {
    for (const listener of this.#listeners) listener();
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function toIntegration(row: IntegrationRow): Integration {
  return { id: row.id, name: row.name, mutedUntil: row.mutedUntil };
}

function toView(row: IntegrationRow): IntegrationView {
  return {
    id: row.id,
    name: row.name,
    createdAt: new Date(row.createdAt).toISOString(),
    revokedAt: iso(row.revokedAt),
    mutedUntil: iso(row.mutedUntil),
  };
}
