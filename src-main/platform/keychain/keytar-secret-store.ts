import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { AppError } from '../../../src-shared/errors';
import type { SecretStore } from './secret-store';

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
  /** Optional so a test's keytar-shaped stand-in may leave it out; @github/keytar has it. */
  findCredentials?(service: string): Promise<{ account: string; password: string }[]>;
}

export interface KeytarSecretStoreOptions {
  service: string;
  /** A locked keyring can wait forever on an unlock prompt; past this we call it unavailable. */
  timeoutMs: number;
  /** For tests: a keytar-shaped module, used for every call. Defaults to @github/keytar. */
  keytar?: Keytar;
}

// libsecret's stale proxy belongs to the process, not to one store: so does what we know of it,
// and so does the helper that replaces it.
let inProcess: Keytar | undefined;
let inProcessStale = false;
let helper: KeytarHelper | undefined;
/** A helper that exited without ever answering cannot run here (no Node mode): stop spawning. */
let helpersBroken = false;
/**
 * Backends that have answered at least once, so they are bound to the daemon that answered. One
 * that has only ever failed reached no daemon and recovers by itself once one starts.
 */
const answered = new WeakSet<Keytar>();

class Timeout extends Error {}

/**
 * SecretStore on @github/keytar (GitHub's maintained fork of keytar: libsecret on Linux, Keychain
 * on macOS, Credential Vault on Windows). Any rejection or timeout means the keychain is
 * unavailable, and that is the only thing the caller learns.
 *
 * Recovery (issue 9, item 5): libsecret keeps one Secret Service proxy per process, bound to the
 * D-Bus unique name of the daemon it first reached, and hears that the daemon went away only
 * through a signal dispatched on a GLib main loop that Node never runs. Once gnome-keyring-daemon
 * restarts, every later call in this process goes to the dead name ("The name :1.0 was not
 * provided by any .service files") until the process restarts: that is why the lock screen kept
 * saying "unavailable". So when a backend that had answered before fails (or hangs), it is
 * retired for good, and the call is tried once more on a helper process with a libsecret of its
 * own: the first attempt after the keychain comes back already succeeds. A backend that has never
 * answered is kept, since it is bound to nothing; an outage therefore costs at most one helper
 * start, and a healthy keychain none.
 */
export class KeytarSecretStore implements SecretStore {
  readonly #service: string;
  readonly #timeoutMs: number;
  readonly #injected: Keytar | undefined;

  constructor(options: KeytarSecretStoreOptions) {
    this.#service = options.service;
    this.#timeoutMs = options.timeoutMs;
    this.#injected = options.keytar;
  }

  get(account: string): Promise<string | null> {
    return this.#call((k) => k.getPassword(this.#service, account));
  }

  set(account: string, secret: string): Promise<void> {
    return this.#call((k) => k.setPassword(this.#service, account, secret));
  }

  delete(account: string): Promise<boolean> {
    return this.#call((k) => k.deletePassword(this.#service, account));
  }

  async list(): Promise<{ account: string; secret: string }[]> {
    const found = await this.#call((k) => (k.findCredentials ? k.findCredentials(this.#service) : Promise.reject(new Error('no listing'))));
    return found.map((e) => ({ account: e.account, secret: e.password }));
  }

  async probe(): Promise<void> {
    const account = `probe:${process.pid}:${Date.now()}`;
    const value = 'custodian-probe';
    await this.set(account, value);
    const read = await this.get(account);
    await this.delete(account);
    if (read !== value) throw new AppError('ERR-KEYCHAIN-UNAVAILABLE');
  }

  /** Ends the helper process, if one was started; a later call may start another. */
  dispose(): void {
    helper?.kill();
    helper = undefined;
  }

  async #call<T>(op: (keytar: Keytar) => Promise<T>): Promise<T> {
    if (this.#injected) return this.#attempt(this.#injected, op).catch(unavailable);
    const first = await this.#backend().catch(unavailable);
    try {
      return await this.#attempt(first, op);
    } catch (error) {
      if (!answered.has(first) && !(error instanceof Timeout)) unavailable();
      retire(first);
      // A timeout has already cost its wait: the next call goes to the new backend, not this one.
      if (error instanceof Timeout || helpersBroken) unavailable();
    }
    const second = await this.#backend().catch(unavailable);
    try {
      return await this.#attempt(second, op);
    } catch (error) {
      if (error instanceof Timeout) retire(second);
      return unavailable();
    }
  }

