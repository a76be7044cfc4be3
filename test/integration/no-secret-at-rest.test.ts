import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import keytar from '@github/keytar';
import { afterAll, describe, expect, it } from 'vitest';
import { approvePurpose } from '../../src-shared/domain/approval';
import type { ChainAttemptView } from '../../src-shared/domain/policy';
import { createAppRouter } from '../../src-main/ipc/app-router';
import { base32 } from '../../src-main/platform/base32';
import { GatewayInstanceRepository } from '../../src-main/platform/db/repositories/gateway-instance.repository';
import { TwilioCredentialsStore } from '../../src-main/services/sms/twilio-credentials';
import { freePort, http, validRequest, type HttpAnswer } from '../fixtures/gateway-client';
import { CLI, type CliRun } from '../fixtures/run-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { startTwilioStandIn, type TwilioStandIn } from '../fixtures/twilio-standin';

// Issue 13, item 5: the whole story, then a search of everything it left behind (the SQLite
// file, its WAL and SHM, every file in the data directory, every message, every audit row, every
// child process's command line) for every secret, code, key and raw token it made, in raw,
// Base32, hex, Base64 and base64url forms. Zero hits.
//
// The app writes no log file: main, the gateway (fastify's logger is off) and the services log
// nothing; the only text a run prints is the CLI's stdout and stderr and the Chromium host's two
// stderr lines. So "the logs" are the CLI's output, collected here, and every file in the data
// directory is searched in case one ever appears there.

const APP = { url: 'http://127.0.0.1:5555/', isMainFrame: true };
const PHONE = '+905321234567';
const SENDER = '+14155552345';

let t: TempCustodian | undefined;
let standIn: TwilioStandIn | undefined;
afterAll(async () => {
  await t?.remove();
  await standIn?.close();
});

/** RFC 6238 in process: oathtool would carry the secret on its own command line, which is searched. */
function totp(secretBase32: string, atMs: number): string {
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of secretBase32) {
    value = (value << 5) | 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 30_000)));
  const mac = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** Every process this test starts, and what /proc said of each (and of its children) while it ran. */
const processes: { pid: number; argv: string[]; seen: string[] }[] = [];
const seenCommandLines = new Map<number, string>();

function watchDescendants(): () => void {
  const walk = (pid: number): void => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      return;
    }
    for (const task of tasks) {
      let children: string[] = [];
      try {
        children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean);
      } catch {
        continue;
      }
      for (const child of children.map(Number)) {
        try {
          const cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8');
          if (cmdline) seenCommandLines.set(child, cmdline.split('\0').join(' '));
        } catch {
          // It exited between the two reads.
        }
        walk(child);
      }
    }
  };
  const timer = setInterval(() => walk(process.pid), 5);
  return () => clearInterval(timer);
}

