import type { LockStatus } from '../../../src-shared/domain/mfa';
import type { Clock } from '../../clock';
import type { Config } from '../../config';
import type { AuditLog } from '../audit/audit.service';
import type { MfaContext, MfaService } from '../mfa/mfa.service';
import type { SettingsService } from '../settings/settings.service';

export type LockListener = (status: LockStatus) => void;

/**
 * The desk's lock (issue #4, "Profile and lock"). With MFA on, the app starts locked, locks after
 * `security.idleLockMinutes` without activity and on demand, and unlocks with a valid code or a
 * backup code. While it is locked, main serves nothing but the lock's own status and unlock, and
 * keeps no TOTP secret in memory.
 */
export class AppLock {
  readonly #mfa: MfaService;
  readonly #settings: SettingsService;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #idleMs: number;
  readonly #idleLockMinutes: number;
  readonly #listeners = new Set<LockListener>();
  #locked: boolean;
  #lastActivity: number;

  constructor(deps: { mfa: MfaService; settings: SettingsService; audit: AuditLog; clock: Clock; config: Config }) {
    this.#mfa = deps.mfa;
    this.#settings = deps.settings;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#idleLockMinutes = deps.config.security.idleLockMinutes;
    this.#idleMs = this.#idleLockMinutes * 60_000;
    this.#locked = this.#mfaEnabled();
    this.#lastActivity = this.#clock.now();
    // MFA turned off (an operator's last factor) leaves nothing to unlock with; turned on, the
    // approver has just proved a code, so the desk stays open.
    this.#mfa.onChanged(() => {
      if (this.#locked && !this.#mfaEnabled()) this.#set(false);
    });
  }

  status(): LockStatus {
    const profile = this.#mfa.profile();
    return {
      locked: this.#locked,
      hasProfile: profile !== null,
      mfaEnabled: profile?.mfaEnabled ?? false,
      idleLockMinutes: this.#idleLockMinutes,
      language: this.#settings.get().language,
    };
  }

  isLocked(): boolean {
    return this.#locked;
  }

  lock(reason: 'manual' | 'idle'): LockStatus {
    if (this.#locked || !this.#mfaEnabled()) return this.status();
    const profile = this.#mfa.requireProfile();
    // Locking is the safe direction: the desk locks even when its row cannot be written (a full
    // disk, a keychain that does not take the anchor, issue 13), rather than stay open past its
    // idle time because the log refused.
    this.#set(true);
    try {
      this.#audit.record({ event: 'app_locked', actor: reason === 'idle' ? 'system' : profile.principal, subject: profile.id, data: { reason } });
    } catch {
      // Refused: the lock stands without its row.
    }
    return this.status();
  }

  async unlock(code: string, ctx: MfaContext): Promise<LockStatus> {
    if (!this.#locked) return this.status();
    const verified = await this.#mfa.verify(code, ctx, { allowBackup: true, purpose: 'unlock' });
    const profile = this.#mfa.requireProfile();
    this.#audit.record({ event: 'app_unlocked', actor: profile.principal, subject: profile.id, data: { method: verified.method } });
    this.#lastActivity = this.#clock.now();
    this.#set(false);
    return this.status();
  }

  /** The approver did something: the idle countdown starts again. */
  touch(): void {
    if (!this.#locked) this.#lastActivity = this.#clock.now();
  }

  /** Locks when idle for too long; the composition root calls it on a timer, tests by hand. */
  tick(): void {
    if (!this.#locked && this.#clock.now() - this.#lastActivity >= this.#idleMs) this.lock('idle');
  }

  onChanged(listener: LockListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #mfaEnabled(): boolean {
    return this.#mfa.profile()?.mfaEnabled ?? false;
  }

  #set(locked: boolean): void {
    this.#locked = locked;
    if (locked) this.#mfa.forgetSecrets();
    const status = this.status();
    for (const listener of this.#listeners) listener(status);
  }
}
