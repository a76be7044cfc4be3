import { StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nextProvider } from 'react-i18next';
import { createI18n } from '../src-shared/i18n';
import { App } from './app/App';
import './styles.css';

// English until settings:get answers; App switches before its first painted frame.
const i18n = createI18n('en');

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

createRoot(container).render(
  <StrictMode>
    <I18nextProvider i18n={i18n}>
      {/* Bundled catalogs never suspend; the boundary keeps a lazily loaded one from crashing the root. */}
      <Suspense fallback={null}>
        <App />
      </Suspense>
    </I18nextProvider>
  </StrictMode>,
);
