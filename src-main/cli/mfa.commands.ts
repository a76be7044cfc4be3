import { assertNever } from '../../src-shared/assert-never';
import { Option, type Command } from 'commander';
import QRCode from 'qrcode';
import {
  displayNameSchema,
  factorIdSchema,
  factorLabelSchema,
  principalSchema,
  ROLES,
  roleSchema,
  totpAlgorithmSchema,
  type Enrollment,
  type Factor,
} from '../../src-shared/domain/mfa';
import { z } from 'zod';
import { phoneInputSchema } from '../../src-shared/domain/phone';
import { MANAGE } from '../../src-shared/domain/policy';
import { SENSITIVITIES, sensitivitySchema } from '../../src-shared/domain/restore-request';
import { AppError } from '../../src-shared/errors';
import { loadConfig } from '../config';
import type { MfaContext } from '../services/mfa/mfa.service';
import { runChain, stepUpForManagement } from './chain.commands';
import { EXIT, parseArg, readSecret, SECRET_HELP, withCustodian, type Io } from './cli-support';

// Named in the audit rows. The rate limit is one budget with the window's (issue 9, item 3): a
// shell and a window together get no more tries than one of them.
const CLI: MfaContext = { source: 'cli' };

const digitsArg = z.coerce.number().pipe(z.union([z.literal(6), z.literal(8)]));
const periodArg = z.coerce.number().pipe(z.union([z.literal(30), z.literal(60)]));
const codeArg = z.string().min(1).max(32);
const CODE_ARGUMENT = 'only for a script with no terminal and no stdin (see below)';

function factorLine(f: Factor): string {
  const used = f.lastUsedAt ? `last used ${f.lastUsedAt}` : 'never used';
  const recovery = f.recoveryUntil ? `; recovery factor until ${f.recoveryUntil}` : f.recovery ? '; will be a recovery factor' : '';
  return `${f.id}  ${f.state.padEnd(8)} ${f.label}  (${factorKind(f)}; ${used}${recovery})`;
}

/** What the line says of the factor's type: never more of an SMS number than its mask. */
function factorKind(f: Factor): string {
  switch (f.type) {
    case 'totp':
      return `${f.algorithm}, ${f.digits} digits, ${f.period} s`;
    case 'sms':
      return `SMS to ${f.phoneMasked}`;
    case 'push':
      return 'push to the Custodian window';
    default:
      return assertNever(f);
  }
}

/** What a recovery factor may not do yet, and until when (issue 9, item 4). */
function recoveryNote(f: Factor): string {
  return f.recoveryUntil
    ? `it was added with a backup code: until ${f.recoveryUntil} it takes no step of a chain that manages factors, and your other factors can stop it\n`
    : '';
}

/**
 * The terminal twins of the Factors screen (issue #4, "CLI"), on the same services: the same
 * validation, the same rate limit (one budget with the window), the same audit rows.
 */