  async #attempt<T>(backend: Keytar, op: (keytar: Keytar) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Timeout()), this.#timeoutMs);
      timer.unref();
    });
    try {
      const value = await Promise.race([op(backend), timeout]);
      answered.add(backend);
      return value;
    } finally {
      clearTimeout(timer);
    }
  }

  async #backend(): Promise<Keytar> {
    if (!inProcessStale || helpersBroken) {
      // Loaded lazily so a machine without libsecret can still run `custodian doctor` and be
      // told why, rather than crash at import time.
      if (!inProcess) {
        const mod = (await import('@github/keytar')) as Keytar & { default?: Keytar };
        inProcess = mod.default ?? mod;
      }
      return inProcess;
    }
    if (helper && !helper.alive) {
      if (!answered.has(helper) && !helper.killed) helpersBroken = true;
      helper = undefined;
      if (helpersBroken) return this.#backend();
    }
    helper ??= new KeytarHelper(keytarModulePath());
    return helper;
  }
}

function unavailable(): never {
  throw new AppError('ERR-KEYCHAIN-UNAVAILABLE');
}

/** Never used again: it may be bound to a daemon that is gone, or stuck on a call. */
function retire(backend: Keytar): void {
  if (backend === inProcess) inProcessStale = true;
  if (backend === helper) {
    helper.kill();
    helper = undefined;
  }
}

function keytarModulePath(): string {
  return createRequire(__filename).resolve('@github/keytar');
}

/**
 * The helper's whole program, given to `node -e`: the module path is its only argument; secrets
 * travel over the IPC channel, never on a command line. It exits when its parent goes away.
 */
const HELPER_SOURCE = `
const keytar = require(process.argv[1]);
const ops = {
  get: (m) => keytar.getPassword(m.service, m.account),
  set: (m) => keytar.setPassword(m.service, m.account, m.secret).then(() => null),
  delete: (m) => keytar.deletePassword(m.service, m.account),
  list: (m) => keytar.findCredentials(m.service),
};
process.on('message', (m) => {
  Promise.resolve()
    .then(() => ops[m.op](m))
    .then((value) => process.send({ id: m.id, ok: true, value }), () => process.send({ id: m.id, ok: false }));
});
process.on('disconnect', () => process.exit(0));
`;

type HelperValue = string | boolean | null | { account: string; password: string }[];
type HelperAnswer = { id: number; ok: true; value: HelperValue } | { id: number; ok: false };

/** keytar's calls, answered by a child process with a libsecret of its own. */
class KeytarHelper implements Keytar {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (value: HelperValue) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  /** Ended by us (retired or disposed), as opposed to a helper that could not run. */
  killed = false;

  constructor(modulePath: string) {
    // ELECTRON_RUN_AS_NODE makes the Electron binary behave as Node; plain Node ignores it.
    this.#child = spawn(process.execPath, ['-e', HELPER_SOURCE, modulePath], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    this.#child.on('message', (message: HelperAnswer) => {
      const waiter = this.#pending.get(message.id);
      if (!waiter) return;
      this.#pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new Error('keychain'));
      this.#idle();
    });
    const gone = (): void => {
      for (const waiter of this.#pending.values()) waiter.reject(new Error('keychain helper exited'));
      this.#pending.clear();
    };
    this.#child.on('exit', gone);
    this.#child.on('error', gone);
    this.#idle();
  }

  getPassword(service: string, account: string): Promise<string | null> {
    return this.#send({ op: 'get', service, account }) as Promise<string | null>;
  }

  async setPassword(service: string, account: string, password: string): Promise<void> {
    await this.#send({ op: 'set', service, account, secret: password });
  }

  deletePassword(service: string, account: string): Promise<boolean> {
    return this.#send({ op: 'delete', service, account }) as Promise<boolean>;
  }

  findCredentials(service: string): Promise<{ account: string; password: string }[]> {
    return this.#send({ op: 'list', service }) as Promise<{ account: string; password: string }[]>;
  }

  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null && this.#child.connected;
  }

  kill(): void {
    this.killed = true;
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill();
  }

  #send(message: Record<string, string>): Promise<HelperValue> {
    return new Promise((resolve, reject) => {
      if (!this.#child.connected) {
        reject(new Error('keychain helper is gone'));
        return;
      }
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, reject });
      // While a call is out, the channel keeps this process alive to hear the answer.
      this.#child.ref();
      this.#child.channel?.ref();
      this.#child.send({ ...message, id }, (error) => {
        if (!error || !this.#pending.delete(id)) return;
        reject(error);
        this.#idle();
      });
    });
  }

  /** An idle helper must not keep the CLI or a test process from exiting. */
  #idle(): void {
    if (this.#pending.size > 0) return;
    this.#child.unref();
    this.#child.channel?.unref();
  }
}
