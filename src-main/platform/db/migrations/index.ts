import type BetterSqlite3 from 'better-sqlite3';
import { m001AuditAndSettings } from './001-audit-and-settings';
import { m002ProfilesAndFactors } from './002-profiles-and-factors';
import { m003Gateway } from './003-gateway';
import { m004GatewayTrust } from './004-gateway-trust';
import { m005MfaRecovery } from './005-mfa-recovery';
import { m006FactorParams } from './006-factor-params';
import { m007FactorChains } from './007-factor-chains';
import { m008StepUpRules } from './008-step-up-rules';
import { m009RestoreTokens } from './009-restore-tokens';
import { m010IncidentMode } from './010-incident-mode';
import { m011SmsCodes } from './011-sms-codes';
import { m012PushChallenges } from './012-push-challenges';
import { m013StateSeals } from './013-state-seals';
import { m014LiveSeals } from './014-live-seals';

export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: BetterSqlite3.Database): void;
}

/** Numbered, append-only: a shipped migration is never edited, only followed by a new one. */
export const migrations: readonly Migration[] = [
  m001AuditAndSettings,
  m002ProfilesAndFactors,
  m003Gateway,
  m004GatewayTrust,
  m005MfaRecovery,
  m006FactorParams,
  m007FactorChains,
  m008StepUpRules,
  m009RestoreTokens,
  m010IncidentMode,
  m011SmsCodes,
  m012PushChallenges,
  m013StateSeals,
  m014LiveSeals,
];
