import { PushChallengesRepository } from './platform/db/repositories/push-challenges.repository';
import { PushMethod } from './services/mfa/methods/push.method';
import { PushNotices } from './services/push/push-notices';
import { PushService } from './services/push/push.service';
import type { Clock } from './clock';
import { cryptoRandom, type Random } from './random';
import { envSource, type Config } from './config';
import { databaseFile, openDatabase, type Database } from './platform/db/database';
import type { SecretStore } from './platform/keychain/secret-store';
import { KeytarSecretStore } from './platform/keychain/keytar-secret-store';
import { AuditAnchor } from './services/audit/audit-anchor';
import { AuditCheckpoint } from './services/audit/audit-checkpoint';
import { builtWalkerScript } from './services/audit/parallel-walk';
import { AuditLog } from './services/audit/audit.service';
import { GroupCommit } from './services/audit/group-commit';
import { AppLock } from './services/lock/app-lock.service';
import { MfaService } from './services/mfa/mfa.service';
import { FactorMethodRegistry } from './services/mfa/methods/registry';
import { TotpMethod } from './services/mfa/methods/totp.method';
import { SmsMethod } from './services/mfa/methods/sms.method';
import { SmsCodesRepository } from './platform/db/repositories/sms-codes.repository';
import { SecretVault } from './services/mfa/secret-vault';
import { SettingsService, TOKEN_TTL_SETTING } from './services/settings/settings.service';
import { systemClock } from './clock';
import { GatewayServer } from './gateway/gateway.server';
import { DataVersionWatcher } from './platform/db/data-version-watcher';
import { AuditFeedRepository } from './platform/db/repositories/audit-feed.repository';
import { BackupCodesRepository } from './platform/db/repositories/backup-codes.repository';
import { FactorsRepository } from './platform/db/repositories/factors.repository';
import { GatewayInstanceRepository } from './platform/db/repositories/gateway-instance.repository';
import { IntegrationsRepository } from './platform/db/repositories/integrations.repository';
import { MfaAttemptsRepository } from './platform/db/repositories/mfa-attempts.repository';
import { ProfilesRepository } from './platform/db/repositories/profiles.repository';
import { RestoreRequestsRepository } from './platform/db/repositories/restore-requests.repository';
import { SettingsRepository } from './platform/db/repositories/settings.repository';
import { silentNotifier, type Notifier } from './platform/notifier';
import { IntegrationsService } from './services/gateway/integrations.service';
import { RestoreRequestsService } from './services/restore/restore-requests.service';
import { RequestNotices } from './services/restore/requests-presenter';
import { IncidentRepository } from './platform/db/repositories/incident.repository';
import { IncidentService } from './services/incident/incident.service';
import { ChainAttemptsRepository } from './platform/db/repositories/chain-attempts.repository';
import { PoliciesRepository } from './platform/db/repositories/policies.repository';
import { StepUpGrantsRepository } from './platform/db/repositories/step-up-grants.repository';
import { ChainService } from './services/chain/chain.service';
import { MfaChainPort } from './services/chain/mfa-chain-port';
import { PolicyService, type StepUpGrants } from './services/policy/policy.service';
import { RestoreTokensRepository } from './platform/db/repositories/restore-tokens.repository';
import { RestoreTokensService } from './services/tokens/restore-tokens.service';
import { ApprovalService } from './services/restore/approval.service';
import { TwilioSmsSender } from './platform/sms/twilio-sms-sender';
import { TwilioCredentialsStore } from './services/sms/twilio-credentials';
import { SmsService } from './services/sms/sms.service';
import { StateSeal } from './services/integrity/state-seal';

/**
 * How often the one shared tick runs: the expiry sweeper, long-poll deadlines and the
 * data_version check (DESIGN.md "Several processes": "within a fraction of a second").
 */
export const TICK_MS = 250;

/** While the keychain refuses anchor writes, how often the tick tries again (issue 9). */
const ANCHOR_RETRY_MS = 1_000;

export interface CustodianDeps {
  config: Config;
  clock: Clock;
  db: Database;
  secrets: SecretStore;
  /** Desktop notifications; none when absent (the CLI, `serve`, tests). */
  notifier?: Notifier;
  /** Randomness for ids, secrets and backup codes; the CSPRNG unless a test brings a TestRandom. */
  random?: Random;
  /** The better-sqlite3 addon the database was opened with, for the audit walk's worker threads. */
  nativeBinding?: string | undefined;
}

export interface StartOptions {
  /** Serve the gateway (default true); the sweeper and the data_version watch run either way. */
  gateway?: boolean;
}

