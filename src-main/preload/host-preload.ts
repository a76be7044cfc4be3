import type { EventName } from '../../src-shared/ipc/contract';
import { createCustodianApi } from './custodian-api';

/**
 * The Chromium host's stand-in for the Electron preload: injected before the renderer's scripts,
 * it builds `window.custodian` with the same factory, over the page bindings that the host
 * exposes (`__custodianInvoke`) and calls (`__custodianEmit`).
 */
interface HostWindow {
  __custodianInvoke(channel: string, payload: unknown): Promise<unknown>;
  __custodianEmit?: (event: string, payload: unknown) => void;
}

const hostWindow = window as unknown as HostWindow & Window;
const listeners = new Map<EventName, Set<(payload: unknown) => void>>();

hostWindow.__custodianEmit = (event, payload) => {
  for (const listener of listeners.get(event as EventName) ?? []) listener(payload);
};

const api = createCustodianApi({
  invoke: (channel, payload) => hostWindow.__custodianInvoke(channel, payload),
  on: (event, listener) => {
    const set = listeners.get(event) ?? new Set();
    listeners.set(event, set);
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  },
});

Object.defineProperty(window, 'custodian', { value: Object.freeze(api), writable: false, configurable: false });
