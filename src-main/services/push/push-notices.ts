import { translator, type Language } from '../../../src-shared/i18n';
import type { Notifier } from '../../platform/notifier';
import type { PushListener } from './push.service';

export interface PushNoticesDeps {
  notifier: Notifier;
  language: () => Language;
  /** While the desk is locked a notice names nothing: it only asks for the unlock. */
  locked: () => boolean;
}

/**
 * The desktop notice of a push (issue 12), as Duo Mobile's: raised when a push starts waiting,
 * wherever it was raised. Presentation apart from state: fed by `PushService.onChanged`. Never
 * the number: the approver must read it where the step was started.
 */
export class PushNotices {
  readonly #deps: PushNoticesDeps;

  constructor(deps: PushNoticesDeps) {
    this.#deps = deps;
  }

  readonly onChange: PushListener = ({ raised }) => {
    const first = raised[0];
    if (!first) return;
    const t = translator(this.#deps.language());
    const body = this.#deps.locked() ? t('push.notice.locked') : t('push.notice.body', { factor: first.factorLabel });
    this.#deps.notifier.notify({ title: t('push.notice.title'), body });
  };
}
