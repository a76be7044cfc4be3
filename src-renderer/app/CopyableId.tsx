import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { CheckCircleIcon, CopyIcon } from './icons';

const STATUS_MS = 4000;

/**
 * An identifier an approver may need in a shell (`custodian deny ID`): monospace, never broken
 * across lines (it is cut with an ellipsis where space is short, the whole value in its title),
 * and one click copies all of it.
 */
export function CopyableId({ value, testId }: { value: string; testId?: string }) {
  const { t } = useTranslation();
  const [status, setStatus] = useState<'idle' | 'copied' | 'failed'>('idle');

  useEffect(() => {
    if (status === 'idle') return;
    const timer = setTimeout(() => setStatus('idle'), STATUS_MS);
    return () => clearTimeout(timer);
  }, [status]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setStatus('copied');
    } catch {
      setStatus('failed');
    }
  }

  const label = t('common.copyValue', { value });
  return (
    <span className="copyable-id">
      <code className="id-code" title={value} data-testid={testId}>
        {value}
      </code>
      <button type="button" className="icon-button icon-button-small" aria-label={label} title={label} onClick={() => void copy()}>
        {status === 'copied' ? <CheckCircleIcon /> : <CopyIcon />}
      </button>
      <span className="visually-hidden" role="status">
        {status === 'copied' ? t('common.copied') : status === 'failed' ? t('common.copyFailed') : ''}
      </span>
    </span>
  );
}
