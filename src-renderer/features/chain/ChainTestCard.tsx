import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { SENSITIVITIES, type Sensitivity } from '../../../src-shared/domain/restore-request';
import { errorText } from '../../app/errors';
import { SelectField } from '../../app/SelectField';
import { ChainPrompt } from './ChainPrompt';
import { useChainStore } from './chain.store';

/**
 * "Test a chain" on the Factors screen (issue 10): runs the chain a sensitivity's policy asks for,
 * through the same prompt every step-up uses. The grant it earns serves `test:<sensitivity>`
 * only, which nothing consumes.
 */
export function ChainTestCard() {
  const { t } = useTranslation();
  const [sensitivity, setSensitivity] = useState<Sensitivity>('critical');
  // The one chain store serves every prompt: this card shows only its own test chains.
  const attempt = useChainStore((s) => (s.attempt?.purpose.startsWith('test:') ? s.attempt : null));
  const starting = useChainStore((s) => s.starting);
  const startError = useChainStore((s) => s.startError);
  const start = useChainStore((s) => s.start);
  const close = useChainStore((s) => s.close);
  const titleId = useId();
  const selectId = useId();
  const begin = () => void start(`test:${sensitivity}`, sensitivity);

  return (
    <section className="card panel" aria-labelledby={titleId} data-testid="chain-test-card">
      <div className="panel-header">
        <h2 id={titleId} className="section-heading">
          {t('chain.test.title')}
        </h2>
      </div>
      <p className="field-hint">{t('chain.test.intro')}</p>
      {attempt ? (
        <ChainPrompt onStartAgain={begin} onClose={close} />
      ) : (
        <form
          className="chain-test-form"
          onSubmit={(event) => {
            event.preventDefault();
            if (!starting) begin();
          }}
        >
          <SelectField
            id={selectId}
            label={t('chain.test.sensitivity')}
            value={sensitivity}
            options={SENSITIVITIES.map((s) => ({ value: s, label: t(`approvals.sensitivity.${s}`) }))}
            onChange={setSensitivity}
            testId="chain-test-sensitivity"
          />
          <button type="submit" className="button button-primary" disabled={starting} data-testid="chain-test-start">
            {t('chain.test.start')}
          </button>
        </form>
      )}
      {startError ? (
        <p className="notice notice-error" role="alert" data-testid="chain-start-error" data-code={startError.code}>
          {errorText(t, startError)}
        </p>
      ) : null}
    </section>
  );
}
