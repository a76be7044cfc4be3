import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { approvePurpose } from '../../src-shared/domain/approval';
import { BACKUP_STEP } from '../../src-shared/domain/policy';
import type { AppError } from '../../src-shared/errors';
import type { MfaContext } from '../../src-main/services/mfa/mfa.service';
import { freePort } from '../fixtures/gateway-client';
import { oathtool } from '../fixtures/otp';
import { spawnCli } from '../fixtures/run-cli';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';

// Issue 11 "From a shell": `custodian approve ID` runs the same pipeline as the window, in a
// process of its own, against the database a Custodian in this process serves the gateway from.
// Both run on the real clock (a following clock here), so codes and expiries agree.
const DESKTOP: MfaContext = { source: 'desktop' };

let t: TempCustodian;
let env: NodeJS.ProcessEnv;
let key: string;
let phone: { id: string; secret: string };
let backupCodes: string[];
/** When the enrollment used its code: later codes must come from later time steps. */
let enrolledAt: number;

beforeEach(async () => {
  const port = await freePort();
  const settings = { CUSTODIAN_GATEWAY_PORT: String(port), CUSTODIAN_MFA_WINDOW_STEPS: '2', CUSTODIAN_APPROVALS_TIMEOUT_SECONDS: '600' };
  t = tempCustodian({ clock: 'following', env: settings });
  env = { ...settings, CUSTODIAN_DATA_DIR: t.dir, CUSTODIAN_KEYCHAIN_SERVICE: t.config.keychain.service };
  await t.custodian.start();
  key = t.custodian.integrations.add('restic-nightly', 'alice@corp').key;
  const { mfa } = t.custodian;
  mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role: 'security-admin' }, DESKTOP);
  const enrollment = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP);
  phone = { id: enrollment.factor.id, secret: await mfa.revealSecret(enrollment.factor.id, DESKTOP) };
  enrolledAt = t.clock.now();
  backupCodes = (await mfa.confirmEnrollment(phone.id, oathtool(phone.secret, enrolledAt), DESKTOP)).backupCodes ?? [];
});
afterEach(async () => {
  await t.remove();
});

/** A phone code of the time step after the enrollment's: within the window of two steps. */
function nextCode(): string {
  return oathtool(phone.secret, enrolledAt + 30_000);
}

