import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { tokenTtlSecondsSchema } from '../src-shared/domain/token-ttl';
import { AppError } from '../src-shared/errors';

/**
 * Every setting in one validated place (DESIGN.md "Configuration"). Each has a default; each can
 * be overridden from the environment as CUSTODIAN_ plus its path in upper snake case, and the
 * seeds' own variable names are honoured as written (ENV_ALIASES).
 */
export const configSchema = z.strictObject({
  dataDir: z.string().min(1),
  gateway: z.strictObject({
    port: z.number().int().min(1).max(65535),
    // A token bucket per integration (issue #5): `burst` requests at once, then
    // `refillPerMinute` more each minute.
    rateLimit: z.strictObject({
      burst: z.number().int().min(1).max(1_000_000),
      refillPerMinute: z.number().int().min(1).max(10_000_000),
    }),
    // Open connections at once (issue 9): beyond it, the oldest connection that has not sent a
    // whole request makes room, and if every one is busy the newcomer is refused.
    maxConnections: z.number().int().min(4).max(100_000),
  }),
  mfa: z.strictObject({
    enabled: z.boolean(),
    // Issue 12: the factor methods this desk turns on. A method left out cannot be enrolled and
    // its factors are not drawn into chains; a policy that needed them is unsatisfiable.
    methods: z
      .array(z.enum(['totp', 'sms', 'push']))
      .min(1)
      .refine((methods) => new Set(methods).size === methods.length, 'a method is listed twice'),
    challengeTimeoutSeconds: z.number().int().min(10).max(600),
    windowSteps: z.number().int().min(0).max(3),
    rateLimit: z.strictObject({
      maxAttempts: z.number().int().min(1).max(100),
      windowSeconds: z.number().int().min(10).max(86400),
    }),
    // Issue 9: how long a factor enrolled with a backup code waits before it may manage the
    // others (disable them, regenerate codes, change the role); the owner can stop it meanwhile.
    recoveryDelayHours: z.number().int().min(1).max(720),
  }),
  approvals: z.strictObject({
    timeoutSeconds: z.number().int().min(10).max(3600),
    reportMuteMinutes: z.number().int().min(1).max(1440),
  }),
  restoreTokens: z.strictObject({
    // The default and the environment's pin only: an administrator changes it at run time on the
    // Settings screen or with `custodian settings token-ttl`, kept in the database (SettingsService).
    ttlSeconds: tokenTtlSecondsSchema,
  }),
  security: z.strictObject({
    idleLockMinutes: z.number().int().min(1).max(240),
  }),
  keychain: z.strictObject({
    service: z.string().min(1),
    timeoutMs: z.number().int().min(100).max(60000),
  }),
  database: z.strictObject({
    // DESIGN.md "Durability": an answered decision must survive a power cut.
    synchronous: z.enum(['FULL', 'EXTRA', 'NORMAL']),
  }),
  sms: z.strictObject({
    // Issue 12: where the Twilio client sends its requests (a stand-in in tests, a proxy in a
    // locked-down network). The account's credentials travel there in every request.
    twilioBaseUrl: z.string().superRefine((value, ctx) => {
      const problem = baseUrlProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    // A Twilio call silent this long is ERR-SMS-UNAVAILABLE, so a step never hangs on the network.
    timeoutMs: z.number().int().min(100).max(60000),
  }),
});

/**
 * The Twilio base URL carries the auth token in every request: https, or plain http only to this
 * machine's loopback address (a stand-in or a local proxy). Loopback is checked on the address
 * itself, not on a name such as `localhost` that a resolver could send elsewhere.
 */
export function baseUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not a URL';
  }
  if (url.username || url.password) return 'must not hold a user name or password';
  if (url.search || url.hash) return 'must not have a query or fragment';
  if (url.protocol === 'https:') return null;
  if (url.protocol !== 'http:') return 'must be https';
  const host = url.hostname;
  const loopback = host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  return loopback ? null : 'must be https (http only to 127.0.0.1 or [::1])';
}

export type Config = z.infer<typeof configSchema>;

function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME.length > 0 ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'custodian');
}

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    dataDir: defaultDataDir(env),
    gateway: { port: 8787, rateLimit: { burst: 20, refillPerMinute: 60 }, maxConnections: 512 },
    mfa: {
      enabled: true,
      methods: ['totp', 'sms', 'push'],
      challengeTimeoutSeconds: 60,
      windowSteps: 1,
      rateLimit: { maxAttempts: 5, windowSeconds: 300 },
      recoveryDelayHours: 24,
    },
    approvals: { timeoutSeconds: 60, reportMuteMinutes: 20 },
    restoreTokens: { ttlSeconds: 900 },
    security: { idleLockMinutes: 5 },
    keychain: { service: 'custodian', timeoutMs: 5000 },
    database: { synchronous: 'FULL' },
    sms: { twilioBaseUrl: 'https://api.twilio.com', timeoutMs: 10000 },
  };
}

