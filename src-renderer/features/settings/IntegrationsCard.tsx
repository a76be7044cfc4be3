import { useCallback, useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { CreatedIntegration, GatewayStatus, IntegrationView } from '../../../src-shared/domain/restore-request';
import type { CustodianError } from '../../../src-shared/ipc/api';
import { ConfirmDialog } from '../../app/ConfirmDialog';
import { errorText, toCustodianError } from '../../app/errors';

/** Issue #5: integrations are created, listed and revoked here; a new key is shown once. */
export function IntegrationsCard() {
  const { t, i18n } = useTranslation();
  const [integrations, setIntegrations] = useState<IntegrationView[]>([]);
  const [gateway, setGateway] = useState<GatewayStatus | null>(null);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<CreatedIntegration | null>(null);
  const [error, setError] = useState<CustodianError | null>(null);
  const [busy, setBusy] = useState(false);
  const [revoking, setRevoking] = useState<IntegrationView | null>(null);
  const nameId = useId();
  const hintId = useId();
  const keyId = useId();
  const time = useMemo(() => new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' }), [i18n.language]);

  const reload = useCallback(async () => {
    try {
      setIntegrations(await window.custodian.integrations.list());
    } catch (e) {
      setError(toCustodianError(e));
    }
  }, []);

  useEffect(() => {
    const offs = [window.custodian.integrations.onChanged(() => void reload()), window.custodian.gateway.onStatus(setGateway)];
    void reload();
    window.custodian.gateway.status().then(setGateway, () => undefined);
    return () => {
      for (const off of offs) off();
    };
  }, [reload]);

  async function onAdd(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setCreated(await window.custodian.integrations.add(name));
      setName('');
      await reload();
    } catch (e) {
      setError(toCustodianError(e));
    } finally {
      setBusy(false);
    }
  }

  /** Revoke and Unmute: one call, then the list read again; a refusal shows in the card. */
  async function act(call: () => Promise<unknown>) {
    setError(null);
    setBusy(true);
    try {
      await call();
      await reload();
    } catch (e) {
      setError(toCustodianError(e));
    } finally {
      setBusy(false);
    }
  }

  const onUnmute = (id: string) => act(() => window.custodian.integrations.unmute(id));
  const onRevoke = (id: string) => act(() => window.custodian.integrations.revoke(id)).finally(() => setRevoking(null));

  function stateOf(integration: IntegrationView): string {
    if (integration.revokedAt) return t('settings.integrations.state.revoked');
    if (isMuted(integration) && integration.mutedUntil) {
      return t('settings.integrations.state.muted', { time: time.format(new Date(integration.mutedUntil)) });
    }
    return t('settings.integrations.state.active');
  }

  return (
    <section className="card form-card stack" aria-labelledby={`${nameId}-title`} data-testid="integrations-card">
      <h2 id={`${nameId}-title`} className="card-title">
        {t('settings.integrations.title')}
      </h2>
      {gateway ? (
        <p className="field-hint" data-testid="gateway-state" data-state={gateway.state}>
          {t('settings.gatewayStateLabel')}: {t(`settings.gatewayState.${gateway.state}`)} (127.0.0.1:{gateway.port})
        </p>
      ) : null}
      <form className="inline-form" onSubmit={(e) => void onAdd(e)}>
        <div className="field">
          <label htmlFor={nameId} className="field-label">
            {t('settings.integrations.name')}
          </label>
          <input
            id={nameId}
            className="input"
            value={name}
            maxLength={64}
            autoComplete="off"
            onChange={(e) => setName(e.target.value)}
            aria-describedby={hintId}
            data-testid="integration-name"
          />
          <p id={hintId} className="field-hint">
            {t('settings.integrations.hint')}
          </p>
        </div>
        <button type="submit" className="button button-primary" disabled={busy || name.trim() === ''} data-testid="integration-add">
          {t('settings.integrations.add')}
        </button>
      </form>
      {created ? (
        <div className="notice notice-info key-once" role="status">
          <p>{t('settings.integrations.keyOnce')}</p>
          <label htmlFor={keyId} className="field-label">
            {t('settings.integrations.keyLabel', { name: created.name })}
          </label>
          <input id={keyId} className="input key-input" readOnly value={created.key} onFocus={(e) => e.target.select()} data-testid="integration-key" />
          <button type="button" className="button button-secondary" onClick={() => setCreated(null)}>
            {t('settings.integrations.dismissKey')}
          </button>
        </div>
      ) : null}
      {error ? (
        <p className="notice notice-error" role="alert">
          {errorText(t, error)}
        </p>
      ) : null}
      {integrations.length === 0 ? (
        <p className="muted">{t('settings.integrations.empty')}</p>
      ) : (
        <ul className="integration-list">
          {integrations.map((integration) => (
            <li key={integration.id} className="integration-row" data-testid="integration-row" data-id={integration.id}>
              <div className="integration-main">
                <span className="integration-name">{integration.name}</span>
                <code className="hash">{integration.id}</code>
                <span className="integration-state">{stateOf(integration)}</span>
              </div>
              {integration.revokedAt ? null : (
                <div className="integration-actions">
                  {isMuted(integration) ? (
                    <button
                      type="button"
                      className="button button-secondary"
                      disabled={busy}
                      onClick={() => void onUnmute(integration.id)}
                      aria-label={t('settings.integrations.unmuteLabel', { name: integration.name })}
                      data-testid="integration-unmute"
                    >
                      {t('settings.integrations.unmute')}
                    </button>
                  ) : null}
                  <button
                    type="button"
                    className="button button-secondary"
                    onClick={() => setRevoking(integration)}
                    aria-label={t('settings.integrations.revokeLabel', { name: integration.name })}
                    data-testid="integration-revoke"
                  >
                    {t('settings.integrations.revoke')}
                  </button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {revoking ? (
        <ConfirmDialog
          title={t('settings.integrations.confirmRevoke.title', { name: revoking.name })}
          confirmLabel={t('settings.integrations.confirmRevoke.confirm')}
          busy={busy}
          onConfirm={() => void onRevoke(revoking.id)}
          onCancel={() => setRevoking(null)}
          testId="confirm-revoke"
        >
          <p>{t('settings.integrations.confirmRevoke.body')}</p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

/** Muted by a report, and the mute still runs: Unmute lifts it early (issue 9). */
function isMuted(integration: IntegrationView): boolean {
  return integration.revokedAt === null && integration.mutedUntil !== null && Date.parse(integration.mutedUntil) > Date.now();
}
