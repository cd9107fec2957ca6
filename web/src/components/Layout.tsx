import { useQueryClient } from '@tanstack/react-query';
import { type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, NavLink, useNavigate } from 'react-router';

import { api, call } from '../api/client';
import { LANGUAGES, type Language, setLanguage } from '../i18n';
import { useRealtimeLive } from '../lib/realtime';
import { useSession } from '../lib/session';

export function Layout({ children }: { children: ReactNode }) {
  const { t, i18n } = useTranslation();
  const { user } = useSession();
  const live = useRealtimeLive();
  const client = useQueryClient();
  const navigate = useNavigate();
  const logOut = async () => {
    await call(api.POST('/api/auth/logout')).catch(() => undefined);
    client.setQueryData(['me'], null);
    await client.invalidateQueries();
    void navigate('/');
  };
  return (
    <>
      <a className="skip" href="#main">
        {t('app.skipToContent')}
      </a>
      <header className="site-header">
        <Link to="/" className="brand">
          {t('app.name')}
        </Link>
        <nav aria-label={t('app.name')}>
          <NavLink to="/">{t('nav.shows')}</NavLink>
          {user && <NavLink to="/me/tickets">{t('nav.myTickets')}</NavLink>}
          {user && (user.role === 'host' || user.role === 'admin') && (
            <NavLink to="/host">{t('nav.host')}</NavLink>
          )}
          {user?.role === 'admin' && <NavLink to="/ops">{t('nav.operations')}</NavLink>}
        </nav>
        <div className="account">
          <label className="language">
            <span>{t('app.language')}</span>
            <select value={i18n.language} onChange={(e) => setLanguage(e.target.value as Language)}>
              {LANGUAGES.map((l) => (
                <option key={l} value={l}>
                  {l === 'ko' ? '한국어' : 'English'}
                </option>
              ))}
            </select>
          </label>
          {user ? (
            <>
              <span className="who">{t('nav.signedInAs', { nickname: user.nickname })}</span>
              <span role="status" className={live ? 'live on' : 'live off'}>
                {live ? t('nav.live') : t('nav.connecting')}
              </span>
              <button type="button" onClick={() => void logOut()}>
                {t('nav.logOut')}
              </button>
            </>
          ) : (
            <>
              <NavLink to="/login">{t('nav.logIn')}</NavLink>
              <NavLink to="/signup">{t('nav.signUp')}</NavLink>
            </>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
