import { readFileSync, existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { approvePurpose } from '../../src-shared/domain/approval';
import type { Role } from '../../src-shared/domain/mfa';
import type { Sensitivity } from '../../src-shared/domain/restore-request';
import { ERRORS, type ErrorCode } from '../../src-shared/errors';
import { RestoreRequestsRepository } from '../../src-main/platform/db/repositories/restore-requests.repository';
import { ProfilesRepository } from '../../src-main/platform/db/repositories/profiles.repository';
import { RestoreTokensRepository } from '../../src-main/platform/db/repositories/restore-tokens.repository';
import { ApprovalService, type ApprovalContext } from '../../src-main/services/restore/approval.service';
import { hashOf, TOKEN_KEEP_AFTER_EXPIRY_MS } from '../../src-main/services/tokens/restore-tokens.service';
import type { MfaContext } from '../../src-main/services/mfa/mfa.service';
import { createHandlers } from '../../src-main/ipc/handlers';
import { createIpcRouter } from '../../src-main/ipc/ipc-router';
import { failsWith } from '../fixtures/fails-with';
import { freePort, http, validRequest, type HttpAnswer } from '../fixtures/gateway-client';
import { oathtool } from '../fixtures/otp';
import { tempCustodian, type TempCustodian } from '../fixtures/temp-custodian';
import { MANAGE } from '../../src-shared/domain/policy';
import { stepUp } from '../fixtures/step-up';

// Issue 11: the approval pipeline (authentication, step-up, policy, token) and the restore
// tokens, through the real composition root, a real SQLite file, the keychain and the gateway.
const DESKTOP: MfaContext = { source: 'desktop' };
const APPROVE: ApprovalContext = { source: 'desktop' };

let t: TempCustodian;
let port: number;
let key: string;
let secrets: Map<string, string>;

function expectError(answer: HttpAnswer, code: ErrorCode): void {
  expect(answer.status, answer.text).toBe(ERRORS[code].status);
  expect(answer.json).toEqual({ error: { code, message: expect.any(String) } });
}

/** A profile with two active factors, enrolled as the window does it. */
async function approver(role: Role = 'security-admin'): Promise<void> {
  const { mfa } = t.custodian;
  mfa.initProfile({ displayName: 'Alice', principal: 'alice@corp', role }, DESKTOP);
  secrets = new Map();
  const phone = await mfa.startEnrollment({ label: 'Phone', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP);
  secrets.set(phone.factor.id, await mfa.revealSecret(phone.factor.id, DESKTOP));
  await mfa.confirmEnrollment(phone.factor.id, code(phone.factor.id), DESKTOP);
  t.clock.advanceSeconds(30);
  await stepUp(t.custodian, MANAGE.enroll, (id) => code(id));
  const second = await mfa.startEnrollment({ label: 'Token', digits: 6, period: 30, algorithm: 'SHA1' }, DESKTOP);
  secrets.set(second.factor.id, await mfa.revealSecret(second.factor.id, DESKTOP));
  await mfa.confirmEnrollment(second.factor.id, code(second.factor.id), DESKTOP);
  t.clock.advanceSeconds(30);
}

function code(factorId: string): string {
  return oathtool(secrets.get(factorId) ?? '', t.clock.now());
}

/** A chain for `approve:<id>` passed step by step; the clock then moves on a time step. */
async function passChain(id: string, sensitivity: Sensitivity): Promise<void> {
  let view = t.custodian.chain.start(approvePurpose(id), sensitivity, DESKTOP);
  while (view.status === 'open') {
    const step = view.steps[view.position];
    if (!step) throw new Error('no current step');
    view = await t.custodian.chain.verifyStep(view.attemptId, step.id, code(step.id), DESKTOP);
  }
  expect(view.status).toBe('completed');
  t.clock.advanceSeconds(30);
}

async function request(body: Record<string, unknown> = {}, k = key): Promise<{ id: string; matchCode: string }> {
  const answer = await http({ port, path: '/v1/restore-requests', key: k, body: { ...validRequest, sensitivity: 'medium', ...body } });
  expect(answer.status, answer.text).toBe(202);
  const created = answer.json as { id: string; matchCode: number };
  return { id: created.id, matchCode: String(created.matchCode) };
}

function wrong(matchCode: string): string {
  return matchCode === '42' ? '43' : '42';
}

function status(id: string, waitSeconds = 0, k = key): Promise<HttpAnswer> {
  return http({ port, path: `/v1/restore-requests/${id}?waitSeconds=${waitSeconds}`, key: k });
}

function redeem(token: string, requester = validRequest.requester, k = key): Promise<HttpAnswer> {
  return http({ port, path: '/v1/restore-tokens/redeem', key: k, body: { token, requester } });
}

function events(): string[] {
  return [...t.custodian.audit.export()].map((e) => e.event);
}

function lastRow(event: string): Record<string, unknown> {
  const rows = [...t.custodian.audit.export()].filter((e) => e.event === event);
  return rows[rows.length - 1]?.data ?? {};
}

function tokenRows(): number {
  return (t.custodian.db.prepare('SELECT COUNT(*) AS n FROM restore_tokens').get() as { n: number }).n;
}

/** Approves `id` through the whole pipeline and collects the token on the first status read. */
async function approvedToken(id: string, matchCode: string): Promise<string> {
  await passChain(id, 'medium');
  t.custodian.approvals.approve(id, matchCode, APPROVE);
  const first = (await status(id)).json as { token?: string };
  expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return first.token ?? '';
}

beforeEach(async () => {
  port = await freePort();
  // Long-lived requests: the chains here move the clock on a time step each.
  t = tempCustodian({ env: { CUSTODIAN_GATEWAY_PORT: String(port), CUSTODIAN_APPROVALS_TIMEOUT_SECONDS: '3600' } });
  await t.custodian.start();
  key = t.custodian.integrations.add('restic-nightly', 'alice@corp').key;
});
afterEach(async () => {
  await t.remove();
});

describe('approving a request', () => {
  it('after the chain and the right number: approves, issues a bound token, audits every gate in one story', async () => {
    await approver();
    const { id, matchCode } = await request();
    await passChain(id, 'medium');
    const before = events().length;
    const approved = t.custodian.approvals.approve(id, matchCode, APPROVE);
    expect(approved.request).toMatchObject({ id, status: 'approved', decidedBy: 'alice@corp' });
    expect(approved.token).toMatchObject({
      requestId: id,
      requester: validRequest.requester,
      backupId: validRequest.backupId,
      target: validRequest.target,
      state: 'issued',
      ttlSeconds: 900,
      expiresAt: new Date(t.clock.now() + 900_000).toISOString(),
    });
    expect(events().slice(before)).toEqual([
      'mfa_step_up_used',
      'restore_approval_mfa_passed',
      'restore_approval_policy_allowed',
      'restore_request_approved',
      'restore_token_issued',
    ]);
    expect(lastRow('restore_approval_policy_allowed')).toMatchObject({ ceiling: 'critical', rules: 'expiry,self-approval,role-ceiling,backup-classification,incident-mode' });
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: true });
  });

  it('previews the four checks with their state before any chain, and says which sensitivity the chain runs at', async () => {
    await approver('operator');
    const high = await request({ sensitivity: 'high' });
    expect(t.custodian.approvals.preview(high.id)).toEqual({
      requestId: high.id,
      sensitivity: 'high',
      ceiling: 'medium',
      checks: [
        { rule: 'role-ceiling', state: 'fail' },
        { rule: 'self-approval', state: 'pass' },
        { rule: 'incident-mode', state: 'pass' },
        { rule: 'expiry', state: 'pass' },
      ],
    });
    const mine = await request({ requester: 'Alice@Corp' });
    expect(t.custodian.approvals.preview(mine.id).checks.find((c) => c.rule === 'self-approval')?.state).toBe('fail');
    t.clock.advanceSeconds(3600);
    expect(t.custodian.approvals.preview(mine.id).checks.find((c) => c.rule === 'expiry')?.state).toBe('fail');
    // The preview changes nothing and spends nothing.
    expect(events()).not.toContain('restore_approval_denied');
  });

  it('takes the TTL setting at issue time: a change applies to the next token, not the one before', async () => {
    await approver();
    const first = await request();
    await passChain(first.id, 'medium');
    const a = t.custodian.approvals.approve(first.id, first.matchCode, APPROVE).token;
    // The stored setting, as the Settings screen or `custodian settings token-ttl` changes it
    // (shorter: no step-up), from another Custodian on the same data directory.
    const other = tempCustodian({ dir: t.dir });
    try {
      other.custodian.settings.setTokenTtl(120, { actor: 'bob@corp', source: 'cli' });
    } finally {
      await other.close();
    }
    const second = await request({ backupId: 'snap-2' });
    await passChain(second.id, 'medium');
    const b = t.custodian.approvals.approve(second.id, second.matchCode, APPROVE).token;
    expect(a.ttlSeconds).toBe(900);
    expect(b.ttlSeconds).toBe(120);
    expect(Date.parse(b.expiresAt) - Date.parse(b.issuedAt)).toBe(120_000);
    expect(t.custodian.tokens.view(first.id)?.ttlSeconds).toBe(900);
  });

  it('answers a request decided already with ERR-RESTORE-ALREADY-DECIDED, spending nothing', async () => {
    await approver();
    const { id, matchCode } = await request();
    await passChain(id, 'medium');
    t.custodian.approvals.approve(id, matchCode, APPROVE);
    await passChain(id, 'medium');
    await failsWith(() => t.custodian.approvals.approve(id, matchCode, APPROVE), 'ERR-RESTORE-ALREADY-DECIDED');
    // The second chain's grant is still there: the refusal rolled back whole.
    expect(t.custodian.chain.consumeGrant(approvePurpose(id), 'medium')).toBe(true);
    expect(tokenRows()).toBe(1);
  });
});