export function registerMfaCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const profile = program.command('profile').description("the approver's profile");
  profile
    .command('init')
    .description('create the approver profile (first run from a shell)')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--principal <principal>', 'for example alice@corp')
    // Commander's choices: a wrong role is refused with the list of the right ones (issue 9).
    .addOption(new Option('--role <role>', 'the approver role').choices(ROLES).makeOptionMandatory())
    .action(async (opts: { name: string; principal: string; role: string }) => {
      const input = {
        displayName: parseArg(displayNameSchema, opts.name, '--name'),
        principal: parseArg(principalSchema, opts.principal, '--principal'),
        role: parseArg(roleSchema, opts.role, '--role'),
      };
      const created = await withCustodian(loadConfig(), (c) => c.mfa.initProfile(input, CLI));
      io.out(`profile ${created.id}: ${created.displayName} <${created.principal}>, ${created.role}\n`);
      io.out('next: custodian factors enroll --label "Authenticator app"\n');
    });

  const factors = program.command('factors').description('TOTP, SMS and push factors');
  factors
    .command('enroll')
    .description('start enrolling an authenticator app, a phone with --sms, or this desktop for push with --push; confirm it with `factors confirm`')
    .requiredOption('--label <label>', 'a name for the factor')
    .addOption(new Option('--digits <n>', 'code length').choices(['6', '8']).default('6'))
    .addOption(new Option('--period <s>', 'seconds per code').choices(['30', '60']).default('30'))
    .addOption(new Option('--algorithm <a>', 'HMAC hash').choices(['SHA1', 'SHA256', 'SHA512']).default('SHA1'))
    // The number is no secret (issue 12): an argument is fine; it is shown masked from here on.
    .addOption(new Option('--sms <phone>', 'an SMS factor: the number in international form (+90 532 123 45 67); the confirming code is sent to it').conflicts(['digits', 'period', 'algorithm', 'qrOut']))
    .addOption(new Option('--push', 'a push factor: the Custodian window answers its pushes; confirm it with the number the push shows').conflicts(['digits', 'period', 'algorithm', 'qrOut', 'sms']))
    .option('--qr-out <file>', 'also write the QR code as a PNG file')
    .option('--json', 'print {"id", "uri", "secretMasked"} (with --sms: {"id", "phoneMasked", "resendAfter"}; with --push: {"id", "number", "expiresAt"})')
    .addHelpText('after', `\nOnce MFA is on, a step-up chain at the critical policy runs first (a backup code standing in for a step makes a recovery factor).${SECRET_HELP}`)
    .action(async (opts: { label: string; digits: string; period: string; algorithm: string; sms?: string; push?: boolean; qrOut?: string; json?: boolean }) => {
      const label = parseArg(factorLabelSchema, opts.label, '--label');
      const options = opts.push
        ? { label, type: 'push' as const }
        : opts.sms === undefined
          ? {
              label,
              digits: parseArg(digitsArg, opts.digits, '--digits'),
              period: parseArg(periodArg, opts.period, '--period'),
              algorithm: parseArg(totpAlgorithmSchema, opts.algorithm, '--algorithm'),
            }
          : { label, type: 'sms' as const, phone: parseArg(phoneInputSchema, opts.sms, '--sms') };
      // Once MFA is on, a shell runs the same step-up chain as the window (issue 10).
      const enrollment = await withCustodian(loadConfig(), async (c) =>
        (await stepUpForManagement(c, io, MANAGE.enroll)) ? c.mfa.startEnrollment(options, CLI) : null,
      );
      if (enrollment) await printEnrollment(enrollment, opts);
      else setExit(EXIT.failure);
    });

  factors
    .command('resume <id>')
    // What "again" means follows the method (issue 12): the enrollment's own next move, as `enroll` printed it.
    .description('show a pending factor\'s enrollment again, within its 10 minutes: a TOTP factor\'s QR code and key URI, an SMS factor\'s code sent again, a push factor\'s push raised again')
    .option('--qr-out <file>', 'also write the QR code as a PNG file (a TOTP factor)')
    .option('--json', 'print {"id", "uri", "secretMasked"} (an SMS factor: {"id", "phoneMasked", "resendAfter"}; a push factor: {"id", "number", "expiresAt"})')
    .addHelpText('after', `\nOnce MFA is on, a step-up chain at the critical policy runs first.${SECRET_HELP}`)
    .action(async (id: string, opts: { qrOut?: string; json?: boolean }) => {
      const factorId = parseArg(factorIdSchema, id, 'id');
      const enrollment = await withCustodian(loadConfig(), async (c) =>
        (await stepUpForManagement(c, io, MANAGE.enroll)) ? c.mfa.resumeEnrollment(factorId, CLI) : null,
      );
      if (enrollment) await printEnrollment(enrollment, opts);
      else setExit(EXIT.failure);
    });

  factors
    .command('remove <id>')
    .description('drop a pending factor and delete its secret from the keychain')
    .action(async (id: string) => {
      const factorId = parseArg(factorIdSchema, id, 'id');
      await withCustodian(loadConfig(), (c) => c.mfa.removePendingEnrollment(factorId, CLI));
      io.out(`pending factor ${factorId} removed and its secret deleted from the keychain\n`);
    });

  async function printEnrollment(enrollment: Enrollment, opts: { qrOut?: string; json?: boolean }): Promise<void> {
    const f = enrollment.factor;
    switch (f.type) {
      case 'totp':
        return printTotpEnrollment(enrollment, opts);
      case 'sms': {
        // No key and no QR: the code went to the phone, and `factors confirm` takes it.
        const resendAfter = enrollment.sent?.resendAfter ?? null;
        if (opts.json) {
          io.out(`${JSON.stringify({ id: f.id, phoneMasked: f.phoneMasked, resendAfter })}\n`);
          return;
        }
        io.out(`factor ${f.id} is pending; a code was sent to ${f.phoneMasked}\n`);
        if (f.recovery) io.out('it is being added with a backup code, so it will start as a recovery factor\n');
        io.out(`then: custodian factors confirm ${f.id}   (it asks for the code from the message)\n`);
        return;
      }
      case 'push': {
        // The window is the device: the push waits there, and `factors confirm` takes its number.
        const push = enrollment.push ?? null;
        if (opts.json) {
          io.out(`${JSON.stringify({ id: f.id, number: push?.number ?? null, expiresAt: push?.expiresAt ?? null })}\n`);
          return;
        }
        io.out(`factor ${f.id} is pending; a push was raised in the Custodian window: pick ${push?.number ?? '?'} there\n`);
        if (f.recovery) io.out('it is being added with a backup code, so it will start as a recovery factor\n');
        io.out(`then: custodian factors confirm ${f.id} ${push?.number ?? ''}\n`);
        return;
      }
      default:
        return assertNever(f);
    }
  }

  async function printTotpEnrollment(enrollment: Enrollment, opts: { qrOut?: string; json?: boolean }): Promise<void> {
    if (opts.qrOut) await QRCode.toFile(opts.qrOut, enrollment.uri, { errorCorrectionLevel: 'M', margin: 2, width: 320 });
    if (opts.json) {
      io.out(`${JSON.stringify({ id: enrollment.factor.id, uri: enrollment.uri, secretMasked: enrollment.secretMasked })}\n`);
      return;
    }
    if (io.isTty) io.out(await QRCode.toString(enrollment.uri, { type: 'terminal', small: true, errorCorrectionLevel: 'M' }));
    io.out(`factor ${enrollment.factor.id} is pending; scan the QR code, or add this key URI to your authenticator:\n`);
    io.out(`${enrollment.uri}\n`);
    if (enrollment.factor.recovery) io.out('it is being added with a backup code, so it will start as a recovery factor\n');
    io.out(`then: custodian factors confirm ${enrollment.factor.id}   (within 10 minutes; it asks for a code)\n`);
  }

  factors
    .command('confirm')
    .description('confirm a pending factor with a code from it')
    .argument('<id>')
    .argument('[code]', CODE_ARGUMENT)
    .addHelpText('after', SECRET_HELP)
    .action(async (id: string, arg: string | undefined) => {
      const factorId = parseArg(factorIdSchema, id, 'id');
      const code = parseArg(codeArg, await readSecret(io, { arg, name: 'code', prompt: 'Code from the new authenticator: ' }), 'code');
      const result = await withCustodian(loadConfig(), (c) => c.mfa.confirmEnrollment(factorId, code, CLI));
      io.out(`factor ${result.factor.id} is active\n`);
      io.out(recoveryNote(result.factor));
      if (result.backupCodes) {
        io.out('MFA is on. Your backup codes, shown this once; keep them somewhere safe:\n');
        for (const backup of result.backupCodes) io.out(`  ${backup}\n`);
      }
    });

  factors
    .command('list')
    .description('list factors and the backup codes left')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const list = await withCustodian(loadConfig(), (c) => c.mfa.listFactors());
      if (opts.json) {
        io.out(`${JSON.stringify(list)}\n`);
        return;
      }
      if (list.factors.length === 0) io.out('no factors enrolled\n');
      for (const f of list.factors) io.out(`${factorLine(f)}\n`);
      const b = list.backupCodes;
      if (b.total > 0) io.out(`backup codes: ${b.remaining} of ${b.total} left${b.low ? ' (few left: regenerate them)' : ''}\n`);
    });

  factors
    .command('disable')
    .description('disable a factor (or stop a recovery factor) after a step-up chain at the critical policy; deletes its secret')
    .argument('<id>')
    .addHelpText('after', SECRET_HELP)
    .action(async (id: string) => {
      const factorId = parseArg(factorIdSchema, id, 'id');
      const f = await withCustodian(loadConfig(), async (c) => {
        // Refusals that need no chain (an admin's last factor, a policy that needs it) come first.
        c.mfa.assertCanDisable(factorId);
        return (await stepUpForManagement(c, io, MANAGE.disable(factorId))) ? c.mfa.disableFactor(factorId, CLI) : null;
      });
      if (f) io.out(`factor ${f.id} is disabled and its secret deleted from the keychain\n`);
      else setExit(EXIT.failure);
    });

  program
    .command('backup-codes')
    .description('backup codes')
    .command('regenerate')
    .description('replace every backup code, after a step-up chain at the critical policy (no backup code may stand in)')
    .addHelpText('after', SECRET_HELP)
    .action(async () => {
      const result = await withCustodian(loadConfig(), async (c) => {
        if (!c.mfa.profile()?.mfaEnabled) throw new AppError('ERR-MFA-NOT-ENABLED');
        return (await stepUpForManagement(c, io, MANAGE.regenerateCodes)) ? c.mfa.regenerateBackupCodes(CLI) : null;
      });
      if (!result) {
        setExit(EXIT.failure);
        return;
      }
      io.out('New backup codes, shown this once; every old code has stopped working:\n');
      for (const backup of result.codes) io.out(`  ${backup}\n`);
    });

  program
    .command('verify')
    .description('check a code (TOTP or backup); with --sensitivity, run a factor chain at that policy; exit 0 when valid')
    .argument('[code]', CODE_ARGUMENT)
    .addOption(new Option('--sensitivity <s>', 'run the chain the policy for this sensitivity asks for, one code per step').choices(SENSITIVITIES))
    .addHelpText('after', SECRET_HELP)
    .action(async (arg: string | undefined, opts: { sensitivity?: string }) => {
      if (opts.sensitivity !== undefined) {
        const sensitivity = parseArg(sensitivitySchema, opts.sensitivity, '--sensitivity');
        // A chain takes a code per step, each read when its step comes: none from the arguments.
        if (arg !== undefined) throw new AppError('ERR-VALIDATION', { field: 'code' });
        setExit(await withCustodian(loadConfig(), (c) => runChain(c, io, `test:${sensitivity}`, sensitivity)));
        return;
      }
      const code = parseArg(codeArg, await readSecret(io, { arg, name: 'code', prompt: 'Code: ' }), 'code');
      const verified = await withCustodian(loadConfig(), (c) => c.mfa.verify(code, CLI, { allowBackup: true, purpose: 'cli-verify' }));
      io.out(verified.method === 'totp' ? `valid (factor ${verified.factorId})\n` : 'valid (backup code, now used up)\n');
      setExit(EXIT.ok);
    });
}