function cli(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<CliRun> {
  const argv = [process.execPath, CLI, ...args];
  const child = spawn(argv[0] as string, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const record = { pid: child.pid ?? -1, argv, seen: [] as string[] };
  processes.push(record);
  child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** Each form a value could be written in. Strings are also decoded when they are Base32, Base64 or hex. */
function forms(value: string | Buffer): string[] {
  const out = new Set<string>();
  const addBytes = (bytes: Buffer): void => {
    if (bytes.length < 4) return;
    out.add(bytes.toString('latin1'));
    out.add(bytes.toString('hex'));
    out.add(bytes.toString('hex').toUpperCase());
    // Padding and the last, partial group depend on what follows: search the stable prefix.
    out.add(bytes.toString('base64').replace(/=+$/, '').slice(0, -2));
    out.add(bytes.toString('base64url').slice(0, -2));
    out.add(base32(bytes).slice(0, -2));
    out.add(base32(bytes, true).slice(0, -2));
  };
  if (typeof value === 'string') {
    out.add(value);
    addBytes(Buffer.from(value, 'utf8'));
    if (/^[A-Z2-7]+=*$/.test(value) && value.length >= 16) addBytes(base32Decode(value));
    if (/^[A-Za-z0-9+/_-]+=*$/.test(value) && value.length >= 16) addBytes(Buffer.from(value, 'base64'));
    if (/^[0-9a-fA-F]+$/.test(value) && value.length % 2 === 0 && value.length >= 16) addBytes(Buffer.from(value, 'hex'));
  } else {
    addBytes(value);
  }
  return [...out].filter((form) => form.length >= 6);
}

function base32Decode(text: string): Buffer {
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text.replace(/=+$/, '')) {
    value = (value << 5) | 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** The string leaves of a keychain value: JSON entries hold several secrets (Twilio's, an SMS factor's). */
function leaves(value: string): string[] {
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object') return Object.values(parsed as Record<string, unknown>).filter((v): v is string => typeof v === 'string');
  } catch {
    // Not JSON: the value is the secret.
  }
  return [value];
}

describe('no secret at rest or in a message (issue 13)', () => {
  it('after the whole story, no secret, code, key or raw token is in the database, a message, an audit row or a command line', async () => {
    const stopWatching = watchDescendants();
    const port = await freePort();
    const twilio = { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex'), sender: SENDER };
    standIn = await startTwilioStandIn({ accountSid: twilio.accountSid, authToken: twilio.authToken });
    const env = {
      CUSTODIAN_GATEWAY_PORT: String(port),
      CUSTODIAN_SMS_TWILIO_BASE_URL: standIn.baseUrl,
      MFA_METHODS: 'totp,sms,push',
      // The shell children run on real time, the desk a few time steps ahead of it.
      CUSTODIAN_MFA_WINDOW_STEPS: '2',
      CUSTODIAN_APPROVALS_TIMEOUT_SECONDS: '3600',
    };
    t = tempCustodian({ env, clock: 'following' });
    const desk = t;
    const c = desk.custodian;
    const shell = { ...env, CUSTODIAN_DATA_DIR: desk.dir, CUSTODIAN_KEYCHAIN_SERVICE: desk.config.keychain.service };
    await c.start();
    await new TwilioCredentialsStore(c.secrets).write(twilio);

    // What the run says to anyone: each IPC answer that is an error, each HTTP error body, each
    // line the CLI prints (its stdout too, minus the one-time displays named where they happen).
    const messages: string[] = [];
    const codes: string[] = [];
    const rawTokens: string[] = [];
    const router = createAppRouter(c, 'chromium-host', (url) => url.origin === 'http://127.0.0.1:5555');
    const call = async (channel: string, payload: unknown = {}): Promise<{ ok: boolean; data?: unknown }> => {
      const answer = (await router.handle(channel, payload, APP)) as { ok: boolean; data?: unknown };
      if (!answer.ok) messages.push(JSON.stringify(answer));
      return answer;
    };
    const must = async <T,>(channel: string, payload: unknown = {}): Promise<T> => {
      const answer = await call(channel, payload);
      if (!answer.ok) throw new Error(`${channel}: ${JSON.stringify(answer)}`);
      return answer.data as T;
    };
    const gateway = async (answer: Promise<HttpAnswer>): Promise<HttpAnswer> => {
      const a = await answer;
      if (a.status >= 400) messages.push(a.text);
      return a;
    };
    const shellRun = async (args: string[], input = '', oneTimeStdout = false, extra: NodeJS.ProcessEnv = {}): Promise<CliRun> => {
      const run = await cli(args, { ...shell, ...extra }, input);
      messages.push(run.stderr);
      if (!oneTimeStdout) messages.push(run.stdout);
      return run;
    };

    // The profile and a TOTP factor, through the window's channels; its secret revealed once.
    await must('profile:init', { displayName: 'Alice', principal: 'alice@corp', role: 'security-admin' });
    const totpFactor = (await must<{ factor: { id: string } }>('factors:enroll', { label: 'Phone' })).factor.id;
    const totpSecret = (await must<{ secret: string }>('factors:reveal-secret', { factorId: totpFactor })).secret;
    const code = (): string => {
      const value = totp(totpSecret, desk.clock.now());
      codes.push(value);
      return value;
    };
    await call('factors:confirm', { factorId: totpFactor, code: '000000' === code() ? '111111' : '000000' });
    const confirmed = await must<{ backupCodes: string[] | null }>('factors:confirm', { factorId: totpFactor, code: code() });
    const backupCodes = confirmed.backupCodes ?? [];
    expect(backupCodes).toHaveLength(10);

    /** A critical chain for `purpose`, each TOTP step a code of a fresh time step. */
    const manage = async (purpose: string): Promise<void> => {
      desk.clock.advanceSeconds(30);
      let view = await must<ChainAttemptView>('chain:start', { purpose, sensitivity: 'critical' });
      while (view.status === 'open') {
        const step = view.steps[view.position];
        view = await must<ChainAttemptView>('chain:verify-step', { attemptId: view.attemptId, factorId: step?.id, code: code() });
      }
    };

    // An SMS factor: the confirming code through the Twilio stand-in.
    await manage('factors:enroll');
    const sms = await must<{ factor: { id: string } }>('factors:enroll', { type: 'sms', label: 'Work phone', phone: PHONE });
    const smsCode = standIn.lastCode() ?? '';
    codes.push(smsCode);
    await call('factors:confirm', { factorId: sms.factor.id, code: smsCode === '123456' ? '654321' : '123456' });
    await must('factors:confirm', { factorId: sms.factor.id, code: smsCode });

    // A push factor: its first push answered in the window.
    await manage('factors:enroll');
    // Through the service: the window's enroll answer leaves the number out until its push flow lands.
    const push = await c.mfa.startEnrollment({ type: 'push', label: 'This desk' }, { source: 'desktop' });
    const pushNumbers = [push.push?.number ?? 0];
    const [enrollPrompt] = (await must<{ prompts: { id: string }[] }>('push:pending')).prompts;
    await must('push:answer', { id: enrollPrompt?.id, number: pushNumbers[0] });
    await must('factors:confirm', { factorId: push.factor.id, code: String(pushNumbers[0]) });

    // An integration from the shell: its key is printed once, on stdout, by design.
    const added = await shellRun(['integrations', 'add', 'restic-nightly', '--json'], '', true);
    expect(added.status).toBe(0);
    const apiKey = (JSON.parse(added.stdout) as { key: string }).key;
    await gateway(http({ port, path: '/v1/restore-requests', key: `${apiKey.slice(0, -4)}AAAA`, body: validRequest }));

    // A restore request over real HTTP, approved after a chain of all three factors: the high
    // policy asks for three steps (more steps weaken nothing, so no grant), drawn at random.
    const policies = await must<{ policies: { sensitivity: string }[] }>('policies:list');
    const high = policies.policies.find((p) => p.sensitivity === 'high');
    await must('policies:save', { policy: { ...high, requiredSteps: 3 } });
    const created = (await gateway(http({ port, path: '/v1/restore-requests', key: apiKey, body: validRequest }))).json as { id: string; matchCode: number };
    desk.clock.advanceSeconds(30);
    let view = await must<ChainAttemptView>('chain:start', { purpose: approvePurpose(created.id), sensitivity: 'high' });
    // A malformed code first: refused, and the chain starts over.
    await call('chain:verify-step', { attemptId: view.attemptId, factorId: view.steps[0]?.id, code: '12345' });
    view = await must<ChainAttemptView>('chain:get', { attemptId: view.attemptId });
    const kinds: string[] = [];
    while (view.status === 'open') {
      const step = view.steps[view.position];
      const challenge = await must<{ kind: string; number?: number }>('chain:challenge', { attemptId: view.attemptId });
      kinds.push(step?.type ?? '');
      let answer: string;
      if (step?.type === 'sms') {
        answer = standIn.lastCode() ?? '';
        codes.push(answer);
      } else if (step?.type === 'push') {
        pushNumbers.push(challenge.number ?? 0);
        const [prompt] = (await must<{ prompts: { id: string }[] }>('push:pending')).prompts;
        await must('push:answer', { id: prompt?.id, number: challenge.number });
        answer = String(challenge.number);
      } else {
        answer = code();
      }
      view = await must<ChainAttemptView>('chain:verify-step', { attemptId: view.attemptId, factorId: step?.id, code: answer });
    }
    expect(view.status).toBe('completed');
    expect(kinds.sort()).toEqual(['push', 'sms', 'totp']);
    await must('approvals:approve', { requestId: created.id, matchCode: String(created.matchCode) });

    // The token, collected by the requester's first read (once, by design), redeemed from the shell.
    const collected = (await gateway(http({ port, path: `/v1/restore-requests/${created.id}?waitSeconds=0`, key: apiKey }))).json as { token: string };
    rawTokens.push(collected.token);
    expect(collected.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The key reaches the shell through CUSTODIAN_API_KEY, never an argument (DESIGN.md).
    const withKey = { CUSTODIAN_API_KEY: apiKey };
    const redeemed = await shellRun(['redeem', '--requester', validRequest.requester], `${collected.token}\n`, false, withKey);
    expect(redeemed.status, redeemed.stderr).toBe(0);
    expect((await shellRun(['redeem', '--requester', validRequest.requester], `${collected.token}\n`, false, withKey)).status).toBe(3);

    // More shell: a request left pending, a backup code and a wrong code, the lists, the audit.
    const left = await shellRun(['request', '--backup', 'snap-9', '--target', '/srv/x', '--reason', 'drill', '--requester', 'backup@db1', '--no-wait', '--json'], '', false, withKey);
    expect(left.status, left.stderr).toBe(0);
    const backupUsed = await shellRun(['verify'], `${backupCodes[0]}\n`);
    expect(backupUsed.status, backupUsed.stderr).toBe(0);
    expect((await shellRun(['verify'], '000000\n')).status).toBe(1);
    for (const args of [['factors', 'list'], ['requests', 'list'], ['audit', 'verify'], ['doctor']]) await shellRun(args);
    const exported = await shellRun(['audit', 'export']);
    expect(exported.status).toBe(0);

    // Every keychain entry of this data directory, read back: what the story stored there.
    const entries = await keytar.findCredentials(desk.config.keychain.service);
    const accounts = entries.map((e) => e.account);
    const anchor = accounts.filter((a) => a.startsWith('audit:head'));
    // The audit anchor holds the head's row id and hash, which the audit table holds by design:
    // it is a checkpoint, not a secret. Everything else in the keychain is.
    const keychainSecrets = entries.filter((e) => !e.account.startsWith('audit:head')).flatMap((e) => leaves(e.password));
    expect(anchor).toHaveLength(1);
    expect(accounts).toEqual(expect.arrayContaining([expect.stringMatching(/:backup-key$/), expect.stringMatching(new RegExp(`:${totpFactor}$`)), expect.stringMatching(new RegExp(`:${sms.factor.id}$`)), expect.stringMatching(new RegExp(`:${push.factor.id}$`)), 'sms:twilio-credentials']));
    expect(keychainSecrets).toEqual(expect.arrayContaining([totpSecret, twilio.authToken, PHONE]));

    const keyPart = apiKey.split('_').pop() ?? '';
    const instanceSecret = new GatewayInstanceRepository(c.db).secret();
    const long: [string, string][] = [
      ...entries.filter((e) => !e.account.startsWith('audit:head')).flatMap((e) => leaves(e.password).map((v): [string, string] => [`keychain ${e.account}`, v])),
      ...backupCodes.map((v, i): [string, string] => [`backup code ${i + 1}`, v]),
      ['the integration key', apiKey],
      ['the integration key’s secret part', keyPart],
      ...rawTokens.map((v): [string, string] => ['the restore token', v]),
    ];

    // The files, read while the desk still has them open (the WAL goes on close).
    const files = readdirSync(desk.dir)
      .map((name) => join(desk.dir, name))
      .filter((path) => statSync(path).isFile());
    expect(files).toEqual(expect.arrayContaining([desk.dbFile, `${desk.dbFile}-wal`, `${desk.dbFile}-shm`]));
    const fileText = new Map(files.map((path) => [path, readFileSync(path).toString('latin1')]));
    const auditRows = JSON.stringify(c.db.prepare('SELECT * FROM audit_log').all()) + exported.stdout;
    stopWatching();

    const commandLines = [...processes.map((p) => p.argv.join(' ')), ...seenCommandLines.values()];
    // The watch saw every shell child while it ran: the command lines searched are the real ones.
    for (const p of processes) expect(seenCommandLines.has(p.pid), p.argv.join(' ')).toBe(true);

    const hits: string[] = [];
    const search = (secret: string | Buffer, where: Map<string, string>, label: string): void => {
      for (const form of forms(secret)) {
        for (const [place, text] of where) if (text.includes(form)) hits.push(`${label} in ${place}`);
      }
    };
    const textPlaces = new Map<string, string>([
      ['messages', messages.join('\n')],
      ['audit rows', auditRows],
      ['command lines', commandLines.join('\n')],
    ]);
    for (const [label, secret] of long) {
      search(secret, fileText, label);
      search(secret, textPlaces, label);
    }
    // The gateway's instance secret exists to prove "this process can read the database"
    // (migration 004): it lives in the database by design, and nowhere else may it appear.
    search(instanceSecret, textPlaces, 'the gateway instance secret');
    const databaseBytes = `${fileText.get(desk.dbFile) ?? ''}${fileText.get(`${desk.dbFile}-wal`) ?? ''}`;
    expect(databaseBytes.includes(instanceSecret.toString('latin1'))).toBe(true);

    // Short values: a 6-digit code turns up by chance in megabytes of binary pages, and a
    // 2-digit push number in any count or timeout, so they are searched only where a match means
    // a leak. 6-digit codes (TOTP, SMS): in messages, audit rows and command lines, as a whole
    // number. Push numbers are shown by design (the window shows all three candidates; the
    // database keeps the three and only the right one's HMAC), so the leak would be the audit
    // rows of a push (its own events, and the chain steps it passed, which say "never its
    // number") naming it as a value, or an argument that is the number.
    for (const c6 of new Set(codes)) {
      for (const [place, text] of textPlaces) if (new RegExp(`(?<![0-9])${c6}(?![0-9])`).test(text)) hits.push(`code ${c6} in ${place}`);
    }
    const pushRows = (c.db.prepare("SELECT content FROM audit_log WHERE event LIKE 'mfa_push%' OR content LIKE '%\"method\":\"push\"%'").pluck().all() as string[]);
    expect(pushRows.length).toBeGreaterThanOrEqual(pushNumbers.length);
    for (const n of pushNumbers) {
      for (const row of pushRows) if (new RegExp(`:\\s*"?${n}"?\\s*[,}\\]]`).test(row)) hits.push(`push number ${n} in ${row}`);
      if (processes.some((p) => p.argv.includes(String(n)))) hits.push(`push number ${n} as an argument`);
    }

    // The search can find: the instance secret's raw form is in the database (file or WAL), and
    // a code the run printed on purpose (the integration key, shown once) is found on stdout.
    expect(forms(instanceSecret).some((form) => databaseBytes.includes(form))).toBe(true);
    expect(forms(apiKey).some((form) => added.stdout.includes(form))).toBe(true);
    expect(hits).toEqual([]);
  }, 180_000);
});
