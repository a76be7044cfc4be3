import { assertNever } from '../../src-shared/assert-never';
import { BACKUP_STEP, type ChainAttemptView, type FactorChallenge } from '../../src-shared/domain/policy';
import type { Sensitivity } from '../../src-shared/domain/restore-request';
import { isAppError } from '../../src-shared/errors';
import type { StepContext } from '../services/chain/chain-ports';
import type { Custodian } from '../composition';
import { EXIT, message, readSecret, type Io } from './cli-support';
import { processSecretInput } from './secret-input';

const CLI: StepContext = { source: 'cli' };

/** One line per step: its place, the factor's label, type and digit count; never a secret. */
export function describeSteps(view: ChainAttemptView): string {
  const lines = view.steps.map((s, i) => `  ${i + 1}. ${s.label} (${s.type === 'push' ? 'push, answered in the Custodian window' : `${s.type}, ${s.digits} digits`})\n`);
  const count = `${view.steps.length} step${view.steps.length === 1 ? '' : 's'}`;
  return `chain at the ${view.sensitivity} policy (${view.mode} order, ${count}), expires at ${view.expiresAt}:\n${lines.join('')}`;
}

/**
 * Runs a chain for `purpose` at `sensitivity` in the terminal (issue 10 "CLI"): `custodian verify
 * --sensitivity S` for `test:<S>`, `custodian approve` for `approve:<id>`, `custodian incident off` for
 * `incident:leave` (issue 11), and the step-up before managing factors. Each step's code is
 * read from the terminal without echo, or as one line of stdin in a script, never from the
 * arguments. Where the chain admits one, a backup code typed at a step stands in for it (a
 * factor's code is all digits of its length; a backup code is not). A failed step resets the
 * attempt (the service's rule); the command then stops with exit 1 and says so, rather than read
 * on from a script's stdin against a chain that changed under it. `say` tells the steps (stdout
 * unless the command's answer is there).
 */
export async function runChain(c: Custodian, io: Io, purpose: string, sensitivity: Sensitivity, say: (text: string) => void = io.out): Promise<number> {
  let view = c.chain.start(purpose, sensitivity, CLI);
  say(describeSteps(view));
  while (view.status === 'open') {
    const current = view.steps[view.position];
    if (!current) break;
    const backup = view.backupAllowed && !view.backupUsed;
    // The step's method acts first (issue 12): SMS sends its code now, TOTP sends nothing, push
    // raises its prompt in the window. A send that fails (Twilio, the send limit) ends the
    // command: there is no code to wait for.
    let challenge: FactorChallenge;
    try {
      challenge = await c.chain.challenge(view.attemptId, CLI);
      announceChallenge(c, current.id, challenge, say);
    } catch (error) {
      if (!isAppError(error)) throw error;
      io.err(`custodian: step ${view.position + 1} (${current.label}): ${message(error.code, error.details)}\n`);
      return EXIT.failure;
    }
    try {
      if (challenge.kind === 'push') {
        view = await awaitPushOrBackup(c, io, view.attemptId, current.id, challenge.number, backup);
      } else {
        const code = (
          await readSecret(io, {
            arg: undefined,
            name: 'code',
            prompt: `Step ${view.position + 1} of ${view.steps.length}, ${current.label} (${current.digits} digits${backup ? ', or a backup code' : ''}): `,
          })
        ).trim();
        const isFactorCode = new RegExp(`^\\d{${current.digits}}$`).test(code);
        view = await c.chain.verifyStep(view.attemptId, backup && !isFactorCode ? BACKUP_STEP : current.id, code, CLI);
      }
    } catch (error) {
      if (!isAppError(error)) throw error;
      io.err(`custodian: step ${view.position + 1} (${current.label}): ${message(error.code, error.details)}\n`);
      if (RESETS.has(error.code)) {
        io.err('custodian: the chain was reset to step 1; run the command again for a new attempt\n');
      }
      return EXIT.failure;
    }
    if (view.status === 'open') say(`step ${view.position} passed\n`);
  }
  say(`chain completed: ${view.steps.length} of ${view.steps.length} steps passed\n`);
  return EXIT.ok;
}

/** The failures after which the chain is back at step 1. */
const RESETS: ReadonlySet<string> = new Set(['ERR-MFA-INVALID', 'ERR-MFA-REPLAYED', 'ERR-MFA-CHAIN-BREACHED', 'ERR-MFA-PUSH-DENIED']);

/** How often a shell asks whether its push was answered: the window's tick is 250 ms. */
export const PUSH_POLL_MS = 250;

/**
 * Waits for the push's answer in the window (issue 12), submitting the step with the number shown
 * here: ERR-MFA-PUSH-PENDING (nothing counted, nothing changed) means ask again shortly. Every
 * other answer ends the wait: the step passed, or its error (denied, mismatched, ignored). Null
 * when `stop` ends the wait first; a check already sent is answered before that.
 */
