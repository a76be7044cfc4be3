import { useTranslation } from 'react-i18next';
import { EmptyState } from '../../app/EmptyState';
import { InboxIcon } from '../../app/icons';
import { selectHasProfile, useSessionStore } from '../../app/session.store';
import { SetupCallout } from '../onboarding/SetupCallout';

export function ApprovalsView() {
  const { t } = useTranslation();
  const hasProfile = useSessionStore(selectHasProfile);
  return (
    <div className="stack">
      {hasProfile ? null : <SetupCallout />}
      <EmptyState icon={<InboxIcon />} title={t('approvals.empty')} hint={t('approvals.emptyHint')} />
    </div>
  );
}
