// @ts-check
// The release build's Electron fuses (issue 13, item 6): `node scripts/package-fuses.mjs <electron
// binary or .app>` flips them on the Electron binary a packager copied into the release, before
// it is signed. Fuses are bits compiled into the binary, so no environment variable or argument
// can turn a disabled one back on at run time (https://www.electronjs.org/docs/latest/tutorial/fuses).
// The project has no packager configuration yet; whichever one lands (electron-builder's
// `afterPack`, Forge's `FusesPlugin`) must call `flipReleaseFuses` or take `releaseFuses` as is.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flipFuses, FuseState, FuseV1Options, FuseVersion, getCurrentFuseWire } from '@electron/fuses';

/**
 * Every fuse set explicitly: `strictlyRequireAllFuses` makes flipping fail on an Electron whose
 * wire has a fuse this list does not name, so an upgrade that adds one forces a decision here.
 * @type {import('@electron/fuses').FuseV1Config & { strictlyRequireAllFuses: true }}
 */
export const releaseFuses = {
  version: FuseVersion.V1,
  strictlyRequireAllFuses: true,
  // Off: with it, `ELECTRON_RUN_AS_NODE=1 Custodian` is a Node interpreter carrying the app's
  // code signature and keychain identity (macOS keychain ACLs, Windows app identity).
  [FuseV1Options.RunAsNode]: false,
  // On: cookies and other Chromium storage encrypted under the OS keychain key. The app stores no
  // secret there, but nothing in the renderer's profile should lie in the clear.
  [FuseV1Options.EnableCookieEncryption]: true,
  // Off: NODE_OPTIONS could `--require` any file into the main process, the one that reads the
  // keychain.
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  // Off: `--inspect`, `--inspect-brk` and SIGUSR1 would open a debugger on the main process to
  // anyone who can start it with arguments.
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  // On: the app.asar is checked against the hash embedded at packaging time, so a rewritten
  // main-process bundle does not load, where Electron implements the check (macOS and Windows
  // when this was written; elsewhere the root-owned install directory is what protects it).
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  // On: only the app.asar loads, never a loose `app/` folder planted beside it (which the
  // integrity check above would not see). better-sqlite3's `.node` file must be unpacked
  // (`asarUnpack`) by the packager, as every native module is.
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  // Off, Electron's default: one V8 snapshot for every process; nothing of ours needs another.
  [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
  // On, Electron's default, for now: the renderer is loaded from file:// as ES modules, which
  // Chromium refuses to a file:// page without these privileges. Turning it off first needs the
  // renderer served from a custom privileged protocol (`protocol.handle('app', ...)`); README,
  // "Electron checks", lists it as open.
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: true,
  // On, Electron's default: WebAssembly's bounds checks through trap handlers.
  [FuseV1Options.WasmTrapHandlers]: true,
  // macOS on arm64 refuses a binary whose ad-hoc signature no longer matches; a real release is
  // signed again afterwards anyway.
  resetAdHocDarwinSignature: process.platform === 'darwin',
};

/**
 * Flips the release fuses on `electronPath`, then reads the wire back and fails unless each fuse
 * holds the state asked for (a fuse Electron marked removed would otherwise pass silently).
 * @param {string} electronPath
 */
export async function flipReleaseFuses(electronPath) {
  await flipFuses(electronPath, releaseFuses);
  const wire = await getCurrentFuseWire(electronPath);
  /** @type {string[]} */
  const wrong = [];
  for (const option of Object.values(FuseV1Options)) {
    if (typeof option !== 'number') continue;
    const wanted = releaseFuses[option] ? FuseState.ENABLE : FuseState.DISABLE;
    if (wire[option] !== wanted) wrong.push(`${FuseV1Options[option]} is ${String(wire[option])}, wanted ${wanted}`);
  }
  if (wrong.length > 0) throw new Error(`fuses not as configured: ${wrong.join('; ')}`);
  return wire;
}

const invokedAsScript = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (invokedAsScript) {
  const target = process.argv[2];
  if (!target || process.argv.length > 3) {
    console.error('usage: node scripts/package-fuses.mjs <path to the packaged Electron binary or .app>');
    process.exit(2);
  }
  flipReleaseFuses(resolve(target)).then(
    () => console.log(`fuses set on ${target}`),
    (/** @type {unknown} */ error) => {
      console.error(`package-fuses: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
