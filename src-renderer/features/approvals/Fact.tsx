import type { ReactNode } from 'react';
import { revealHidden } from '../../../src-shared/domain/restore-request';

/**
 * What an approver reads must be what the tool sent (issue 9): any hidden or bidi control
 * character still stored is shown as `⟨U+202E⟩`, paths and ids run left to right in their own
 * isolate, and free text takes its direction from its own first letter, so nothing in a value
 * can reorder the text around it.
 */
export function Fact({ label, value, testId, code, tag }: { label: string; value: string; testId?: string; code?: boolean; tag?: ReactNode }) {
  const shown = revealHidden(value);
  return (
    <div className="request-fact">
      <dt>
        {tag ? (
          <span className="fact-label-tagged">
            <span dir="auto">{label}</span>
            {tag}
          </span>
        ) : (
          label
        )}
      </dt>
      <dd data-testid={testId}>
        {code ? (
          <code className="path" dir="ltr">
            {shown}
          </code>
        ) : (
          <span className="plain-text" dir="auto">
            {shown}
          </span>
        )}
      </dd>
    </div>
  );
}
