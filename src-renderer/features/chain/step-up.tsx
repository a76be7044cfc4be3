import { useCallback, useEffect, useRef, useState, type ComponentProps, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ChainStartPurpose } from '../../../src-shared/domain/policy';
import type { Sensitivity } from '../../../src-shared/domain/restore-request';
import { focusInitial } from '../../app/Dialog';
import { FormActions } from '../../app/FormActions';
import { useFormError, type FormError } from '../../app/form-error';
import { callError } from '../../app/session.store';
import { ChainPrompt } from './ChainPrompt';
import { useChainStore } from './chain.store';

export interface StepUpOptions<T> {
  /** What the chain's grant pays for; main binds the grant to it. */
  purpose: ChainStartPurpose;
  /**
   * The policy the chain runs at: critical unless the action says otherwise (an approval runs at
   * its request's sensitivity, issue 11).
   */
  sensitivity?: Sensitivity | undefined;
  /**
   * Start with the chain instead of trying the action first. For an action whose every try is
   * audited as a deny (an approval without a grant is one: issue 11's gate 2), so the log does
   * not carry a refusal before each approval. Its refusals then come after the chain.
   */
  chainFirst?: boolean | undefined;
  /** The guarded call: tried first, and once more when the chain completes. */
  action(): Promise<T>;
  onDone(result: T): void;
  /**
   * The form's own Cancel (close the dialog, leave the step), shown under the prompt while it
   * stands in for the form's buttons.
   */
  onCancel(): void;
  cancelLabel?: string | undefined;
  cancelTestId?: string | undefined;
}

export interface StepUp {
  /** Tries the action; on ERR-MFA-REQUIRED starts the chain, and tries again once it completes. */
  run(): Promise<void>;
  /** The action (or the chain's start) is under way. */
  busy: boolean;
  /** A chain was asked for this action: its form's submit waits, its inputs hold still. */
  chaining: boolean;
  /**
   * The prompt is on screen, with its own Cancel under it: the form hides its buttons meanwhile,
   * so the page reads text, then chain, then Cancel.
   */
  shown: boolean;
  /** The action's refusal, or the chain's start's, with the rate-limit countdown if any. */
  form: FormError;
  /** The chain prompt, or null. Render it after the form, not in it: its step forms cannot nest. */
  prompt: ReactNode;
}

/**
 * The one home for "try, chain on ERR-MFA-REQUIRED, retry once the chain completes" (issue 10:
 * one chain prompt, driven by a store, used everywhere a step-up is needed). The action is tried
 * first because main checks everything else (an admin's last factor, a policy that would become
 * unsatisfiable, a factor that is gone) before the grant: the user hears the real refusal before
 * being asked for a chain (unless `chainFirst`). The chain is at the critical policy unless the
 * caller names another; main binds its grant to `purpose`, so a grant earned here serves this one
 * action only.
 */