/** The seeds' variable names (seeds 001, 003, 004), kept as written. */
export const ENV_ALIASES: Readonly<Record<string, string>> = {
  MFA_ENABLED: 'mfa.enabled',
  MFA_METHODS: 'mfa.methods',
  MFA_TIMEOUT_SECONDS: 'mfa.challengeTimeoutSeconds',
  RESTORE_ACCESS_TOKEN_TTL_SECONDS: 'restoreTokens.ttlSeconds',
};

export function envNameFor(path: string): string {
  return `CUSTODIAN_${path
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('_')}`;
}

type Leaf = string | number | boolean | readonly string[];

/** Every leaf setting with its path, in declaration order; the README's table is made from this. */
export function settingPaths(config: Config = defaultConfig()): { path: string; value: Leaf }[] {
  const out: { path: string; value: Leaf }[] = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [key, value] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        walk(value as Record<string, unknown>, path);
      } else {
        out.push({ path, value: value as Leaf });
      }
    }
  };
  walk(config, '');
  return out;
}

function parseEnvValue(raw: string, like: Leaf, name: string): Leaf {
  if (typeof like === 'number') {
    const n = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(n)) throw configError(name, 'expected a number');
    return n;
  }
  if (typeof like === 'boolean') {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw configError(name, 'expected true or false');
  }
  if (Array.isArray(like)) {
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }
  return raw;
}

function configError(setting: string, reason: string): AppError {
  return new AppError('ERR-CONFIG-INVALID', { setting, reason });
}

function setPath(target: Record<string, unknown>, path: string, value: Leaf): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  node[parts[parts.length - 1] as string] = value;
}

/**
 * Which environment variable set each path, per config `loadConfig` made. Kept beside the config,
 * not in it: the sources are not settings, so they stay out of the schema and the README's table.
 * A config built any other way (or copied) has none, so nothing in it counts as pinned.
 */
const envSources = new WeakMap<Config, ReadonlyMap<string, string>>();

/**
 * The environment variable that set `path` in `config`, or null. A run-time setting the
 * environment sets is pinned: the deployment decides (issue 11, `restoreTokens.ttlSeconds`).
 */
export function envSource(config: Config, path: string): string | null {
  return envSources.get(config)?.get(path) ?? null;
}

function getPath(target: Config, path: string): unknown {
  let node: unknown = target;
  for (const part of path.split('.')) node = (node as Record<string, unknown>)[part];
  return node;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Programmatic overrides (tests, the CLI's flags), applied after the environment. */
  overrides?: (config: Config) => void;
}

/**
 * Defaults, then the environment, then explicit overrides; the result is validated as a whole.
 * A bad value is an ERR-CONFIG-INVALID naming the variable (or the path) and the reason, so a
 * startup failure tells the administrator exactly what to fix.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const config = defaultConfig(env);
  const sourceOf = new Map<string, string>();
  const envValues = new Map<string, string>();
  const byPath = new Map(Object.entries(ENV_ALIASES).map(([alias, path]) => [path, alias]));

  for (const { path, value } of settingPaths(config)) {
    for (const name of [byPath.get(path), envNameFor(path)]) {
      if (name === undefined) continue;
      const raw = env[name];
      if (raw === undefined) continue;
      const parsedValue = parseEnvValue(raw, value, name);
      setPath(config as unknown as Record<string, unknown>, path, parsedValue);
      sourceOf.set(path, name);
      envValues.set(path, JSON.stringify(parsedValue));
    }
  }
  options.overrides?.(config);

  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const segments = (issue?.path ?? []).map(String);
    // An issue inside a list (`mfa.methods.1`) belongs to the setting that holds the list.
    for (let n = segments.length; n > 0; n -= 1) {
      const source = sourceOf.get(segments.slice(0, n).join('.'));
      if (source) throw configError(source, issue?.message ?? 'invalid');
    }
    throw configError(segments.join('.'), issue?.message ?? 'invalid');
  }
  // An explicit override that changed a value the environment set is no longer the environment's.
  for (const [path, value] of envValues) {
    if (JSON.stringify(getPath(parsed.data, path)) !== value) sourceOf.delete(path);
  }
  envSources.set(parsed.data, sourceOf);
  return parsed.data;
}