export interface Custodian extends CustodianDeps {
  audit: AuditLog;
  settings: SettingsService;
  /** The factor methods, and which of them `MFA_METHODS` turns on (issue 12). */
  methods: FactorMethodRegistry;
  mfa: MfaService;
  /** One policy per sensitivity (issue 10). */
  policies: PolicyService;
  /** The factor-chain orchestrator: attempts, steps and step-up grants (issue 10). */
  chain: ChainService;
  lock: AppLock;
  integrations: IntegrationsService;
  requests: RestoreRequestsService;
  /** The approval pipeline: authentication, step-up, policy, token (issue 11). */
  approvals: ApprovalService;
  /** Restore access tokens: handed out once, redeemed once, revocable, purged (issue 11). */
  tokens: RestoreTokensService;
  /** Incident mode (issue 11): one state in the database for every process. */
  incident: IncidentService;
  /** Twilio settings and the test message (issue 12); the credentials stay in the keychain. */
  sms: SmsService;
  /** Push (issue 12): the pushes waiting for the approver, and their answers. */
  push: PushService;
  /** The state seals' key and checks (issue 13); `start` and the CLI await `integrity.ready()`. */
  integrity: StateSeal;
  gateway: GatewayServer;
  /**
   * One tick of the shared timer: expire overdue requests, release long-polls whose wait ran
   * out, and pick up other processes' commits. `start` runs it every TICK_MS; tests call it
   * after moving the TestClock.
   */
  tick(): void;
  /** Starts what listens or ticks. Constructors never do (STYLE.md rule 7). */
  start(options?: StartOptions): Promise<void>;
  /** Undoes `start` and closes the database. Safe to call twice. */
  dispose(): Promise<void>;
}

/**
 * The composition root (STYLE.md rule 7): builds every service in dependency order from its
 * four inputs. The Electron entry, the Chromium host, the CLI and the tests all come through here,
 * so each of them runs exactly the same services. It never imports Electron.
 */
/** An approval's chain purpose (`approve:<id>`): its push shows the request. */
const APPROVE_PURPOSE = /^approve:([A-Za-z0-9_-]{1,64})$/;

