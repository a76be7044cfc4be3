import { useTranslation } from 'react-i18next';
import { EmptyState } from '../../app/EmptyState';
import { InboxIcon } from '../../app/icons';

export function ApprovalsView() {
  const { t } = useTranslation();
  return <EmptyState icon={<InboxIcon />} title={t('approvals.empty')} hint={t('approvals.emptyHint')} />;
}
