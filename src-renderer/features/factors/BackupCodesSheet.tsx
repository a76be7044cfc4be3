import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useDateFormats } from '../../app/format';
import { CheckCircleIcon, CopyIcon, DownloadIcon, PrinterIcon } from '../../app/icons';
import { useSessionStore } from '../../app/session.store';

const FILE_NAME = 'custodian-backup-codes.txt';
const COPY_STATUS_MS = 4000;

type CopyStatus = 'idle' | 'copied' | 'failed';

/**
 * The one-time display of backup codes (DESIGN.md "Backup codes"): a grid to read, copy, save or
 * print, and a checkbox the approver must tick before leaving, because the codes cannot be shown
 * again.
 */
export function BackupCodesSheet({ codes, intro, onDone }: { codes: readonly string[]; intro: string; onDone(): void }) {
  const { t } = useTranslation();
  const formats = useDateFormats();
  const principal = useSessionStore((state) => state.profile?.principal ?? '');
  const [stored, setStored] = useState(false);
  const [copyStatus, setCopyStatus] = useState<CopyStatus>('idle');
  const [fileUrl, setFileUrl] = useState<string | null>(null);
  const generatedAt = useRef(new Date().toISOString()).current;
  const copyButton = useRef<HTMLButtonElement>(null);
  const listId = useId();
  const checkboxId = useId();

  const note = t('factors.codes.fileNote', { date: formats.dateTime(generatedAt), principal });
  const title = t('factors.codes.fileTitle');

  // An object URL for <a download>: no navigation, nothing leaves the machine but the file the
  // approver saves. Revoked when the sheet goes, so the codes do not linger in a blob.
  useEffect(() => {
    const text = [title, note, '', ...codes.map((code, index) => `${String(index + 1).padStart(2, ' ')}. ${code}`), ''].join('\n');
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    setFileUrl(url);
    return () => URL.revokeObjectURL(url);
  }, [codes, note, title]);

  // Whatever had focus (the code form) is gone; start on the first thing to do with the codes.
  useEffect(() => {
    copyButton.current?.focus();
  }, []);

  useEffect(() => {
    if (copyStatus === 'idle') return;
    const timer = setTimeout(() => setCopyStatus('idle'), COPY_STATUS_MS);
    return () => clearTimeout(timer);
  }, [copyStatus]);

  async function copyAll() {
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      setCopyStatus('copied');
    } catch {
      setCopyStatus('failed');
    }
  }

  function print() {
    // The print stylesheet shows only the codes while this class is on (styles.css, @media print).
    const root = document.documentElement;
    const done = () => {
      root.classList.remove('printing-codes');
      window.removeEventListener('afterprint', done);
    };
    root.classList.add('printing-codes');
    window.addEventListener('afterprint', done);
    window.print();
  }

  return (
    <div className="stack">
      <p>{intro}</p>
      <div className="backup-sheet print-area" data-testid="backup-codes">
        <div className="print-only">
          <p className="print-title">{title}</p>
          <p>{note}</p>
        </div>
        <p id={listId} className="visually-hidden">
          {t('factors.codes.listLabel')}
        </p>
        <ol className="code-grid" aria-labelledby={listId}>
          {codes.map((code) => (
            <li key={code} className="code-grid-item">
              <code data-testid="backup-code">{code}</code>
            </li>
          ))}
        </ol>
      </div>
      <div className="button-row">
        <button
          ref={copyButton}
          type="button"
          className="button button-secondary"
          onClick={() => void copyAll()}
          data-testid="backup-codes-copy"
          data-autofocus=""
        >
          <CopyIcon />
          {t('factors.codes.copyAll')}
        </button>
        {fileUrl ? (
          <a className="button button-secondary" href={fileUrl} download={FILE_NAME} data-testid="backup-codes-save">
            <DownloadIcon />
            {t('factors.codes.saveFile')}
          </a>
        ) : null}
        <button type="button" className="button button-secondary" onClick={print} data-testid="backup-codes-print">
          <PrinterIcon />
          {t('factors.codes.print')}
        </button>
        <p className={copyStatus === 'failed' ? 'status-line status-bad' : 'status-line'} role="status">
          {copyStatus === 'copied' ? t('common.copied') : copyStatus === 'failed' ? t('common.copyFailed') : ''}
        </p>
      </div>
      <div className="checkbox-row">
        <input
          id={checkboxId}
          type="checkbox"
          className="checkbox"
          checked={stored}
          onChange={(event) => setStored(event.target.checked)}
          data-testid="backup-codes-stored"
        />
        <label htmlFor={checkboxId}>{t('factors.codes.stored')}</label>
      </div>
      <div className="button-row button-row-end">
        <button type="button" className="button button-primary" disabled={!stored} onClick={onDone} data-testid="backup-codes-done">
          <CheckCircleIcon />
          {t('common.done')}
        </button>
      </div>
    </div>
  );
}