describe('the gates, in order', () => {
  it('without a grant answers ERR-MFA-REQUIRED, even for a backup with unknown metadata and a wrong number', async () => {
    await approver();
    const { id, matchCode } = await request({ context: { classification: 'top-secret-ish' } });
    await failsWith(() => t.custodian.approvals.approve(id, wrong(matchCode), APPROVE), 'ERR-MFA-REQUIRED');
    expect(lastRow('restore_approval_denied')).toMatchObject({ gate: 'mfa', rule: 'mfa-required', errorCode: 'ERR-MFA-REQUIRED' });
    // A wrong number without a grant was never looked at: no attempt is counted.
    expect(t.custodian.db.prepare('SELECT COUNT(*) AS n FROM mfa_attempts').get()).toEqual({ n: 0 });
    expect(t.custodian.requests.get(id).status).toBe('pending');
    expect(tokenRows()).toBe(0);
  });

  it('a grant for another request or a lower sensitivity is no grant', async () => {
    await approver();
    const { id, matchCode } = await request({ sensitivity: 'critical' });
    const other = await request({ backupId: 'snap-other' });
    await passChain(other.id, 'critical');
    await failsWith(() => t.custodian.approvals.approve(id, matchCode, APPROVE), 'ERR-MFA-REQUIRED');
    await passChain(id, 'high');
    await failsWith(() => t.custodian.approvals.approve(id, matchCode, APPROVE), 'ERR-MFA-REQUIRED');
  });

  it('authentication first: a locked desk is ERR-LOCKED and the grant stays unspent', async () => {
    await approver();
    const { id, matchCode } = await request();
    await passChain(id, 'medium');
    t.custodian.lock.lock('manual');
    await failsWith(() => t.custodian.approvals.approve(id, matchCode, APPROVE), 'ERR-LOCKED');
    expect(lastRow('restore_approval_denied')).toMatchObject({ gate: 'authentication', rule: 'locked' });
    // A shell has no desk to lock: the same grant pays for the approval from there.
    expect(t.custodian.approvals.approve(id, matchCode, { source: 'cli' }).request.status).toBe('approved');
  });

  it('authentication first: a request whose integration was revoked is refused before the grant is looked at', async () => {
    await approver();
    const { id, matchCode } = await request();
    await passChain(id, 'medium');
    const integration = t.custodian.integrations.list()[0];
    t.custodian.integrations.revoke(integration?.id ?? '', 'alice@corp');
    await failsWith(() => t.custodian.approvals.approve(id, matchCode, APPROVE), 'ERR-AUTH-INVALID-KEY');
    expect(lastRow('restore_approval_denied')).toMatchObject({ gate: 'authentication', rule: 'integration-revoked' });
    expect(t.custodian.chain.consumeGrant(approvePurpose(id), 'medium')).toBe(true);
  });

  it('without a profile: ERR-PROFILE-REQUIRED', async () => {
    const { id } = await request();
    await failsWith(() => t.custodian.approvals.approve(id, '42', APPROVE), 'ERR-PROFILE-REQUIRED');
    await failsWith(() => t.custodian.approvals.preview(id), 'ERR-PROFILE-REQUIRED');
  });

  it('an unknown request id: ERR-NOT-FOUND, nothing written', async () => {
    await approver();
    const rows = events().length;
    await failsWith(() => t.custodian.approvals.approve('req_nosuchrequest', '42', APPROVE), 'ERR-NOT-FOUND');
    expect(events()).toHaveLength(rows);
  });

  it('a wrong number: ERR-RESTORE-MATCH-MISMATCH, the grant burnt and a failed attempt counted', async () => {
    await approver();
    const { id, matchCode } = await request();
    await passChain(id, 'medium');
    await failsWith(() => t.custodian.approvals.approve(id, wrong(matchCode), APPROVE), 'ERR-RESTORE-MATCH-MISMATCH');
    expect(lastRow('restore_approval_denied')).toMatchObject({ gate: 'mfa', rule: 'match-mismatch', rateLimited: false });
    expect(t.custodian.db.prepare('SELECT failures FROM mfa_attempts').get()).toEqual({ failures: 1 });
    // Fail closed: the right number now needs a new chain.
    await failsWith(() => t.custodian.approvals.approve(id, matchCode, APPROVE), 'ERR-MFA-REQUIRED');
    await passChain(id, 'medium');
    expect(t.custodian.approvals.approve(id, ` ${matchCode} `, APPROVE).request.status).toBe('approved');
    // Neither number is in the log.
    const rows = JSON.stringify([...t.custodian.audit.export()].filter((e) => e.event.startsWith('restore_approval')));
    expect(rows).not.toMatch(/matchCode/);
  });

  it('a wrong number counts towards the profile’s rate limit: with four wrong codes after it, the budget of five is spent', async () => {
    await approver();
    const { id, matchCode } = await request();
    await passChain(id, 'medium');
    await failsWith(() => t.custodian.approvals.approve(id, wrong(matchCode), APPROVE), 'ERR-RESTORE-MATCH-MISMATCH');
    const attempt = t.custodian.chain.start(approvePurpose(id), 'medium', DESKTOP);
    const factorId = attempt.steps[0]?.id ?? '';
    for (let i = 0; i < 4; i += 1) await failsWith(t.custodian.chain.verifyStep(attempt.attemptId, factorId, '000000', DESKTOP), 'ERR-MFA-INVALID');
    await failsWith(t.custodian.chain.verifyStep(attempt.attemptId, factorId, code(factorId), DESKTOP), 'ERR-MFA-RATE-LIMITED');
  });

  describe('policy, after MFA, each deny with its rule; the request stays pending and nothing is issued', () => {
    async function deniedBy(code: ErrorCode, rule: string, run: () => unknown): Promise<void> {
      await failsWith(run, code);
      expect(lastRow('restore_approval_denied')).toMatchObject({ gate: 'policy', rule, errorCode: code });
      expect(tokenRows()).toBe(0);
    }

    it('expired: ERR-RESTORE-EXPIRED', async () => {
      await approver();
      // The chain moves the clock past this request's 20 s; the grant (2 min) is still good.
      t.config.approvals.timeoutSeconds = 20;
      const { id, matchCode } = await request();
      await passChain(id, 'medium');
      // Overdue but not swept yet: expired all the same.
      expect(t.custodian.requests.get(id).status).toBe('pending');
      await deniedBy('ERR-RESTORE-EXPIRED', 'expiry', () => t.custodian.approvals.approve(id, matchCode, APPROVE));
    });

    it('the approver is the requester: ERR-RESTORE-SELF-APPROVAL', async () => {
      await approver();
      const { id, matchCode } = await request({ requester: 'ALICE@corp' });
      await passChain(id, 'medium');
      await deniedBy('ERR-RESTORE-SELF-APPROVAL', 'self-approval', () => t.custodian.approvals.approve(id, matchCode, APPROVE));
      expect(t.custodian.requests.get(id).status).toBe('pending');
    });

    it('above the role’s ceiling: ERR-RESTORE-POLICY-DENIED (an admin at critical)', async () => {
      await approver('admin');
      const { id, matchCode } = await request({ sensitivity: 'critical' });
      await passChain(id, 'critical');
      await deniedBy('ERR-RESTORE-POLICY-DENIED', 'role-ceiling', () => t.custodian.approvals.approve(id, matchCode, APPROVE));
    });

    it('a backup classified above the request, or with an unknown classification: ERR-RESTORE-POLICY-DENIED', async () => {
      await approver();
      const above = await request({ context: { classification: 'critical' } });
      await passChain(above.id, 'medium');
      await deniedBy('ERR-RESTORE-POLICY-DENIED', 'backup-classification', () => t.custodian.approvals.approve(above.id, above.matchCode, APPROVE));
      const unknown = await request({ sensitivity: 'high', context: { classification: 'secret' }, backupId: 'snap-2' });
      await passChain(unknown.id, 'high');
      await deniedBy('ERR-RESTORE-POLICY-DENIED', 'backup-classification', () => t.custodian.approvals.approve(unknown.id, unknown.matchCode, APPROVE));
      // At or below the request's sensitivity, the classification allows it.
      const fine = await request({ sensitivity: 'high', context: { classification: 'Medium' }, backupId: 'snap-3' });
      await passChain(fine.id, 'high');
      expect(t.custodian.approvals.approve(fine.id, fine.matchCode, APPROVE).request.status).toBe('approved');
    });

    it('incident mode at high and above: ERR-RESTORE-INCIDENT-MODE; medium still passes', async () => {
      await approver();
      const c = t.custodian;
      const db = c.db;
      // The same pipeline with incident mode on (the switch is another part of issue 11).
      const approvals = new ApprovalService({
        requests: new RestoreRequestsRepository(db),
        decided: (id) => c.requests.decided(id),
        view: (id) => c.requests.get(id),
        tokens: c.tokens,
        integrations: c.integrations,
        profiles: new ProfilesRepository(db),
        lock: c.lock,
        grants: c.chain,
        attempts: { takeAttemptSlot: () => undefined },
        incident: { isOn: () => true },
        audit: c.audit,
        clock: t.clock,
        tokenTtlSeconds: () => 300,
      });
      const high = await request({ sensitivity: 'high' });
      expect(approvals.preview(high.id).checks.find((check) => check.rule === 'incident-mode')?.state).toBe('fail');
      await passChain(high.id, 'high');
      await deniedBy('ERR-RESTORE-INCIDENT-MODE', 'incident-mode', () => approvals.approve(high.id, high.matchCode, APPROVE));
      const medium = await request({ backupId: 'snap-m' });
      await passChain(medium.id, 'medium');
      expect(approvals.approve(medium.id, medium.matchCode, APPROVE).token.ttlSeconds).toBe(300);
    });
  });
});

