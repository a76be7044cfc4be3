import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Command } from 'commander';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, runCli } from '../../src-main/cli/main';
import type { SecretInput } from '../../src-main/cli/secret-input';
import { secretAccount } from '../../src-main/services/mfa/mfa.service';
import { STACK_TRACE, changedTables, describeInput, fuzzParams, nastyString, tableDigests, unexpectedChanges } from '../fixtures/fuzz';
import { freePort, validRequest } from '../fixtures/gateway-client';
import { oathtool } from '../fixtures/otp';
import { runCli as spawnCliRun } from '../fixtures/run-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

/**
 * Issue 13, item 1: every CLI command's arguments, fuzzed. The commander program runs in this
 * process (`runCli` with injected output, code input and stop signal), on a data directory with a
 * profile, an active factor, an integration and restore requests; a smaller set runs the built
 * `custodian` as real child processes. Each run ends with an exit code of the contract (0 to 4),
 * no stack and no ERR-INTERNAL on either stream, and no process exit; a failed run leaves every
 * table as it was (one that read a code may add the attempt's records, see fixtures/fuzz.ts).
 *
 * Inputs: 1,500 argument lists in process and 10 spawned (each about a second here): 1,510 in all.
 */
const RUNS_IN_PROCESS = 1_500;
const RUNS_SPAWNED = 10;

const INTERNAL = 'Something went wrong inside Custodian.';

let t: TempCustodian;
let digestDb: BetterSqlite3.Database;
let env: Record<string, string>;
let saved: Record<string, string | undefined>;
let known: { factorId: string; pendingId: string; deniedId: string; integrationId: string };
let qrDir: string;

beforeAll(async () => {
  // Real time (plus nothing): the commands run on the system clock in this process.
  // Requests that stay pending through the run; commits without a sync (durability is item 2's).
  const timeout = { CUSTODIAN_APPROVALS_TIMEOUT_SECONDS: '3600', CUSTODIAN_DATABASE_SYNCHRONOUS: 'NORMAL' };
  t = tempCustodian({ clock: 'following', env: timeout });
  const { mfa } = t.custodian;
  const profile = mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'security-admin' }, { source: 'desktop' });
  const enrollment = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, { source: 'desktop' });
  const secret = (await t.custodian.secrets.get(secretAccount(profile.id, enrollment.factor.id))) ?? '';
  await mfa.confirmEnrollment(enrollment.factor.id, oathtool(secret, t.clock.now()), { source: 'desktop' });
  const created = t.custodian.integrations.add('restic-nightly', 'alice@corp');
  const integration = t.custodian.integrations.authenticate(created.key);
  const pending = await t.custodian.requests.create(integration, validRequest);
  const denied = await t.custodian.requests.create(integration, { ...validRequest, backupId: 'snap-old' });
  t.custodian.requests.deny(denied.id, 'alice@corp');
  known = { factorId: enrollment.factor.id, pendingId: pending.id, deniedId: denied.id, integrationId: created.id };
  await t.close();
  qrDir = join(t.dir, 'qr');
  mkdirSync(qrDir);
  // Nothing listens on this port: `request` and `redeem` fail fast, as with the app closed.
  env = {
    ...timeout,
    CUSTODIAN_DATA_DIR: t.dir,
    CUSTODIAN_KEYCHAIN_SERVICE: t.config.keychain.service,
    CUSTODIAN_GATEWAY_PORT: String(await freePort()),
    CUSTODIAN_API_KEY: created.key,
  };
  saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  digestDb = new BetterSqlite3(t.dbFile, { readonly: true });
});
afterAll(async () => {
  digestDb.close();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) Reflect.deleteProperty(process.env, k);
    else process.env[k] = v;
  }
  await t.remove();
});

interface Leaf {
  path: string[];
  /** Long flags, with whether each takes a value. */
  options: { flag: string; takesValue: boolean }[];
  arguments: number;
}

/** Every runnable command of the program, as a user would type its path. */
function leaves(command: Command, path: string[] = []): Leaf[] {
  const own: Leaf[] =
    path.length > 0 && command.commands.length === 0
      ? [{ path, options: command.options.flatMap((o) => (o.long ? [{ flag: o.long, takesValue: o.required || o.optional }] : [])), arguments: command.registeredArguments.length }]
      : [];
  return [...own, ...command.commands.flatMap((sub) => leaves(sub, [...path, sub.name()]))];
}

const LEAVES = leaves(await buildProgram({ out: () => undefined, err: () => undefined }, () => undefined, 'all'));

/** Values a command's options and arguments take, right and wrong. */
function values(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: nastyString.map((s) => s.replace(/\0/g, '')) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        known.factorId,
        known.pendingId,
        known.deniedId,
        known.integrationId,
        'req_AAAAAAAAAAAA',
        'f_aaaaaaaaaaaaaaaa',
        'admin',
        'operator',
        'root',
        'low',
        'critical',
        'extreme',
        'pending',
        '6',
        '8',
        '7',
        '30',
        '86400',
        '86401',
        'SHA1',
        'MD5',
        '+90 532 123 45 67',
        'alice@corp',
        'a b@corp',
      ),
    },
  );
}