export function useStepUp<T>(options: StepUpOptions<T>): StepUp {
  const { t } = useTranslation();
  const { purpose, action, onDone } = options;
  const startChain = useChainStore((s) => s.start);
  const form = useFormError();
  const [busy, setBusy] = useState(false);
  // The purpose the chain was started for: what the user picks may change under a running chain
  // (the role), but the chain shown is the one started.
  const [chainFor, setChainFor] = useState<ChainStartPurpose | null>(null);
  const attempt = useChainStore((s) => (chainFor !== null && s.attempt?.purpose === chainFor ? s.attempt : null));

  // Read at call time, so a retry after the chain sends what the form holds then.
  const sensitivity = options.sensitivity ?? 'critical';
  const chainFirst = options.chainFirst ?? false;
  const latest = useRef({ purpose, sensitivity, action, onDone, form });
  useEffect(() => {
    latest.current = { purpose, sensitivity, action, onDone, form };
  });
  const chainRef = useRef<ChainStartPurpose | null>(null);
  const running = useRef(false);
  const retried = useRef<string | null>(null);
  const promptRef = useRef<HTMLDivElement>(null);

  const endChain = useCallback(() => {
    const ours = chainRef.current;
    chainRef.current = null;
    setChainFor(null);
    if (ours === null) return;
    // The store is shared (the Factors screen's "test a chain" uses it too): close only our chain.
    const store = useChainStore.getState();
    if (store.attempt === null || store.attempt.purpose === ours) store.close();
  }, []);

  /**
   * Ends the chain without the action done (a refusal, or Close after the time ran out). The
   * focused field goes with the prompt; the keyboard user lands where the dialog or form starts
   * (its `data-autofocus`: Cancel in a confirmation), not on the page's body.
   */
  const endChainAndRefocus = useCallback(() => {
    const prompt = promptRef.current;
    const scope = prompt?.closest('dialog') ?? prompt?.parentElement ?? null;
    endChain();
    if (!scope) return;
    requestAnimationFrame(() => {
      if (!document.activeElement || document.activeElement === document.body) focusInitial(scope);
    });
  }, [endChain]);

  const begin = useCallback(
    async (chainPurpose: ChainStartPurpose) => {
      chainRef.current = chainPurpose;
      setChainFor(chainPurpose);
      retried.current = null;
      latest.current.form.clear();
      await startChain(chainPurpose, latest.current.sensitivity);
      const { startError } = useChainStore.getState();
      if (startError && chainRef.current === chainPurpose) {
        endChainAndRefocus();
        latest.current.form.show(startError);
      }
    },
    [startChain, endChainAndRefocus],
  );

  // `afterChain`: the chain this hook started has completed, and its grant is there to be spent.
  const attemptAction = useCallback(async (afterChain: boolean) => {
    if (running.current) return;
    running.current = true;
    setBusy(true);
    latest.current.form.clear();
    try {
      const result = await latest.current.action();
      if (afterChain) endChain();
      latest.current.onDone(result);
    } catch (failure) {
      const error = callError(failure);
      if (error.code === 'ERR-MFA-REQUIRED' && !afterChain) {
        await begin(latest.current.purpose);
      } else {
        // Refused even with the chain passed (the grant lapsed, or something else changed): say
        // why, and let the user try again from the action's own button.
        if (afterChain) endChainAndRefocus();
        latest.current.form.show(error);
      }
    } finally {
      running.current = false;
      setBusy(false);
    }
  }, [begin, endChain, endChainAndRefocus]);

  // While a chain runs, its completion tries again; a second submit of the form (Enter in a field
  // under a prompt that replaced the buttons) must not try without it.
  const run = useCallback(() => {
    if (chainRef.current !== null || running.current) return Promise.resolve();
    return chainFirst ? begin(latest.current.purpose) : attemptAction(false);
  }, [attemptAction, begin, chainFirst]);

  // The chain completed: its grant pays for the action, tried again now, once per attempt.
  const completedId = attempt?.status === 'completed' ? attempt.attemptId : null;
  useEffect(() => {
    if (completedId === null || retried.current === completedId) return;
    retried.current = completedId;
    void attemptAction(true);
  }, [completedId, attemptAction]);

  // Leaving (a dialog closed with Escape) drops the chain with it, so no prompt lingers elsewhere.
  useEffect(() => endChain, [endChain]);

  const prompt = attempt ? (
    <div className="step-up stack" ref={promptRef}>
      <ChainPrompt stepUp onStartAgain={() => void begin(attempt.purpose)} onClose={endChainAndRefocus} />
      {attempt.status === 'open' ? (
        <div className="button-row button-row-end">
          <button type="button" className="button button-secondary" onClick={options.onCancel} data-testid={options.cancelTestId}>
            {options.cancelLabel ?? t('common.cancel')}
          </button>
        </div>
      ) : null}
    </div>
  ) : null;
  return { run, busy, chaining: chainFor !== null, shown: attempt !== null, form, prompt };
}

type StepUpActionsProps = Omit<ComponentProps<typeof FormActions>, 'busy' | 'disabled'> & {
  stepUp: StepUp;
  /** The form's own reasons to wait (nothing chosen yet). */
  disabled?: boolean;
};

/**
 * A step-up form's Cancel and submit: busy while the action runs, held while a chain is asked for
 * or a rate limit runs, and gone while the prompt (with its own Cancel) stands in for them.
 */
export function StepUpActions({ stepUp, disabled = false, ...actions }: StepUpActionsProps) {
  if (stepUp.shown) return null;
  return <FormActions {...actions} busy={stepUp.busy} disabled={disabled || stepUp.busy || stepUp.chaining || stepUp.form.blocked} />;
}
