import { describe, expect, it } from 'vitest';
import { createCustodianApi, type IpcBridge } from '../../src-main/preload/custodian-api';

function fakeBridge(answer: unknown) {
  const calls: { channel: string; payload: unknown }[] = [];
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const bridge: IpcBridge = {
    invoke: async (channel, payload) => {
      calls.push({ channel, payload });
      return answer;
    },
    on: (event, listener) => {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    },
  };
  const emit = (event: string, payload: unknown) => listeners.get(event)?.forEach((l) => l(payload));
  return { bridge, calls, emit };
}

describe('the preload API factory', () => {
  it('maps each operation to its channel and resolves with the data', async () => {
    const { bridge, calls } = fakeBridge({ ok: true, data: { language: 'tr' } });
    const api = createCustodianApi(bridge);
    await expect(api.settings.setLanguage('tr')).resolves.toEqual({ language: 'tr' });
    expect(calls).toEqual([{ channel: 'settings:set-language', payload: { language: 'tr' } }]);
    await api.settings.setTokenTtl(300);
    expect(calls.at(-1)).toEqual({ channel: 'settings:set-token-ttl', payload: { seconds: 300 } });
  });

  it('asks for a chain step’s challenge on chain:challenge with the attempt id only (issue 12)', async () => {
    const { bridge, calls } = fakeBridge({ ok: true, data: { kind: 'code', digits: 6 } });
    await expect(createCustodianApi(bridge).chain.challenge('ch_1')).resolves.toEqual({ kind: 'code', digits: 6 });
    expect(calls).toEqual([{ channel: 'chain:challenge', payload: { attemptId: 'ch_1' } }]);
  });

  it('rejects with a plain {code, message} object and nothing else', async () => {
    const { bridge } = fakeBridge({ ok: false, error: { code: 'ERR-VALIDATION', message: 'The request is not valid: language.' } });
    const error: unknown = await createCustodianApi(bridge).settings.get().catch((e: unknown) => e);
    expect(error).toEqual({ code: 'ERR-VALIDATION', message: 'The request is not valid: language.' });
    expect(error).not.toBeInstanceOf(Error);
  });

  it('returns an unsubscribe that removes exactly the listener it added', () => {
    const { bridge, emit } = fakeBridge(undefined);
    const api = createCustodianApi(bridge);
    const seen: string[] = [];
    const offA = api.audit.onAppended((e) => seen.push(`a${e.id}`));
    api.audit.onAppended((e) => seen.push(`b${e.id}`));
    emit('audit:appended', { id: 1, event: 'x' });
    offA();
    emit('audit:appended', { id: 2, event: 'x' });
    expect(seen).toEqual(['a1', 'b1', 'b2']);
  });
});
