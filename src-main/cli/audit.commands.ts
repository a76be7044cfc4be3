import { userInfo } from 'node:os';
import { Option, type Command } from 'commander';
import { loadConfig } from '../config';
import { describeIncremental, describeVerification } from './audit-verdict';
import { AppError } from '../../src-shared/errors';
import { runChain } from './chain.commands';
import { EXIT, message, SECRET_HELP, shellActor, withCustodian, type Io } from './cli-support';
import { runDoctor } from './doctor';

/** The step-up purpose of `custodian integrity reseal`: its grant serves that alone. */
const RESEAL_PURPOSE = 'integrity:reseal';

/** `custodian doctor` and `custodian audit ...`: the checks an administrator runs on the data. */
export function registerAuditCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('doctor')
    .description('check the keychain, the database and the gateway port')
    .addOption(new Option('--json', 'print one JSON object'))
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig();
      const checks = await withCustodian(config, (c) => runDoctor(c, message));
      if (opts.json) io.out(`${JSON.stringify({ ok: checks.every((c) => c.ok), checks })}\n`);
      else for (const c of checks) io.out(`${c.ok ? 'OK  ' : 'FAIL'}  ${c.name.padEnd(13)} ${c.detail}\n`);
      setExit(checks.every((c) => c.ok) ? EXIT.ok : EXIT.failure);
    });

  // Issue 13, item 4: after a legitimate restore of the database from a backup, its state is older
  // than the keychain's epoch and every sealed change is refused until an administrator accepts it.
  const integrity = program.command('integrity').description('the sealed security state');
  integrity
    .command('reseal')
    .description('accept this database as restored from a backup (its state older than the keychain saw), after a step-up chain at the critical policy')
    .addOption(new Option('--json', 'print one JSON object'))
    .addHelpText('after', `\nOnly an older copy of this database is accepted: a row or seal edited outside Custodian is named and refused (ERR-STATE-TAMPERED).${SECRET_HELP}`)
    .action(async (opts: { json?: boolean }) => {
      const code = await withCustodian(loadConfig(), async (c) => {
        const result = await c.integrity.resealAfterRestore(shellActor(), async () => {
          // With --json, stdout holds the one JSON object: the chain's lines go to stderr.
          const chain = await runChain(c, io, RESEAL_PURPOSE, 'critical', opts.json ? io.err : io.out);
          if (chain !== EXIT.ok || !c.chain.consumeGrant(RESEAL_PURPOSE, 'critical')) throw new AppError('ERR-MFA-REQUIRED');
        });
        if (opts.json) io.out(`${JSON.stringify(result)}\n`);
        else io.out(result.changed ? `state re-sealed at epoch ${result.epoch} (the keychain had ${result.keychainEpoch})\n` : 'the sealed state is current; nothing changed\n');
        return EXIT.ok;
      });
      setExit(code);
    });

  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('walk the hash chain; exit 0 when intact, 1 with the first bad row')
    .addOption(new Option('--json', 'print one JSON object'))
    .addOption(
      new Option(
        '--incremental',
        'walk only the rows after the checkpoint the last passing verification left in the keychain (an edit to an earlier row is for the full walk to find)',
      ),
    )
    .action(async (opts: { json?: boolean; incremental?: boolean }) => {
      // Fail closed: exit 0 only when the anchor vouches for the whole log (or the log is empty).
      if (opts.incremental) {
        const verdict = await withCustodian(loadConfig(), (c) => c.audit.verifyIncremental());
        io.out(opts.json ? `${JSON.stringify(verdict)}\n` : `${describeIncremental(verdict)}\n`);
        setExit(verdict.ok ? EXIT.ok : EXIT.failure);
        return;
      }
      const verdict = await withCustodian(loadConfig(), (c) => c.audit.verify());
      io.out(opts.json ? `${JSON.stringify(verdict)}\n` : `${describeVerification(verdict)}\n`);
      setExit(verdict.ok ? EXIT.ok : EXIT.failure);
    });
  audit
    .command('reanchor')
    .description('anchor the current head in the keychain when the anchor is missing, garbled, lags or no longer matches (recorded in the log)')
    .action(async () => {
      const result = await withCustodian(loadConfig(), (c) => c.audit.reanchor(`cli:${userInfo().username}`));
      if (result.changed) {
        io.out(`re-anchored (the keychain held: ${result.previous}); ${describeVerification(result.verification)}\n`);
      } else {
        io.out(`nothing re-anchored; ${describeVerification(result.verification)}\n`);
      }
      setExit(result.verification.ok ? EXIT.ok : EXIT.failure);
    });
  audit
    .command('head')
    .description('print the latest row id and hash, to anchor off this machine')
    .action(async () => {
      const head = await withCustodian(loadConfig(), (c) => c.audit.head());
      io.out(head ? `${head.id} ${head.hash}\n` : '0 (empty)\n');
    });
  audit
    .command('export')
    .description('print every row as JSON lines')
    .action(async () => {
      await withCustodian(loadConfig(), (c) => {
        for (const row of c.audit.export()) io.out(`${JSON.stringify(row)}\n`);
      });
    });
}
