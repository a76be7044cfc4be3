import { useCallback, useEffect, useId, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { SmsConfigView, SmsTestResult } from '../../../src-shared/domain/sms';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { errorText, toCustodianError } from '../../app/errors';
import { SubmitButton } from '../../app/FormActions';
import { SMS_CONFIGURE_PURPOSE } from '../../../src-shared/domain/policy';
import { StepUpActions, useStepUp } from '../chain/step-up';

type SmsFieldName = 'accountSid' | 'authToken' | 'sender' | 'to';
const FIELDS: readonly SmsFieldName[] = ['accountSid', 'authToken', 'sender', 'to'];

/** A validation error names its field: the message goes under that field instead of the card. */
function fieldOf(error: CustodianError | null): SmsFieldName | null {
  const field = error?.code === 'ERR-VALIDATION' ? error.details?.field : undefined;
  return typeof field === 'string' && (FIELDS as readonly string[]).includes(field) ? (field as SmsFieldName) : null;
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
  const [loadError, setLoadError] = useState<CustodianError | null>(null);
  const [testError, setTestError] = useState<CustodianError | null>(null);
  const [saved, setSaved] = useState(false);
  const [sent, setSent] = useState<SmsTestResult | null>(null);
  const [busy, setBusy] = useState<'test' | null>(null);
  const id = useId();

  const load = useCallback(async () => {
    try {
      setView(await window.custodian.sms.getConfig());
    } catch (e) {
      setLoadError(toCustodianError(e));
    }
  }, []);
  useEffect(() => void load(), [load]);

  // Saving takes a chain at the critical policy (`sms:configure`): whoever holds the credentials
  // could read every code sent. Tried first, so a malformed field is said before any chain.
  const stepUp = useStepUp({
    purpose: SMS_CONFIGURE_PURPOSE,
    action: () => {
      const token = authToken.trim();
      return window.custodian.sms.setConfig({ accountSid: accountSid.trim(), sender, ...(token ? { authToken: token } : {}) });
    },
    onDone: (saved) => {
      setView(saved);
      setAuthToken('');
      setSaved(true);
    },
    onCancel: () => clearDraft(),
  });

  /** Cancel: the typed values go (the token first of all); what is saved stays. */
  function clearDraft(): void {
    setAccountSid('');
    setAuthToken('');
    setSender('');
    setSaved(false);
  }
  const saveError = stepUp.form.state?.error ?? loadError;

  function onSave(event: FormEvent) {
    event.preventDefault();
    if (stepUp.chaining) return;
    setSaved(false);
    setLoadError(null);
    void stepUp.run();
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

      <form className="stack" onSubmit={onSave} noValidate>
        <div className="field-grid">
          <SmsField id={id} field="accountSid" error={saveField} label={t('settings.sms.accountSid')} hint={t('settings.sms.accountSidHint')}>
            {(props) => (
              <input
                {...props}
                value={accountSid}
                maxLength={64}
                placeholder={view?.accountSidLast4 ? `AC…${view.accountSidLast4}` : 'AC…'}
                onChange={(e) => setAccountSid(e.target.value)}
                data-testid="sms-account-sid"
              />
            )}
          </SmsField>
          {/* Write-only: main never sends the token back, so there is nothing to show here. */}
          <SmsField
            id={id}
            field="authToken"
            error={saveField}
            label={t('settings.sms.authToken')}
            hint={view?.authTokenSet ? t('settings.sms.authTokenKeep') : t('settings.sms.authTokenHint')}
          >
            {(props) => (
              <input
                {...props}
                type="password"
                value={authToken}
                maxLength={64}
                autoComplete="new-password"
                onChange={(e) => setAuthToken(e.target.value)}
                data-testid="sms-auth-token"
              />
            )}
          </SmsField>
          <SmsField id={id} field="sender" error={saveField} label={t('settings.sms.sender')} hint={t('settings.sms.senderHint')}>
            {(props) => (
              <input
                {...props}
                value={sender}
                maxLength={80}
                placeholder={view?.senderMasked ?? '+1 415 555 0100'}
                onChange={(e) => setSender(e.target.value)}
                data-testid="sms-sender"
              />
            )}
          </SmsField>
        </div>
        <StepUpActions stepUp={stepUp} onCancel={clearDraft} disabled={busy !== null || accountSid.trim() === '' || sender.trim() === ''} testId="sms-save">
          {t('settings.sms.save')}
        </StepUpActions>
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
      {/* After the form, not in it: the prompt's step forms cannot nest. */}
      {stepUp.prompt}

      <form className="stack" onSubmit={(e) => void onTest(e)} noValidate aria-labelledby={`${id}-test-title`}>
        <h3 id={`${id}-test-title`} className="card-title">
          {t('settings.sms.testTitle')}
        </h3>
        <div className="inline-form">
          <SmsField id={id} field="to" error={testField} label={t('settings.sms.testTo')} hint={t('settings.sms.testToHint')}>
            {(props) => <input {...props} type="tel" value={to} maxLength={80} onChange={(e) => setTo(e.target.value)} data-testid="sms-test-to" />}
          </SmsField>
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

interface SmsFieldInputProps {
  id: string;
  className: string;
  autoComplete: string;
  spellCheck: boolean;
  'aria-invalid': true | undefined;
  'aria-describedby': string;
}

/**
 * One labelled input of the card with its hint and, when main refused that field, the field's
 * own message under it (announced once, and named by the input's aria-describedby).
 */
function SmsField(props: {
  id: string;
  field: SmsFieldName;
  error: SmsFieldName | null;
  label: string;
  hint: string;
  children: (input: SmsFieldInputProps) => ReactNode;
}) {
  const { t } = useTranslation();
  const { field, error } = props;
  const id = `${props.id}-${field}`;
  const invalid = error === field;
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {props.label}
      </label>
      {props.children({
        id,
        className: 'input',
        autoComplete: 'off',
        spellCheck: false,
        'aria-invalid': invalid ? true : undefined,
        'aria-describedby': `${id}-hint${invalid ? ` ${id}-error` : ''}`,
      })}
      <p id={`${id}-hint`} className="field-hint">
        {props.hint}
      </p>
      {invalid ? (
        <p id={`${id}-error`} className="field-error" role="alert" data-testid={`sms-${field}-error`}>
          {t(`settings.sms.fields.${field}`)}
        </p>
      ) : null}
    </div>
  );
}