describe('the restore token', () => {
  it('reaches the requester once, on the first status read after approval; later reads carry the metadata only', async () => {
    await approver();
    const { id, matchCode } = await request();
    await passChain(id, 'medium');
    const approved = t.custodian.approvals.approve(id, matchCode, APPROVE);
    const first = (await status(id)).json as Record<string, unknown>;
    expect(first).toEqual({ id, status: 'approved', expiresAt: approved.token.expiresAt, ttlSeconds: 900, decidedAt: expect.any(String), token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(Buffer.from(String(first.token), 'base64url')).toHaveLength(32);
    const again = (await status(id)).json as Record<string, unknown>;
    expect(again).toEqual({ id, status: 'approved', expiresAt: approved.token.expiresAt, ttlSeconds: 900, decidedAt: expect.any(String) });
    expect(t.custodian.tokens.view(id)?.state).toBe('delivered');
  });

  it('goes to exactly one of two requesters long-polling when the approval lands', async () => {
    await approver();
    const { id, matchCode } = await request();
    await passChain(id, 'medium');
    const polls = [status(id, 30), status(id, 30)];
    // Both are waiting before the decision.
    while (t.custodian.requests.waiting < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    t.custodian.approvals.approve(id, matchCode, APPROVE);
    const answers = (await Promise.all(polls)).map((a) => a.json as { status: string; token?: string });
    expect(answers.map((a) => a.status)).toEqual(['approved', 'approved']);
    expect(answers.filter((a) => a.token !== undefined)).toHaveLength(1);
  });

  it('is handed out and redeemed once by the SQL guards themselves, whatever a reader saw a moment before (another process)', async () => {
    await approver();
    const { id, matchCode } = await request();
    await passChain(id, 'medium');
    t.custodian.approvals.approve(id, matchCode, APPROVE);
    // Two readers that both saw the hash still NULL: only the first UPDATE lands.
    const repo = new RestoreTokensRepository(t.custodian.db);
    const now = t.clock.now();
    expect(repo.deliver(id, 'a'.repeat(64), now)).toBe(true);
    expect(repo.deliver(id, 'b'.repeat(64), now)).toBe(false);
    expect(((await status(id)).json as { token?: string }).token).toBeUndefined();
    const tokenId = t.custodian.tokens.view(id)?.id ?? '';
    expect(repo.redeem(tokenId, now)).toBe(true);
    expect(repo.redeem(tokenId, now)).toBe(false);
    expect(repo.revoke(tokenId, now, 'alice@corp')).toBe(false);
  });

  it('never sits in SQLite: the database and its WAL hold its hash, never the token', async () => {
    await approver();
    const { id, matchCode } = await request();
    const token = await approvedToken(id, matchCode);
    const files = [t.dbFile, `${t.dbFile}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1'));
    expect(files.join('')).toContain(hashOf(token));
    for (const text of files) expect(text).not.toContain(token);
    expect(JSON.stringify([...t.custodian.audit.export()])).not.toContain(token);
  });

  it('redeems once for its requester and integration, answering the approved backup and target', async () => {
    await approver();
    const { id, matchCode } = await request();
    const token = await approvedToken(id, matchCode);
    const other = t.custodian.integrations.add('other-tool', 'alice@corp').key;
    expectError(await redeem(token, 'mallory@db1'), 'ERR-RESTORE-TOKEN-INVALID');
    expectError(await redeem(token, validRequest.requester, other), 'ERR-RESTORE-TOKEN-INVALID');
    expectError(await redeem(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`), 'ERR-RESTORE-TOKEN-INVALID');
    const ok = await redeem(token);
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ backupId: validRequest.backupId, target: validRequest.target, expiresAt: t.custodian.tokens.view(id)?.expiresAt });
    expectError(await redeem(token), 'ERR-RESTORE-TOKEN-INVALID');
    expect(t.custodian.tokens.view(id)?.state).toBe('redeemed');
    const denied = [...t.custodian.audit.export()].filter((e) => e.event === 'restore_token_redeem_denied').map((e) => e.data.reason);
    expect(denied).toEqual(['other-requester', 'other-integration', 'unknown', 'redeemed']);
    expect(JSON.stringify([...t.custodian.audit.export()])).not.toContain(token);
  });

  it('concurrent redeems of one token: exactly one succeeds', async () => {
    await approver();
    const { id, matchCode } = await request();
    const token = await approvedToken(id, matchCode);
    const answers = await Promise.all(Array.from({ length: 8 }, () => redeem(token)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 200)) expectError(a, 'ERR-RESTORE-TOKEN-INVALID');
  });

  it('after its TTL: ERR-RESTORE-TOKEN-EXPIRED; then purged on the tick, the audit log keeping its story', async () => {
    await approver();
    const { id, matchCode } = await request();
    const token = await approvedToken(id, matchCode);
    t.clock.advanceSeconds(900);
    expectError(await redeem(token), 'ERR-RESTORE-TOKEN-EXPIRED');
    t.clock.advance(TOKEN_KEEP_AFTER_EXPIRY_MS);
    t.custodian.tick();
    expect(tokenRows()).toBe(0);
    expect(lastRow('restore_token_purged')).toEqual({ requestId: id, state: 'expired' });
    expect(events()).toEqual(expect.arrayContaining(['restore_token_issued', 'restore_token_delivered', 'restore_token_purged']));
    expectError(await redeem(token), 'ERR-RESTORE-TOKEN-INVALID');
    await expect(t.custodian.audit.verify()).resolves.toMatchObject({ ok: true });
  });

  it('tells the window each time it moves (collected, redeemed, revoked), so an approved card follows it', async () => {
    await approver();
    const heard: (string | null)[] = [];
    const off = t.custodian.requests.onChanged((change) => {
      if (change.kind === 'changed') heard.push(change.id);
    });
    try {
      const { id, matchCode } = await request();
      const token = await approvedToken(id, matchCode);
      heard.length = 0;
      expect((await redeem(token)).status).toBe(200);
      expect(heard).toEqual([id]);
      // A refused redeem changes nothing, and says nothing.
      expectError(await redeem(token), 'ERR-RESTORE-TOKEN-INVALID');
      expect(heard).toEqual([id]);

      const other = await request({ backupId: 'snap-2' });
      await passChain(other.id, 'medium');
      t.custodian.approvals.approve(other.id, other.matchCode, APPROVE);
      heard.length = 0;
      await status(other.id);
      expect(heard).toEqual([other.id]);
      t.custodian.tokens.revoke(other.id, 'alice@corp');
      expect(heard).toEqual([other.id, other.id]);
      // Revoking again is answered as it stands, with nothing to tell.
      t.custodian.tokens.revoke(other.id, 'alice@corp');
      expect(heard).toEqual([other.id, other.id]);
    } finally {
      off();
    }
  });

  it('an approver can revoke it until it is redeemed; a revoked token is neither handed out nor redeemed', async () => {
    await approver();
    const early = await request();
    await passChain(early.id, 'medium');
    t.custodian.approvals.approve(early.id, early.matchCode, APPROVE);
    expect(t.custodian.tokens.revoke(early.id, 'alice@corp').state).toBe('revoked');
    expect(((await status(early.id)).json as { token?: string }).token).toBeUndefined();

    const late = await request({ backupId: 'snap-2' });
    const token = await approvedToken(late.id, late.matchCode);
    t.custodian.tokens.revoke(late.id, 'alice@corp');
    expectError(await redeem(token), 'ERR-RESTORE-TOKEN-INVALID');

    const used = await request({ backupId: 'snap-3' });
    const usedToken = await approvedToken(used.id, used.matchCode);
    expect((await redeem(usedToken)).status).toBe(200);
    await failsWith(() => t.custodian.tokens.revoke(used.id, 'alice@corp'), 'ERR-RESTORE-TOKEN-INVALID');
    await failsWith(() => t.custodian.tokens.revoke('req_nosuchrequest', 'alice@corp'), 'ERR-NOT-FOUND');
  });
});

