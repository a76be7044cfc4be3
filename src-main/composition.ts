import type { Clock } from './clock';
import type { Config } from './config';
import { databaseFile, openDatabase, type Database } from './platform/db/database';
import type { SecretStore } from './platform/keychain/secret-store';
import { KeytarSecretStore } from './platform/keychain/keytar-secret-store';
import { AuditAnchor } from './services/audit/audit-anchor';
import { AuditLog } from './services/audit/audit.service';
import { GroupCommit } from './services/audit/group-commit';
import { AppLock } from './services/lock/app-lock.service';
import { MfaService } from './services/mfa/mfa.service';
import { SettingsService } from './services/settings/settings.service';
import { systemClock } from './clock';

export interface CustodianDeps {
  config: Config;
  clock: Clock;
  db: Database;
  secrets: SecretStore;
}

export interface Custodian extends CustodianDeps {
  audit: AuditLog;
  settings: SettingsService;
  mfa: MfaService;
  lock: AppLock;
  /** Starts what listens or ticks. Constructors never do (STYLE.md rule 7). */
  start(): Promise<void>;
  /** Undoes `start` and closes the database. Safe to call twice. */
  dispose(): Promise<void>;
}

/**
 * The composition root (STYLE.md rule 7): builds every service in dependency order from its
 * four inputs. The Electron entry, the Chromium host, the CLI and the tests all come through here,
 * so each of them runs exactly the same services. It never imports Electron.
 */
export function createCustodian(deps: CustodianDeps): Custodian {
  const { db, clock } = deps;
  const audit = new AuditLog(db, clock, new AuditAnchor(deps.secrets));
  const groupCommit = new GroupCommit(audit);
  const settings = new SettingsService(db, audit);
  const mfa = new MfaService({ db, audit, groupCommit, secrets: deps.secrets, clock, config: deps.config });
  const lock = new AppLock({ mfa, settings, audit, clock, config: deps.config });
  const timers: NodeJS.Timeout[] = [];
  let disposed = false;

  return {
    ...deps,
    audit,
    settings,
    mfa,
    lock,
    async start() {
      // One shared timer each, unref'd so they never keep a CLI process alive.
      timers.push(setInterval(() => lock.tick(), 1000).unref());
      timers.push(setInterval(() => void mfa.expirePendingEnrollments(), 30_000).unref());
      await mfa.expirePendingEnrollments();
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      for (const timer of timers) clearInterval(timer);
      try {
        mfa.flush();
      } catch {
        // Already failing closed; nothing more to save.
      }
      await audit.settled();
      if (db.open) db.close();
    },
  };
}

export interface OpenCustodianOptions {
  config: Config;
  clock?: Clock;
  secrets?: SecretStore;
  nativeBinding?: string | undefined;
}

/** Opens the real database and keychain for a config, then composes. */
export function openCustodian(options: OpenCustodianOptions): Custodian {
  const { config } = options;
  const db = openDatabase({
    file: databaseFile(config.dataDir),
    synchronous: config.database.synchronous,
    nativeBinding: options.nativeBinding,
  });
  const secrets =
    options.secrets ?? new KeytarSecretStore({ service: config.keychain.service, timeoutMs: config.keychain.timeoutMs });
  return createCustodian({ config, clock: options.clock ?? systemClock, db, secrets });
}