async function awaitPush(c: Custodian, attemptId: string, factorId: string, number: number, stop?: AbortSignal): Promise<ChainAttemptView | null> {
  for (;;) {
    if (stop?.aborted) return null;
    try {
      return await c.chain.verifyStep(attemptId, factorId, String(number), CLI);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'ERR-MFA-PUSH-PENDING') throw error;
    }
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        stop?.removeEventListener('abort', wake);
        resolve();
      }, PUSH_POLL_MS);
      stop?.addEventListener('abort', wake, { once: true });
    });
  }
}

/** How a push wait ended: the step's answer (or its error), or what was typed meanwhile. */
type PushRace = { kind: 'push'; view: ChainAttemptView | null } | { kind: 'push-failed'; error: unknown } | { kind: 'line'; line: string } | { kind: 'read-failed'; error: unknown };

/**
 * A push step in a shell, as the window's chain prompt has it (issue 12): where the chain admits a
 * backup code and a person is at the terminal, one typed there (hidden) stands in for the push,
 * and the service withdraws the push with the step. Whichever comes first decides: a push answered
 * in the window withdraws the question here, leaving the terminal as it was. An empty line keeps
 * waiting. A script's stdin is never read during the wait: it holds one line per code step, and
 * reading here would take the next step's code.
 */
async function awaitPushOrBackup(c: Custodian, io: Io, attemptId: string, factorId: string, number: number, backup: boolean): Promise<ChainAttemptView> {
  const input = io.secrets ?? processSecretInput();
  if (!backup || !input.interactive) return (await awaitPush(c, attemptId, factorId, number)) ?? neverStopped();
  const stopPush = new AbortController();
  const push: Promise<PushRace> = awaitPush(c, attemptId, factorId, number, stopPush.signal).then(
    (view) => ({ kind: 'push', view }),
    (error: unknown) => ({ kind: 'push-failed', error }),
  );
  for (;;) {
    const stopRead = new AbortController();
    const read: Promise<PushRace> = input.readHidden('…or type a backup code and press Enter: ', stopRead.signal).then(
      (line) => ({ kind: 'line', line: line.trim() }),
      (error: unknown) => ({ kind: 'read-failed', error }),
    );
    const first = await Promise.race([push, read]);
    switch (first.kind) {
      case 'push':
      case 'push-failed':
        // The window answered (or the push failed): the question here is withdrawn.
        stopRead.abort(new Error('the push was answered'));
        await read;
        if (first.kind === 'push-failed') throw first.error;
        return first.view ?? neverStopped();
      case 'read-failed':
        // Ctrl+C (exit 130) or a terminal gone: the wait ends with it.
        stopPush.abort();
        await push;
        throw first.error;
      case 'line': {
        if (first.line === '') continue;
        stopPush.abort();
        // A check in flight when the line came may have found the push answered: that answer
        // stands, and the backup code is not used up for a step already passed.
        const settled = await push;
        if (settled.kind === 'push-failed') throw settled.error;
        if (settled.kind === 'push' && settled.view) return settled.view;
        return c.chain.verifyStep(attemptId, BACKUP_STEP, first.line, CLI);
      }
      default:
        return assertNever(first);
    }
  }
}

function neverStopped(): never {
  // awaitPush returns null only when stopped, and this wait never stops it.
  throw new Error('the push wait was stopped');
}

/** What the shell says of a step's challenge: where an SMS code went (masked); nothing for a code to type. */
function announceChallenge(c: Custodian, factorId: string, challenge: FactorChallenge, say: (text: string) => void): void {
  switch (challenge.kind) {
    case 'code':
      return;
    case 'sent': {
      const factor = c.mfa.listFactors().factors.find((f) => f.id === factorId);
      const to = factor?.type === 'sms' ? factor.phoneMasked : 'the phone';
      say(`a code was sent to ${to}\n`);
      return;
    }
    case 'push':
      // Push (issue 12) is answered in the window; the shell shows the number to pick there.
      say(`a push was raised in the Custodian window: pick ${challenge.number} there (until ${challenge.expiresAt})\n`);
      return;
    default:
      return assertNever(challenge);
  }
}

/**
 * The step-up before managing factors (issue 10): once MFA is on, a chain at the critical policy
 * for this one action; its grant is what the service then takes. True when the change may go on;
 * while MFA is off (setup) no chain is needed.
 */
export async function stepUpForManagement(c: Custodian, io: Io, purpose: string): Promise<boolean> {
  if (!c.mfa.profile()?.mfaEnabled) return true;
  // On stderr, as the prompts are: stdout carries the command's own answer (`--json`).
  io.err('this change takes a step-up chain at the critical policy\n');
  return (await runChain(c, io, purpose, 'critical', io.err)) === EXIT.ok;
}