describe('approvals and tokens over IPC', () => {
  const APP = { url: 'http://127.0.0.1:5555/', isMainFrame: true };
  const router = () =>
    createIpcRouter({
      handlers: createHandlers(t.custodian, 'chromium-host'),
      isTrustedUrl: (url) => url.origin === 'http://127.0.0.1:5555',
      language: () => t.custodian.settings.get().language,
    });

  it('previews, refuses a malformed number before any service runs, approves, shows and revokes the token, never the token itself', async () => {
    await approver();
    const ipc = router();
    const { id, matchCode } = await request();
    expect(await ipc.handle('approvals:preview', { requestId: id }, APP)).toMatchObject({ ok: true, data: { sensitivity: 'medium', ceiling: 'critical' } });
    await passChain(id, 'medium');
    const head = t.custodian.audit.head();
    for (const bad of ['4', '123', 'ab', 42]) {
      expect(await ipc.handle('approvals:approve', { requestId: id, matchCode: bad }, APP)).toMatchObject({ ok: false, error: { code: 'ERR-VALIDATION' } });
    }
    expect(t.custodian.audit.head()).toEqual(head);
    const approved = await ipc.handle('approvals:approve', { requestId: id, matchCode }, APP);
    expect(approved).toMatchObject({ ok: true, data: { request: { status: 'approved' }, token: { state: 'issued', ttlSeconds: 900 } } });
    const token = ((await status(id)).json as { token: string }).token;
    const shown = await ipc.handle('tokens:get', { requestId: id }, APP);
    expect(shown).toMatchObject({ ok: true, data: { token: { state: 'delivered' } } });
    expect(await ipc.handle('tokens:revoke', { requestId: id }, APP)).toMatchObject({ ok: true, data: { state: 'revoked' } });
    expect(JSON.stringify([approved, shown])).not.toContain(token);
  });

  it('refuses approvals while the desk is locked, at the door', async () => {
    await approver();
    const { id, matchCode } = await request();
    await passChain(id, 'medium');
    t.custodian.lock.lock('manual');
    expect(await router().handle('approvals:approve', { requestId: id, matchCode }, APP)).toMatchObject({ ok: false, error: { code: 'ERR-LOCKED' } });
    expect(t.custodian.requests.get(id).status).toBe('pending');
  });
});
