import type { CustodianApi } from '../../src-shared/ipc/api';
import type { Channel, EventName, EventPayload, IpcResult, RequestInput, ResponseOf } from '../../src-shared/ipc/contract';

/** What a host must supply: Electron's ipcRenderer, or the Chromium host's page bindings. */
export interface IpcBridge {
  invoke(channel: Channel, payload: unknown): Promise<unknown>;
  /** Adds a listener and returns the function that removes exactly that listener. */
  on(event: EventName, listener: (payload: unknown) => void): () => void;
}

/**
 * Builds `window.custodian` from an invoke/on pair. The Electron preload and the Chromium host
 * both call this, so the renderer talks to the same API whichever host runs it.
 */
export function createCustodianApi(bridge: IpcBridge): CustodianApi {
  async function call<C extends Channel>(channel: C, payload: RequestInput<C>): Promise<ResponseOf<C>> {
    const result = (await bridge.invoke(channel, payload)) as IpcResult<C>;
    if (result.ok) return result.data;
    // A plain object, not an Error: it crosses contextBridge intact, with only code and message.
    throw { ...result.error };
  }
  function subscribe<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    return bridge.on(event, (payload) => listener(payload as EventPayload<E>));
  }

  return {
    app: {
      info: () => call('app:info', {}),
    },
    audit: {
      list: (options = {}) => call('audit:list', options),
      verify: () => call('audit:verify', {}),
      onAppended: (listener) => subscribe('audit:appended', listener),
    },
    settings: {
      get: () => call('settings:get', {}),
      setLanguage: (language) => call('settings:set-language', { language }),
      setTokenTtl: (seconds) => call('settings:set-token-ttl', { seconds }),
      onChanged: (listener) => subscribe('settings:changed', listener),
    },
    profile: {
      get: () => call('profile:get', {}),
      init: (profile) => call('profile:init', profile),
      setRole: (role) => call('profile:set-role', { role }),
    },
    factors: {
      list: () => call('factors:list', {}),
      enroll: (options) => call('factors:enroll', options),
      resume: (factorId) => call('factors:resume', { factorId }),
      resendCode: (factorId) => call('factors:resend-code', { factorId }),
      removePending: (factorId) => call('factors:remove-pending', { factorId }),
      revealSecret: (factorId) => call('factors:reveal-secret', { factorId }),
      confirm: (factorId, code) => call('factors:confirm', { factorId, code }),
      rename: (factorId, label) => call('factors:rename', { factorId, label }),
      disable: (factorId) => call('factors:disable', { factorId }),
      onChanged: (listener) => subscribe('factors:changed', () => listener()),
    },
    backupCodes: {
      regenerate: () => call('backup-codes:regenerate', {}),
    },
    lock: {
      status: () => call('lock:status', {}),
      unlock: (code) => call('lock:unlock', { code }),
      lock: () => call('lock:lock', {}),
      activity: () => call('lock:activity', {}),
      onChanged: (listener) => subscribe('lock:changed', listener),
    },
    chain: {
      start: (purpose, sensitivity) => call('chain:start', { purpose, sensitivity }),
      verifyStep: (attemptId, factorId, code) => call('chain:verify-step', { attemptId, factorId, code }),
      challenge: (attemptId) => call('chain:challenge', { attemptId }),
      get: (attemptId) => call('chain:get', { attemptId }),
    },
    policies: {
      list: async () => (await call('policies:list', {})).policies,
      save: (policy) => call('policies:save', { policy }),
    },
    approvals: {
      preview: (requestId) => call('approvals:preview', { requestId }),
      approve: (requestId, matchCode) => call('approvals:approve', { requestId, matchCode }),
    },
    tokens: {
      get: async (requestId) => (await call('tokens:get', { requestId })).token,
      revoke: (requestId) => call('tokens:revoke', { requestId }),
    },
    incident: {
      get: () => call('incident:get', {}),
      turnOn: () => call('incident:on', {}),
      turnOff: () => call('incident:off', {}),
      onChanged: (listener) => subscribe('incident:changed', listener),
    },
    sms: {
      getConfig: () => call('sms:get-config', {}),
      setConfig: (config) => call('sms:set-config', config),
      test: (to) => call('sms:test', { to }),
    },
    push: {
      pending: async () => (await call('push:pending', {})).prompts,
      answer: (id, number) => call('push:answer', { id, number }),
      deny: (id) => call('push:deny', { id }),
      onChanged: (listener) => subscribe('push:changed', () => listener()),
    },
    requests: {
      list: async (view, limit) => (await call('requests:list', { view, ...(limit === undefined ? {} : { limit }) })).requests,
      deny: (id) => call('requests:deny', { id }),
      report: (id) => call('requests:report', { id }),
      onChanged: (listener) => subscribe('requests:changed', listener),
      pendingCount: async () => (await call('requests:pending-count', {})).count,
      onPendingCount: (listener) => subscribe('requests:pending-count', ({ count }) => listener(count)),
    },
    integrations: {
      list: async () => (await call('integrations:list', {})).integrations,
      add: (name) => call('integrations:add', { name }),
      revoke: (id) => call('integrations:revoke', { id }),
      unmute: (id) => call('integrations:unmute', { id }),
      onChanged: (listener) => subscribe('integrations:changed', () => listener()),
    },
    gateway: {
      status: () => call('gateway:status', {}),
      onStatus: (listener) => subscribe('gateway:status', listener),
    },
    // --- end gateway ---
  };
}
