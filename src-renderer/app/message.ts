import type { TFunction } from 'i18next';

/** A parameter that is itself a catalog entry (a sensitivity's or a role's name): translated with the message. */
export interface KeyParam {
  key: string;
}

/**
 * A message shown after an action ("… is ready to use."), kept as its catalog key and parameters
 * rather than as text: the text is made at each render, so a switch of language reaches it as it
 * reaches everything else on screen (a rendered string would stay in the language it was made in).
 */
export interface Message {
  key: string;
  params?: Readonly<Record<string, string | number | KeyParam>>;
}

export function message(key: string, params?: Message['params']): Message {
  return params ? { key, params } : { key };
}

/** The message in the current language. */
export function messageText(t: TFunction, m: Message): string {
  const params: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(m.params ?? {})) params[name] = typeof value === 'object' ? t(value.key) : value;
  return t(m.key, params);
}
