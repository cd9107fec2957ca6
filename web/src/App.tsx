import type { ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, Route, Routes, useLocation } from 'react-router';

import { Layout } from './components/Layout';
import { RealtimeProvider } from './lib/realtime';
import { useSession } from './lib/session';
import { LoginPage, SignupPage } from './pages/AuthPages';
import { GoodsPage } from './pages/GoodsPage';
import { HomePage } from './pages/HomePage';
import { MyTicketsPage } from './pages/MyTicketsPage';

function NotFound() {
  const { t } = useTranslation();
  return <p role="alert">{t('app.pageNotFound')}</p>;
}

/** Pages for a logged-in user: others go to the login, and come back after it. */
function Private({ children }: { children: ReactElement }) {
  const { user } = useSession();
  const location = useLocation();
  if (user === undefined) {
    return null;
  }
  return user ? (
    children
  ) : (
    <Navigate to={`/login?next=${encodeURIComponent(location.pathname)}`} replace />
  );
}

export function App() {
  const { user } = useSession();
  return (
    <RealtimeProvider userId={user?.id}>
      <Layout>
        <Routes>
          <Route path="/" element={<HomePage />} />
          <Route path="/goods/:goodsId" element={<GoodsPage />} />
          <Route path="/login" element={<LoginPage />} />
          <Route path="/signup" element={<SignupPage />} />
          <Route
            path="/me/tickets"
            element={
              <Private>
                <MyTicketsPage />
              </Private>
            }
          />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </Layout>
    </RealtimeProvider>
  );
}
