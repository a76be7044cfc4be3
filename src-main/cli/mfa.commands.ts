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
  type Factor,
} from '../../src-shared/domain/mfa';
import { z } from 'zod';
import { AppError } from '../../src-shared/errors';
import { loadConfig } from '../config';
import type { MfaContext } from '../services/mfa/mfa.service';
import { EXIT, parseArg, withCustodian, type Io } from './cli-support';

// A shell is its own source for the rate limit: failures typed here do not lock the window out.
const CLI: MfaContext = { source: 'cli' };

const digitsArg = z.coerce.number().pipe(z.union([z.literal(6), z.literal(8)]));
const periodArg = z.coerce.number().pipe(z.union([z.literal(30), z.literal(60)]));
const codeArg = z.string().min(1).max(32);

function factorLine(f: Factor): string {
  const used = f.lastUsedAt ? `last used ${f.lastUsedAt}` : 'never used';
  return `${f.id}  ${f.state.padEnd(8)} ${f.label}  (${f.algorithm}, ${f.digits} digits, ${f.period} s; ${used})`;
}

/**
 * The terminal twins of the Factors screen (issue #4, "CLI"), on the same services: the same
 * validation, the same rate limit (source `cli`), the same audit rows.
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

  const factors = program.command('factors').description('TOTP factors');
  factors
    .command('enroll')
    .description('start enrolling an authenticator app; confirm it with `factors confirm`')
    .requiredOption('--label <label>', 'a name for the factor')
    .addOption(new Option('--digits <n>', 'code length').choices(['6', '8']).default('6'))
    .addOption(new Option('--period <s>', 'seconds per code').choices(['30', '60']).default('30'))
    .addOption(new Option('--algorithm <a>', 'HMAC hash').choices(['SHA1', 'SHA256', 'SHA512']).default('SHA1'))
    .option('--code <code>', 'a current code; needed once MFA is on')
    .option('--qr-out <file>', 'also write the QR code as a PNG file')
    .option('--json', 'print {"id", "uri", "secretMasked"}')
    .action(async (opts: { label: string; digits: string; period: string; algorithm: string; code?: string; qrOut?: string; json?: boolean }) => {
      const options = {
        label: parseArg(factorLabelSchema, opts.label, '--label'),
        digits: parseArg(digitsArg, opts.digits, '--digits'),
        period: parseArg(periodArg, opts.period, '--period'),
        algorithm: parseArg(totpAlgorithmSchema, opts.algorithm, '--algorithm'),
      };
      const enrollment = await withCustodian(loadConfig(), async (c) => {
        // The window is unlocked by a code; a shell proves itself the same way before adding a factor.
        if (c.mfa.profile()?.mfaEnabled) {
          if (!opts.code) throw new AppError('ERR-MFA-REQUIRED');
          await c.mfa.verify(parseArg(codeArg, opts.code, '--code'), CLI, { allowBackup: true, purpose: 'enroll' });
        }
        return c.mfa.startEnrollment(options, CLI);
      });
      if (opts.qrOut) await QRCode.toFile(opts.qrOut, enrollment.uri, { errorCorrectionLevel: 'M', margin: 2, width: 320 });
      if (opts.json) {
        io.out(`${JSON.stringify({ id: enrollment.factor.id, uri: enrollment.uri, secretMasked: enrollment.secretMasked })}\n`);
        return;
      }
      if (io.isTty) io.out(await QRCode.toString(enrollment.uri, { type: 'terminal', small: true, errorCorrectionLevel: 'M' }));
      io.out(`factor ${enrollment.factor.id} is pending; scan the QR code, or add this key URI to your authenticator:\n`);
      io.out(`${enrollment.uri}\n`);
      io.out(`then: custodian factors confirm ${enrollment.factor.id} CODE   (within 10 minutes)\n`);
    });

  factors
    .command('confirm <id> <code>')
    .description('confirm a pending factor with a code from it')
    .action(async (id: string, code: string) => {
      const factorId = parseArg(factorIdSchema, id, 'id');
      const result = await withCustodian(loadConfig(), (c) => c.mfa.confirmEnrollment(factorId, parseArg(codeArg, code, 'code'), CLI));
      io.out(`factor ${result.factor.id} is active\n`);
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
    .command('disable <id> <code>')
    .description("disable a factor with its own code or a backup code; deletes its secret")
    .action(async (id: string, code: string) => {
      const factorId = parseArg(factorIdSchema, id, 'id');
      const f = await withCustodian(loadConfig(), (c) => c.mfa.disableFactor(factorId, parseArg(codeArg, code, 'code'), CLI));
      io.out(`factor ${f.id} is disabled and its secret deleted from the keychain\n`);
    });

  program
    .command('backup-codes')
    .description('backup codes')
    .command('regenerate <code>')
    .description('replace every backup code; takes an authenticator code')
    .action(async (code: string) => {
      const result = await withCustodian(loadConfig(), (c) => c.mfa.regenerateBackupCodes(parseArg(codeArg, code, 'code'), CLI));
      io.out('New backup codes, shown this once; every old code has stopped working:\n');
      for (const backup of result.codes) io.out(`  ${backup}\n`);
    });

  program
    .command('verify <code>')
    .description('check a code (TOTP or backup); exit 0 when valid')
    .action(async (code: string) => {
      const verified = await withCustodian(loadConfig(), (c) => c.mfa.verify(parseArg(codeArg, code, 'code'), CLI, { allowBackup: true, purpose: 'cli-verify' }));
      io.out(verified.method === 'totp' ? `valid (factor ${verified.factorId})\n` : 'valid (backup code, now used up)\n');
      setExit(EXIT.ok);
    });
}