/** An argument list: a command's path, then its flags with values, positionals and stray tokens, in any order. */
const argvArbitrary = (): fc.Arbitrary<string[]> =>
  fc
  .tuple(
    fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...LEAVES) }, { weight: 1, arbitrary: fc.constant<Leaf>({ path: [], options: [], arguments: 0 }) }),
    fc.array(fc.tuple(fc.nat(), values(), fc.constantFrom('flag', 'flag=', 'positional', 'unknown', 'short')), { maxLength: 6 }),
    fc.boolean(),
  )
  .map(([leaf, parts, keepOrder]) => {
    const tokens: string[][] = parts.map(([n, value, kind]) => {
      const option = leaf.options.length > 0 ? leaf.options[n % leaf.options.length] : undefined;
      switch (kind) {
        case 'flag':
          return option ? (option.takesValue ? [option.flag, value] : [option.flag]) : [value];
        case 'flag=':
          return option ? [`${option.flag}=${value}`] : [value];
        case 'positional':
          return [value];
        case 'unknown':
          return [`--${value.slice(0, 20)}`, value];
        case 'short':
          return [`-${value.slice(0, 3)}`];
        default:
          throw new Error(kind satisfies never);
      }
    });
    // Valid-looking lists first (path, flags, then positionals) half the time.
    const ordered = keepOrder ? tokens : [...tokens].reverse();
    return safeQrOut([...leaf.path, ...ordered.flat()]);
  });

/** `--qr-out` writes a file: whatever the fuzz puts there, it lands in the test's own folder. */
function safeQrOut(argv: string[]): string[] {
  return argv.flatMap((token, i) => {
    if (token.startsWith('--qr-out=')) return [`--qr-out=${join(qrDir, `q${i}.png`)}`];
    if (argv[i - 1] === '--qr-out') return [join(qrDir, `q${i}.png`)];
    return [token];
  });
}

/** Lines a script pipes in for codes and tokens: empty, wrong, huge, or the end of input. */
const secretLines = fc.array(fc.oneof(nastyString, fc.constantFrom('123456', '000000', 'AAAA-AAAA', '42', '')), { maxLength: 3 });

function scriptedInput(lines: readonly string[]): SecretInput & { reads: number } {
  const queue = [...lines];
  const input = {
    interactive: false,
    attended: false,
    reads: 0,
    readHidden: () => Promise.reject(new Error('no terminal here')),
    readLine: () => {
      input.reads += 1;
      return Promise.resolve(queue.shift() ?? '');
    },
  };
  return input;
}

describe('every CLI command, fuzzed (issue 13, item 1)', () => {
  it('finds the commands to fuzz', () => {
    expect(LEAVES.map((l) => l.path.join(' '))).toEqual(expect.arrayContaining(['request', 'redeem', 'approve', 'factors enroll', 'audit verify', 'settings token-ttl', 'serve']));
  });

  it('in process: an exit code of the contract, no stack, no ERR-INTERNAL, no exit; a failed run changes nothing', async () => {
    const exitCodeBefore = process.exitCode;
    let before = tableDigests(digestDb);
    await fc.assert(
      fc.asyncProperty(argvArbitrary(), secretLines, async (argv, lines) => {
        let out = '';
        let err = '';
        const secrets = scriptedInput(lines);
        const status = await runCli(argv, { out: (s) => (out += s), err: (s) => (err += s), isTty: false, secrets }, () => Promise.resolve());
        const what = () => `${describeInput(argv)} with input ${describeInput(lines)}: ${status}\n${out.slice(0, 300)}\n${err.slice(0, 300)}`;
        if (![0, 1, 2, 3, 4].includes(status)) expect.fail(`exit ${status} for ${what()}`);
        if (STACK_TRACE.test(out + err) || (out + err).includes(INTERNAL)) expect.fail(`a stack or ERR-INTERNAL for ${what()}`);
        if (process.exitCode !== exitCodeBefore) expect.fail(`process.exitCode set for ${what()}`);
        const after = tableDigests(digestDb);
        if (status !== 0) {
          // A run that read a code may have counted it (an attempt, its audit row); none other may write.
          // `verify CODE` checks the code given as its argument (no terminal here): a code read too.
          const readCode = secrets.reads > 0 || argv[0] === 'verify';
          const changed = unexpectedChanges(readCode ? 'ERR-MFA-INVALID' : 'ERR-VALIDATION', changedTables(before, after));
          if (changed.length > 0) expect.fail(`changed ${changed.join(', ')} for ${what()}`);
        }
        before = after;
      }),
      fuzzParams(RUNS_IN_PROCESS),
    );
  }, 120_000);

  it('as real processes: the built command answers the same way', () => {
    let before = tableDigests(digestDb);
    fc.assert(
      // `serve` waits for a signal as a child: its in-process runs above cover it.
      fc.property(argvArbitrary().filter((argv) => argv[0] !== 'serve'), secretLines, (argv, lines) => {
        // An argument cannot hold a NUL, and a lone surrogate reaches the child as U+FFFD.
        const run = spawnCliRun(argv.map((a) => a.replace(/\0/g, '')), env, lines.join('\n'));
        const what = () => `${describeInput(argv)}: ${run.status}\n${run.stderr.slice(0, 300)}`;
        if (run.status === null || ![0, 1, 2, 3, 4].includes(run.status)) expect.fail(`exit ${run.status} for ${what()}`);
        if (STACK_TRACE.test(run.stdout + run.stderr) || run.stderr.includes(INTERNAL)) expect.fail(`a stack or ERR-INTERNAL for ${what()}`);
        const after = tableDigests(digestDb);
        if (run.status !== 0) {
          const changed = unexpectedChanges(lines.length > 0 || argv[0] === 'verify' ? 'ERR-MFA-INVALID' : 'ERR-VALIDATION', changedTables(before, after));
          if (changed.length > 0) expect.fail(`changed ${changed.join(', ')} for ${what()}`);
        }
        before = after;
      }),
      fuzzParams(RUNS_SPAWNED),
    );
  }, 120_000);
});