/** `custodian request` in its own process, waiting; resolves with its id and match code once printed. */
async function requestFromShell(extra: string[] = []) {
  const run = spawnCli(
    ['request', '--backup', 'snap-7', '--target', '/srv/restore/db', '--reason', 'restore drill', '--sensitivity', 'medium', '--requester', 'backup@db1', ...extra],
    { ...env, CUSTODIAN_API_KEY: key },
  );
  for (;;) {
    const match = /restore request (req_\S+) is waiting[\s\S]*match code (\d{2})/.exec(run.stderrSoFar());
    if (match) return { run, id: match[1] ?? '', matchCode: match[2] ?? '' };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function auditEvents(): string[] {
  return [...t.custodian.audit.export()].map((e) => e.event);
}

describe('custodian approve ID', () => {
  it('shows the request, runs the chain, takes the number, approves; the requester prints the token, which redeems once', async () => {
    const { run, id, matchCode } = await requestFromShell();
    const approve = await spawnCli(['approve', id], { ...env, RESTORE_ACCESS_TOKEN_TTL_SECONDS: '300' }, `${nextCode()}\n${matchCode}\n`).done;
    expect(approve.stderr).toBe('');
    expect(approve.stdout).toContain(`restore request ${id} from integration restic-nightly`);
    expect(approve.stdout).toContain('requester:   backup@db1 (as the tool says; not verified)');
    expect(approve.stdout).toMatch(/role-ceiling +pass/);
    expect(approve.stdout).toContain('chain completed: 1 of 1 steps passed');
    // The TTL is the approving process's setting at the moment it issued the token.
    expect(approve.stdout).toMatch(new RegExp(`approved ${id}: token tok_\\S+ for backup@db1, valid 300 s until `));
    expect(approve.status).toBe(0);

    const requested = await run.done;
    expect(requested.status).toBe(0);
    const token = requested.stdout.trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Not in the approver's output, nor in the log.
    expect(approve.stdout).not.toContain(token);
    expect(JSON.stringify([...t.custodian.audit.export()])).not.toContain(token);

    const redeemEnv = { ...env, CUSTODIAN_API_KEY: key };
    const first = await spawnCli(['redeem', '--requester', 'backup@db1'], redeemEnv, `${token}\n`).done;
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ backupId: 'snap-7', target: '/srv/restore/db', expiresAt: t.custodian.tokens.view(id)?.expiresAt });
    const again = await spawnCli(['redeem', '--requester', 'backup@db1'], redeemEnv, `${token}\n`).done;
    expect(again.status).toBe(3);
    expect(again.stderr).toContain('The restore token is not valid.');
    expect(auditEvents()).toEqual(expect.arrayContaining(['restore_request_approved', 'restore_token_delivered', 'restore_token_redeemed', 'restore_token_redeem_denied']));
  });

  it('a wrong number: exit 1, ERR-RESTORE-MATCH-MISMATCH in words, the verification spent and the request still pending', async () => {
    const { run, id, matchCode } = await requestFromShell(['--no-wait']);
    expect((await run.done).status).toBe(0);
    const wrong = matchCode === '42' ? '43' : '42';
    const approve = await spawnCli(['approve', id], env, `${nextCode()}\n${wrong}\n`).done;
    expect(approve.status).toBe(1);
    expect(approve.stderr).toContain('The number does not match the one the requester shows.');
    expect(approve.stderr).toContain('the verification is spent');
    expect(t.custodian.requests.get(id).status).toBe('pending');
    expect(t.custodian.chain.consumeGrant(approvePurpose(id), 'medium')).toBe(false);
    expect(t.custodian.db.prepare('SELECT failures FROM mfa_attempts').get()).toEqual({ failures: 1 });
  });

  it('stops before any chain when the policy would refuse, and refuses a malformed id as a usage error', async () => {
    const { run, id } = await requestFromShell(['--no-wait', '--requester', 'alice@corp']);
    expect((await run.done).status).toBe(0);
    const approve = await spawnCli(['approve', id], env, '').done;
    expect(approve.status).toBe(1);
    expect(approve.stdout).toMatch(/self-approval +fail/);
    expect(approve.stderr).toContain('the policy refuses this approval (self-approval); nothing was asked for');
    expect(auditEvents()).not.toContain('mfa_chain_started');
    expect((await spawnCli(['approve', 'not-a-request'], env, '').done).status).toBe(2);
  });

  it('two approvers racing, the window here and a shell, yield one approval and one token', async () => {
    const { run, id, matchCode } = await requestFromShell(['--no-wait']);
    expect((await run.done).status).toBe(0);
    // The window's chain: a backup code stands in for the phone, whose next code the shell uses.
    const attempt = t.custodian.chain.start(approvePurpose(id), 'medium', DESKTOP);
    await t.custodian.chain.verifyStep(attempt.attemptId, BACKUP_STEP, backupCodes[0] ?? '', DESKTOP);
    const shell = spawnCli(['approve', id], env, `${nextCode()}\n${matchCode}\n`);
    // Approve here the moment the shell's chain is through, so both decide at once.
    let mine: 'approved' | AppError;
    for (;;) {
      if (auditEvents().filter((e) => e === 'mfa_chain_completed').length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    try {
      mine = t.custodian.approvals.approve(id, matchCode, { source: 'desktop' }).request.status === 'approved' ? 'approved' : (undefined as never);
    } catch (error) {
      mine = error as AppError;
    }
    const theirs = await shell.done;
    const wins = [mine === 'approved', theirs.status === 0].filter(Boolean);
    expect(wins).toHaveLength(1);
    if (mine !== 'approved') expect(mine.code).toBe('ERR-RESTORE-ALREADY-DECIDED');
    else expect(theirs.stderr).toContain('already been decided');
    expect(t.custodian.db.prepare('SELECT COUNT(*) AS n FROM restore_tokens').get()).toEqual({ n: 1 });
    expect(auditEvents().filter((e) => e === 'restore_request_approved')).toHaveLength(1);
    const verdict = await t.custodian.audit.verify();
    expect(verdict, JSON.stringify(verdict)).toMatchObject({ ok: true });
  });
});
