import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { INCIDENT_LEAVE_PURPOSE } from '../../../src-shared/domain/incident';
import { errorText } from '../../app/errors';
import { AlertIcon } from '../../app/icons';
import { ChainPrompt } from '../chain/ChainPrompt';
import { useChainStore } from '../chain/chain.store';
import { useIncidentStore } from './incident.store';

/**
 * The incident-mode switch on the Approvals screen (issue 11; DESIGN.md "Domain"). A real button
 * with role="switch", so Space and Enter work and a screen reader says "on" or "off". Turning it
 * on is one press. Turning it off asks main first; main wants a step-up grant, so the one chain
 * prompt runs at the critical policy for `incident:leave`, and when it completes the same change
 * is asked for again (as the Policies screen saves a weakening).
 */
export function IncidentSwitch() {
  const { t } = useTranslation();
  const state = useIncidentStore((s) => s.state);
  const busy = useIncidentStore((s) => s.busy);
  const error = useIncidentStore((s) => s.error);
  const outcome = useIncidentStore((s) => s.outcome);
  const turnOn = useIncidentStore((s) => s.turnOn);
  const turnOff = useIncidentStore((s) => s.turnOff);
  const attempt = useChainStore((s) => s.attempt);
  const startChain = useChainStore((s) => s.start);
  const closeChain = useChainStore((s) => s.close);
  const startError = useChainStore((s) => s.startError);
  const [leaving, setLeaving] = useState(false);
  const asking = useRef(false);
  const titleId = useId();
  const hintId = useId();
  const on = state?.on === true;
  const chainShown = leaving && attempt?.purpose === INCIDENT_LEAVE_PURPOSE;

  async function leave(): Promise<void> {
    if (asking.current) return;
    asking.current = true;
    try {
      const result = await turnOff();
      if (result === 'needs-chain' && !leaving) {
        setLeaving(true);
        await startChain(INCIDENT_LEAVE_PURPOSE, 'critical');
        return;
      }
      if (leaving) closeChain();
      setLeaving(false);
    } finally {
      asking.current = false;
    }
  }

  // The chain completed: its grant pays for turning incident mode off, asked for now.
  useEffect(() => {
    if (leaving && attempt?.purpose === INCIDENT_LEAVE_PURPOSE && attempt.status === 'completed') void leave();
    // leave() reads the state as it is when the chain completes.
  }, [leaving, attempt?.purpose, attempt?.status]);

  // Turned off elsewhere (another window, a shell) while this chain ran: nothing left to do here.
  useEffect(() => {
    if (leaving && state?.on === false) {
      closeChain();
      setLeaving(false);
    }
  }, [leaving, state?.on, closeChain]);

  function onToggle(): void {
    if (busy || chainShown) return;
    if (on) void leave();
    else void turnOn();
  }

  return (
    <section className={`card panel incident-card${on ? ' incident-card-on' : ''}`} aria-labelledby={titleId} data-testid="incident-card" data-state={on ? 'on' : 'off'}>
      <div className="incident-row">
        <div className="incident-text">
          <h2 id={titleId} className="section-heading">
            {t('incident.switchLabel')}
          </h2>
          <p id={hintId} className="field-hint">
            {t('incident.switchHint')}
          </p>
        </div>
        <button
          type="button"
          role="switch"
          className="switch"
          aria-checked={on}
          aria-labelledby={titleId}
          aria-describedby={hintId}
          disabled={state === null || busy || chainShown}
          onClick={onToggle}
          data-testid="incident-switch"
        >
          <span className="switch-track" aria-hidden="true">
            <span className="switch-thumb" />
          </span>
          <span className="switch-text" aria-hidden="true">
            {on ? t('incident.on') : t('incident.off')}
          </span>
        </button>
      </div>
      {leaving ? (
        <p className="notice notice-warning notice-small" role="status" data-testid="incident-needs-chain">
          {t('incident.leaveNeedsChain')}
        </p>
      ) : null}
      {error ? (
        <p className="notice notice-error" role="alert" data-testid="incident-error" data-code={error.code}>
          {errorText(t, error)}
        </p>
      ) : null}
      {leaving && startError ? (
        <p className="notice notice-error" role="alert" data-testid="incident-chain-error" data-code={startError.code}>
          {errorText(t, startError)}
        </p>
      ) : null}
      {chainShown ? (
        <ChainPrompt
          onStartAgain={() => void startChain(INCIDENT_LEAVE_PURPOSE, 'critical')}
          onClose={() => {
            closeChain();
            setLeaving(false);
          }}
        />
      ) : null}
      <p className="status-line muted" role="status" data-testid="incident-status">
        {outcome ? t(`incident.${outcome}`) : ''}
      </p>
    </section>
  );
}

/**
 * Across the top of the window on every screen while incident mode is on (issue 11), so no
 * approver misses it. Polite: it is announced when it appears, not on every screen change.
 */
export function IncidentBanner({ onOpen }: { onOpen: (() => void) | null }) {
  const { t } = useTranslation();
  const state = useIncidentStore((s) => s.state);
  if (!state?.on) return null;
  return (
    <div className="incident-banner" role="status" aria-live="polite" data-testid="incident-banner">
      <AlertIcon className="incident-banner-icon" />
      <p className="incident-banner-text">
        <strong>{t('incident.banner')}</strong>
        {state.changedBy && state.changedAt ? (
          <span className="incident-banner-detail">
            {' '}
            {t('incident.bannerBy', { by: state.changedBy, at: new Date(state.changedAt) })}
          </span>
        ) : null}
      </p>
      {onOpen ? (
        <button type="button" className="button button-secondary button-small" onClick={onOpen} data-testid="incident-banner-open">
          {t('incident.manage')}
        </button>
      ) : null}
    </div>
  );
}
