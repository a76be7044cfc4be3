import type { z } from 'zod';
import { channels, CHANNEL_PREFIXES, type Channel, type IpcResult, type RequestOf, type ResponseOf } from '../../src-shared/ipc/contract';
import { isAppError, type ErrorCode, type ErrorDetails } from '../../src-shared/errors';
import { translator, errorMessage, type Language } from '../../src-shared/i18n';

export type Handlers = { [C in Channel]: (request: RequestOf<C>) => ResponseOf<C> | Promise<ResponseOf<C>> };

/** Who sent an IPC message, as Electron's senderFrame (or the Chromium host's binding) reports it. */
export interface IpcSender {
  url: string;
  isMainFrame: boolean;
}

export interface IpcRouterOptions {
  handlers: Handlers;
  /** Decides whether a sender URL is the app's own renderer. Parse with URL, never startsWith. */
  isTrustedUrl: (url: URL) => boolean;
  language: () => Language;
  /** Runs after the sender and channel checks, before validation: the lock refuses here. */
  admit?: (channel: Channel) => void;
  /** Awaited after validation, before the handler: the audit anchor's check for a change (issue 13). */
  prepare?: (channel: Channel) => Promise<void> | undefined;
}

export interface IpcRouter {
  readonly channels: readonly Channel[];
  handle(channel: string, payload: unknown, sender: IpcSender): Promise<IpcResult<Channel>>;
}

function isChannel(name: string): name is Channel {
  return CHANNEL_PREFIXES.some((prefix) => name.startsWith(prefix)) && Object.hasOwn(channels, name);
}

/**
 * The one door from the renderer into main (STYLE.md rules 2 and 3): it refuses unknown channels,
 * senders that are not the app's own top frame, and any payload its schema rejects, all before a
 * service runs. Whatever goes wrong comes back as `{code, message}`: no stack, no cause.
 */
export function createIpcRouter(options: IpcRouterOptions): IpcRouter {
  const fail = (code: ErrorCode, details?: ErrorDetails): IpcResult<Channel> => {
    const t = translator(safeLanguage());
    return { ok: false, error: { code, message: errorMessage(t, code, details), ...(details ? { details } : {}) } };
  };

  // Reporting an error must never fail itself: if the setting cannot be read, English it is.
  const safeLanguage = (): Language => {
    try {
      return options.language();
    } catch {
      return 'en';
    }
  };

  const trusted = (sender: IpcSender): boolean => {
    if (!sender.isMainFrame) return false;
    try {
      return options.isTrustedUrl(new URL(sender.url));
    } catch {
      return false;
    }
  };

  return {
    channels: Object.keys(channels) as Channel[],
    async handle(channel, payload, sender) {
      if (!trusted(sender)) return fail('ERR-SENDER-FORBIDDEN');
      if (typeof channel !== 'string' || !isChannel(channel)) return fail('ERR-VALIDATION', { field: 'channel' });

      try {
        options.admit?.(channel);
      } catch (error) {
        return isAppError(error) ? fail(error.code, error.details) : fail('ERR-INTERNAL');
      }

      const spec = channels[channel];
      const parsed = (spec.request as z.ZodType).safeParse(payload ?? {});
      if (!parsed.success) {
        const path = parsed.error.issues[0]?.path.join('.') ?? '';
        return fail('ERR-VALIDATION', { field: path === '' ? 'request' : path });
      }
      try {
        await options.prepare?.(channel);
        const handler = options.handlers[channel] as (request: unknown) => unknown;
        const result = await handler(parsed.data);
        // Parsing the answer too strips any field the contract does not name, so a service can
        // never leak more to the renderer than the contract allows.
        return { ok: true, data: (spec.response as z.ZodType).parse(result) as ResponseOf<Channel> };
      } catch (error) {
        if (isAppError(error)) return fail(error.code, error.details);
        return fail('ERR-INTERNAL');
      }
    },
  };
}

