import { useTranslation } from 'react-i18next';
import { EmptyState } from '../../app/EmptyState';
import { KeyIcon } from '../../app/icons';

export function FactorsView() {
  const { t } = useTranslation();
  return <EmptyState icon={<KeyIcon />} title={t('factors.empty')} hint={t('factors.emptyHint')} />;
}
