import type { Profile, Role } from '../../../src-shared/domain/mfa';
import { AppError } from '../../../src-shared/errors';
import type { Clock } from '../../clock';
import type { FactorRecord, FactorsRepository } from '../../platform/db/repositories/factors.repository';
import type { ProfilesRepository } from '../../platform/db/repositories/profiles.repository';
import { randomId } from '../../platform/random';
import type { Random } from '../../random';
import type { AuditLog } from '../audit/audit.service';
import { mfaRow, type MfaContext } from './mfa-context';

/**
 * The approver's profile, and the snapshot every verification reads: the profile and its active
 * factors. They rarely change: this process drops the copy on each change it makes
 * (`invalidate`), and the composition root's shared tick drops it when another process (the CLI,
 * `custodian serve`) committed. Within that quarter second a stale copy can do no harm: a factor
 * disabled elsewhere fails `markUsed`, which also requires it to be active.
 */
export class ProfileService {
  readonly #profiles: ProfilesRepository;
  readonly #factors: FactorsRepository;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #random: Random;
  #snapshot: { profile: Profile | null; active: FactorRecord[] } | undefined;

  constructor(deps: { profiles: ProfilesRepository; factors: FactorsRepository; audit: AuditLog; clock: Clock; random: Random }) {
    this.#profiles = deps.profiles;
    this.#factors = deps.factors;
    this.#audit = deps.audit;
    this.#clock = deps.clock;
    this.#random = deps.random;
  }

  profile(): Profile | null {
    return this.current().profile;
  }

  requireProfile(): Profile {
    const profile = this.current().profile;
    if (!profile) throw new AppError('ERR-PROFILE-REQUIRED');
    return profile;
  }

  /** The profile as stored now, bypassing the snapshot. */
  stored(): Profile | null {
    return this.#profiles.current();
  }

  current(): { profile: Profile | null; active: FactorRecord[] } {
    if (!this.#snapshot) {
      const profile = this.#profiles.current();
      this.#snapshot = { profile, active: profile ? this.#factors.active(profile.id) : [] };
    }
    return this.#snapshot;
  }

  invalidate(): void {
    this.#snapshot = undefined;
  }

  create(input: { displayName: string; principal: string; role: Role }, ctx: MfaContext): void {
    if (this.#profiles.current()) throw new AppError('ERR-PROFILE-EXISTS');
    const id = randomId('p', this.#random);
    const row = mfaRow(input, ctx, 'profile_created', id, { role: input.role, source: ctx.source });
    this.#audit.recordChange(row, () => {
      this.#profiles.insert({ id, ...input, createdAt: new Date(this.#clock.now()).toISOString() });
    });
  }

  /** The caller has proved the right (a step-up); true if the role changed. */
  changeRole(profile: Profile, role: Role, ctx: MfaContext): boolean {
    if (role === profile.role) return false;
    const row = mfaRow(profile, ctx, 'profile_role_changed', profile.id, { from: profile.role, to: role, source: ctx.source });
    this.#audit.recordChange(row, () => {
      this.#profiles.setRole(profile.id, role);
    });
    return true;
  }

  /** Inside a transaction. */
  setMfaEnabled(profileId: string, enabled: boolean): void {
    this.#profiles.setMfaEnabled(profileId, enabled);
  }
}
