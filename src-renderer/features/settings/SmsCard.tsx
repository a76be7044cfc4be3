import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { SmsConfigView, SmsTestResult } from '../../../src-shared/domain/sms';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { errorText, toCustodianError } from '../../app/errors';
import { SubmitButton } from '../../app/FormActions';

type SmsField = 'accountSid' | 'authToken' | 'sender' | 'to';
const FIELDS: readonly SmsField[] = ['accountSid', 'authToken', 'sender', 'to'];

/** A validation error names its field: the message goes under that field instead of the card. */
function fieldOf(error: CustodianError | null): SmsField | null {
  const field = error?.code === 'ERR-VALIDATION' ? error.details?.field : undefined;
  return typeof field === 'string' && (FIELDS as readonly string[]).includes(field) ? (field as SmsField) : null;
}

/**
 * SMS through Twilio (issue 12): the account SID, auth token and sender go to the keychain in
 * main; the window gets back only what is set, masked. The token field is write-only: it starts
 * empty every time and is cleared once saved.
 */
export function SmsCard() {
  const { t } = useTranslation();
  const [view, setView] = useState<SmsConfigView | null>(null);
  const [accountSid, setAccountSid] = useState('');
  const [authToken, setAuthToken] = useState('');
  const [sender, setSender] = useState('');
  const [to, setTo] = useState('');
  const [saveError, setSaveError] = useState<CustodianError | null>(null);
  const [testError, setTestError] = useState<CustodianError | null>(null);
  const [saved, setSaved] = useState(false);
  const [sent, setSent] = useState<SmsTestResult | null>(null);
  const [busy, setBusy] = useState<'save' | 'test' | null>(null);
  const id = useId();

  const load = useCallback(async () => {
    try {
      setView(await window.custodian.sms.getConfig());
    } catch (e) {
      setSaveError(toCustodianError(e));
    }
  }, []);
  useEffect(() => void load(), [load]);

  async function onSave(event: FormEvent) {
    event.preventDefault();
    setBusy('save');
    setSaveError(null);
    setSaved(false);
    try {
      const token = authToken.trim();
      setView(await window.custodian.sms.setConfig({ accountSid: accountSid.trim(), sender, ...(token ? { authToken: token } : {}) }));
      setAuthToken('');
      setSaved(true);
    } catch (e) {
      setSaveError(toCustodianError(e));
    } finally {
      setBusy(null);
    }
  }

  async function onTest(event: FormEvent) {
    event.preventDefault();
    setBusy('test');
    setTestError(null);
    setSent(null);
    try {
      setSent(await window.custodian.sms.test(to));
    } catch (e) {
      setTestError(toCustodianError(e));
    } finally {
      setBusy(null);
    }
  }

  const saveField = fieldOf(saveError);
  const testField = fieldOf(testError);
  const fieldProps = (field: SmsField, error: SmsField | null) => ({
    id: `${id}-${field}`,
    'aria-invalid': error === field ? true : undefined,
    'aria-describedby': `${id}-${field}-hint${error === field ? ` ${id}-${field}-error` : ''}`,
  });
  const fieldError = (field: SmsField, error: SmsField | null) =>
    error === field ? (
      <p id={`${id}-${field}-error`} className="field-error" role="alert" data-testid={`sms-${field}-error`}>
        {t(`settings.sms.fields.${field}`)}
      </p>
    ) : null;

  return (
    <section className="card form-card stack" aria-labelledby={`${id}-title`} data-testid="sms-card">
      <h2 id={`${id}-title`} className="card-title">
        {t('settings.sms.title')}
      </h2>
      <p className="field-hint">{t('settings.sms.hint')}</p>
      {view ? (
        <p className="field-hint" data-testid="sms-state" data-configured={view.configured}>
          {view.configured
            ? t('settings.sms.state.configured', { last4: view.accountSidLast4 ?? '', sender: view.senderMasked ?? '' })
            : t('settings.sms.state.notConfigured')}
        </p>
      ) : null}

      <form className="stack" onSubmit={(e) => void onSave(e)} noValidate>
        <div className="field-grid">
          <div className="field">
            <label htmlFor={`${id}-accountSid`} className="field-label">
              {t('settings.sms.accountSid')}
            </label>
            <input
              {...fieldProps('accountSid', saveField)}
              className="input"
              value={accountSid}
              maxLength={64}
              autoComplete="off"
              spellCheck={false}
              placeholder={view?.accountSidLast4 ? `AC…${view.accountSidLast4}` : 'AC…'}
              onChange={(e) => setAccountSid(e.target.value)}
              data-testid="sms-account-sid"
            />
            <p id={`${id}-accountSid-hint`} className="field-hint">
              {t('settings.sms.accountSidHint')}
            </p>
            {fieldError('accountSid', saveField)}
          </div>
          <div className="field">
            <label htmlFor={`${id}-authToken`} className="field-label">
              {t('settings.sms.authToken')}
            </label>
            {/* Write-only: main never sends the token back, so there is nothing to show here. */}
            <input
              {...fieldProps('authToken', saveField)}
              className="input"
              type="password"
              value={authToken}
              maxLength={64}
              autoComplete="new-password"
              spellCheck={false}
              onChange={(e) => setAuthToken(e.target.value)}
              data-testid="sms-auth-token"
            />
            <p id={`${id}-authToken-hint`} className="field-hint">
              {view?.authTokenSet ? t('settings.sms.authTokenKeep') : t('settings.sms.authTokenHint')}
            </p>
            {fieldError('authToken', saveField)}
          </div>
          <div className="field">
            <label htmlFor={`${id}-sender`} className="field-label">
              {t('settings.sms.sender')}
            </label>
            <input
              {...fieldProps('sender', saveField)}
              className="input"
              value={sender}
              maxLength={80}
              autoComplete="off"
              spellCheck={false}
              placeholder={view?.senderMasked ?? '+1 415 555 0100'}
              onChange={(e) => setSender(e.target.value)}
              data-testid="sms-sender"
            />
            <p id={`${id}-sender-hint`} className="field-hint">
              {t('settings.sms.senderHint')}
            </p>
            {fieldError('sender', saveField)}
          </div>
        </div>
        <div>
          <SubmitButton busy={busy === 'save'} disabled={busy !== null || accountSid.trim() === '' || sender.trim() === ''} testId="sms-save">
            {t('settings.sms.save')}
          </SubmitButton>
        </div>
        {saveError && !saveField ? (
          <p className="notice notice-error" role="alert" data-testid="sms-save-error" data-code={saveError.code}>
            {errorText(t, saveError)}
          </p>
        ) : null}
        {saved ? (
          <p className="notice notice-ok" role="status" data-testid="sms-saved">
            {t('settings.sms.saved')}
          </p>
        ) : null}
      </form>

      <form className="stack" onSubmit={(e) => void onTest(e)} noValidate aria-labelledby={`${id}-test-title`}>
        <h3 id={`${id}-test-title`} className="card-title">
          {t('settings.sms.testTitle')}
        </h3>
        <div className="inline-form">
          <div className="field">
            <label htmlFor={`${id}-to`} className="field-label">
              {t('settings.sms.testTo')}
            </label>
            <input
              {...fieldProps('to', testField)}
              className="input"
              type="tel"
              value={to}
              maxLength={80}
              autoComplete="off"
              onChange={(e) => setTo(e.target.value)}
              data-testid="sms-test-to"
            />
            <p id={`${id}-to-hint`} className="field-hint">
              {t('settings.sms.testToHint')}
            </p>
            {fieldError('to', testField)}
          </div>
          <SubmitButton
            busy={busy === 'test'}
            disabled={busy !== null || !view?.configured || to.trim() === ''}
            testId="sms-test-send"
            className="button button-secondary"
          >
            {t('settings.sms.testSend')}
          </SubmitButton>
        </div>
        {testError && !testField ? (
          <p className="notice notice-error" role="alert" data-testid="sms-test-error" data-code={testError.code}>
            {errorText(t, testError)}
          </p>
        ) : null}
        {sent ? (
          <p className="notice notice-ok" role="status" data-testid="sms-test-sent">
            {t('settings.sms.testSent', { to: sent.toMasked, sid: sent.sid })}
          </p>
        ) : null}
      </form>
    </section>
  );
}
