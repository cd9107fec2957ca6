import { lazy, type ReactElement, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, Route, Routes, useLocation } from 'react-router';

import { Layout } from './components/Layout';
import { RealtimeProvider } from './lib/realtime';
import { useSession } from './lib/session';
import { LoginPage, SignupPage } from './pages/AuthPages';
import { GoodsPage } from './pages/GoodsPage';
import { HomePage } from './pages/HomePage';
import { EditGoodsPage, HostPage, NewGoodsPage } from './pages/HostPages';
import { MyTicketsPage } from './pages/MyTicketsPage';

export const HOSTS = ['host', 'admin'];

// Charts (uPlot) only for the admins who open this page: not in everyone's first load.
const OperationsPage = lazy(() =>
  import('./pages/OperationsPage').then((m) => ({ default: m.OperationsPage })),
);

function NotFound() {
  const { t } = useTranslation();
  return <p role="alert">{t('app.pageNotFound')}</p>;
}

/**
 * Pages for a logged-in user (with one of `roles`, when given): others go to the login and
 * come back after it; a user without the role is told so.
 */
function Private({ children, roles }: { children: ReactElement; roles?: string[] }) {
  const { t } = useTranslation();
  const { user } = useSession();
  const location = useLocation();
  if (user === undefined) {
    return null;
  }
  if (!user) {
    return <Navigate to={`/login?next=${encodeURIComponent(location.pathname)}`} replace />;
  }
  return roles && !roles.includes(user.role) ? <p role="alert">{t('host.forbidden')}</p> : children;
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
          <Route
            path="/host"
            element={
              <Private roles={HOSTS}>
                <HostPage />
              </Private>
            }
          />
          <Route
            path="/host/new"
            element={
              <Private roles={HOSTS}>
                <NewGoodsPage />
              </Private>
            }
          />
          <Route
            path="/host/goods/:goodsId"
            element={
              <Private roles={HOSTS}>
                <EditGoodsPage />
              </Private>
            }
          />
          <Route
            path="/ops"
            element={
              <Private roles={['admin']}>
                <Suspense fallback={null}>
                  <OperationsPage />
                </Suspense>
              </Private>
            }
          />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </Layout>
    </RealtimeProvider>
  );
}