export function createCustodian(deps: CustodianDeps): Custodian {
  const { db, clock } = deps;
  const walker = builtWalkerScript();
  const audit = new AuditLog(db, clock, new AuditAnchor(deps.secrets, db, clock), {
    checkpoint: new AuditCheckpoint(deps.secrets, db),
    ...(walker ? { walkers: { script: walker, nativeBinding: deps.nativeBinding } } : {}),
  });
  const groupCommit = new GroupCommit(audit);
  // Issue 13: the key that seals the security-state rows (migration 013), from the keychain.
  const integrity = new StateSeal({ db, secrets: deps.secrets, random: deps.random ?? cryptoRandom, audit });
  // A longer token TTL takes a grant from the chain, built below: a late-bound reference.
  const settings = new SettingsService({
    repo: new SettingsRepository(db),
    audit,
    grants: { consumeGrant: (purpose, atLeast) => chain.consumeGrant(purpose, atLeast) },
    tokenTtl: { configured: deps.config.restoreTokens.ttlSeconds, pinnedBy: envSource(deps.config, TOKEN_TTL_SETTING) },
  });
  const random = deps.random ?? cryptoRandom;
  const mfaRepositories = {
    profiles: new ProfilesRepository(db),
    factors: new FactorsRepository(db),
    backupCodes: new BackupCodesRepository(db),
    attempts: new MfaAttemptsRepository(db),
    auditFeed: new AuditFeedRepository(db),
  };
  // One vault and one set of factor methods for MfaService and the chain's port: a code is
  // checked the same way wherever it is typed, and a lock drops every secret held in memory.
  const vault = new SecretVault(deps.secrets, random);
  // One Twilio sender for the settings' test message and the SMS factors' codes (issue 12).
  const twilioCredentials = new TwilioCredentialsStore(deps.secrets);
  const smsSender = new TwilioSmsSender({
    baseUrl: deps.config.sms.twilioBaseUrl,
    timeoutMs: deps.config.sms.timeoutMs,
    credentials: () => twilioCredentials.read(),
  });
  const pushes = new PushChallengesRepository(db);
  const pushMethod = new PushMethod({ vault, pushes, clock, config: deps.config, random, changed: () => push.changed() });
  const methods = new FactorMethodRegistry(
    {
      totp: new TotpMethod({ vault, clock, config: deps.config, random }),
      sms: new SmsMethod({
        vault,
        codes: new SmsCodesRepository(db),
        sender: smsSender,
        clock,
        config: deps.config,
        random,
        language: () => settings.get().language,
      }),
      push: pushMethod,
    },
    deps.config.mfa.methods,
  );
  // The chain asks the policies for its steps and the policies ask the chain for grants (a
  // weakening takes one): the policies get a late-bound reference to the chain.
  const chainPort = new MfaChainPort({
    profiles: mfaRepositories.profiles,
    factors: mfaRepositories.factors,
    backup: mfaRepositories.backupCodes,
    attempts: mfaRepositories.attempts,
    methods,
    vault,
    audit,
    clock,
    config: deps.config,
  });
  const grants: StepUpGrants = { consumeGrant: (purpose, atLeast) => chain.consumeGrant(purpose, atLeast) };
  const policies = new PolicyService({ repo: new PoliciesRepository(db), audit, clock, config: deps.config, factors: chainPort, grants });
  const chain: ChainService = new ChainService({
    attempts: new ChainAttemptsRepository(db),
    grants: new StepUpGrantsRepository(db),
    policies,
    mfa: chainPort,
    audit,
    clock,
    random,
  });
  const mfa = new MfaService({
    repositories: mfaRepositories,
    audit,
    groupCommit,
    vault,
    methods,
    clock,
    random,
    config: deps.config,
    notifier: deps.notifier ?? null,
    language: () => settings.get().language,
    // Managing factors takes a grant from the chain (issue 10); disabling one asks the policies.
    grants: chain,
    policies,
  });
  const lock = new AppLock({ mfa, settings, audit, clock, config: deps.config });
  const integrations = new IntegrationsService(new IntegrationsRepository(db), audit, clock);
  const requests = new RestoreRequestsService({
    repo: new RestoreRequestsRepository(db),
    audit,
    clock,
    config: deps.config,
    integrations,
    groupCommit,
    random,
  });
  // Presentation apart from state (issue 11): the notices follow the requests' change events.
  const notices = new RequestNotices({ clock, notifier: deps.notifier ?? silentNotifier, language: () => settings.get().language });
  const stopNotices = requests.onChanged(notices.onChange);
  const incident = new IncidentService({ repo: new IncidentRepository(db), audit, grants: chain, clock });
  // A token's move (collected, redeemed, revoked) changes what its request's card shows.
  const tokens = new RestoreTokensService({ repo: new RestoreTokensRepository(db), audit, clock, random, changed: (id) => requests.touched(id) });
  const requestsRepo = new RestoreRequestsRepository(db);
  const approvals = new ApprovalService({
    requests: requestsRepo,
    decided: (id) => requests.decided(id),
    view: (id) => requests.get(id),
    tokens,
    integrations,
    profiles: mfaRepositories.profiles,
    lock,
    grants: chain,
    attempts: chainPort,
    incident,
    audit,
    clock,
    // Read from the database at each issue, inside its transaction, never kept: a change made in
    // any process on the data directory applies to the next token any of them issues.
    tokenTtlSeconds: () => settings.tokenTtl().seconds,
  });
  const sms = new SmsService({
    credentials: twilioCredentials,
    sender: smsSender,
    audit,
    language: () => settings.get().language,
    grants: chain,
  });
  // The answering side of push (issue 12): the window lists and answers pushes from any process.
  const push: PushService = new PushService({
    pushes,
    profiles: mfaRepositories.profiles,
    factors: mfaRepositories.factors,
    method: pushMethod,
    audit,
    clock,
    request: (purpose) => {
      const id = APPROVE_PURPOSE.exec(purpose)?.[1];
      if (!id) return null;
      try {
        return requests.get(id);
      } catch {
        return null;
      }
    },
    countFailure: () => {
      try {
        chainPort.takeAttemptSlot({ source: 'push' });
      } catch {
        // Blocked already, or no profile: nothing more to count.
      }
    },
  });
  const pushNotices = new PushNotices({ notifier: deps.notifier ?? silentNotifier, language: () => settings.get().language, locked: () => lock.isLocked() });
  const stopPushNotices = push.onChanged(pushNotices.onChange);
  const gateway = new GatewayServer({
    config: deps.config,
    clock,
    integrations,
    requests,
    tokens,
    instanceSecret: new GatewayInstanceRepository(db).secret(),
    ready: () => audit.ready(),
  });
  const watcher = new DataVersionWatcher(db);
  let timer: ReturnType<typeof setInterval> | undefined;
  let started = false;
  let lastEnrollmentSweep = 0;
  let lastAnchorRetry = 0;
  let lastSealRetry = 0;
  let lastEpochAnchor = Number.NEGATIVE_INFINITY;
  let lastChainSweep = 0;
  let disposed = false;

  const tick = (): void => {
    if (!db.open) return;
    // First, and whatever fails after: the idle lock (the safe direction), and the anchor's retry
    // (while the keychain does not take it, every audited change below is refused, issue 13).
    lock.tick();
    // A failed anchor write is caught up once the keychain answers again, without waiting for the
    // next commit; a healthy anchor costs nothing here.
    if (audit.anchorWriteState() === 'failing' && clock.now() - lastAnchorRetry >= ANCHOR_RETRY_MS) {
      lastAnchorRetry = clock.now();
      void audit.retryAnchor();
    }
    if (watcher.changed()) {
      requests.onExternalCommit();
      integrations.notifyExternalChange();
      mfa.externalChange();
      incident.externalChange();
      settings.externalChange();
    }
    notices.flush();
    requests.sweep();
    // Pushes raised or answered by another process, and ignored ones running out, reach the window.
    push.sweep();
    // Lapsed enrollments are rare: a sweep every half minute is plenty.
    if (clock.now() - lastEnrollmentSweep >= 30_000) {
      lastEnrollmentSweep = clock.now();
      void mfa.expirePendingEnrollments();
    }
    // Ended attempts are kept a day: one DELETE a minute keeps the table small.
    if (clock.now() - lastChainSweep >= 60_000) {
      lastChainSweep = clock.now();
      chain.sweep();
      // Lapsed tokens go; the audit log keeps their story (issue 11).
      tokens.sweep();
    }
    // The seals' key, if the keychain did not give it at start: until then sealed writes fail closed.
    if (!integrity.settled() && clock.now() - lastSealRetry >= ANCHOR_RETRY_MS) {
      lastSealRetry = clock.now();
      void integrity.ready().catch(() => undefined);
    }
    // The state epoch into the keychain, lazily (issue 13: an older copy of the file put back):
    // at most one keychain round trip every few seconds, however busy the desk.
    if (clock.now() - lastEpochAnchor >= ANCHOR_RETRY_MS) {
      lastEpochAnchor = clock.now();
      void integrity.anchorEpoch().catch(() => undefined);
    }
  };

  return {
    ...deps,
    audit,
    settings,
    methods,
    mfa,
    policies,
    chain,
    lock,
    integrations,
    requests,
    approvals,
    tokens,
    incident,
    sms,
    push,
    integrity,
    gateway,
    tick,
    async start(options = {}) {
      if (started || disposed) return;
      started = true;
      // Without the keychain the app still starts (it recovers by itself, issue 9): sealed writes
      // fail closed until the tick gets the key.
      await integrity.ready().catch(() => undefined);
      // A kill between a commit and its keychain write left the anchor behind (issue 13, item 2).
      await audit.catchUpAnchor();
      if (integrity.settled()) {
        // Secrets without their factor, pending factors without their secret (issue 13, item 2).
        await mfa.reconcileSecrets().catch(() => undefined);
        await mfa.expirePendingEnrollments();
      }
      tick();
      timer = setInterval(() => {
        try {
          tick();
        } catch {
          // A busy or briefly locked database must not stop the sweeper: the next tick retries.
        }
      }, TICK_MS);
      // The timer alone must not keep a process alive: the window, the gateway or the CLI does.
      timer.unref();
      if (options.gateway ?? true) await gateway.start();
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      if (timer) clearInterval(timer);
      stopNotices();
      stopPushNotices();
      if (started) await gateway.close();
      try {
        mfa.flush();
      } catch {
        // Already failing closed; nothing more to save.
      }
      await audit.settled();
      // A key made here and not yet in the keychain: without it there, the sealed rows would read
      // as tampered to the next process (issue 13).
      await integrity.ready().catch(() => undefined);
      await integrity.anchorEpoch().catch(() => undefined);
      if (db.open) db.close();
      deps.secrets.dispose?.();
    },
  };
}

export interface OpenCustodianOptions {
  config: Config;
  clock?: Clock;
  secrets?: SecretStore;
  nativeBinding?: string | undefined;
  notifier?: Notifier;
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
  return createCustodian({
    config,
    clock: options.clock ?? systemClock,
    db,
    secrets,
    nativeBinding: options.nativeBinding,
    ...(options.notifier ? { notifier: options.notifier } : {}),
  });
}

