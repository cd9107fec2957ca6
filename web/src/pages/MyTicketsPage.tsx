import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';

import { api, call } from '../api/client';
import { ConfirmButton } from '../components/ConfirmButton';
import { useRealtimeEvent } from '../lib/realtime';
import { describeError, errorText } from '../lib/words';

export function MyTicketsPage() {
  const { t, i18n } = useTranslation();
  const client = useQueryClient();
  const [notice, setNotice] = useState<string>();
  const [problem, setProblem] = useState<string>();
  const bookings = useQuery({
    queryKey: ['myBookings'],
    queryFn: () => call(api.GET('/api/me/bookings', { params: { query: { limit: 100 } } })),
  });
  const refresh = useCallback(
    () => client.invalidateQueries({ queryKey: ['myBookings'] }),
    [client],
  );
  useRealtimeEvent(
    'waitlist.promoted',
    useCallback(
      (p: { goodsId: number; bookingId: string }) => {
        void refresh().then(() => {
          const title =
            client
              .getQueryData<{ items: { id: string; goodsTitle: string }[] }>(['myBookings'])
              ?.items.find((b) => b.id === p.bookingId)?.goodsTitle ?? `#${p.goodsId}`;
          setNotice(t('booking.promoted', { title }));
        });
      },
      [client, refresh, t],
    ),
  );
  const refreshQuietly = useCallback(() => void refresh(), [refresh]);
  useRealtimeEvent('booking.status', refreshQuietly);
  // A promotion or a status pushed while the connection was away (before it first connected,
  // or during a reconnect) was never heard: the list is read again once it is back.
  useRealtimeEvent('connect', refreshQuietly);
  const cancel = async (bookingId: string) => {
    setProblem(undefined);
    try {
      await call(api.DELETE('/api/bookings/{bookingId}', { params: { path: { bookingId } } }));
    } catch (error) {
      setProblem(describeError(t, error));
    }
    await refresh();
  };
  const date = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' });
  return (
    <section aria-labelledby="tickets-title">
      <h1 id="tickets-title">{t('tickets.title')}</h1>
      <div aria-live="polite">{notice && <p className="ok notice">{notice}</p>}</div>
      {problem && (
        <p className="problem" role="alert">
          {problem}
        </p>
      )}
      {bookings.isPending && <p>{t('app.loading')}</p>}
      {bookings.data?.items.length === 0 && <p>{t('tickets.empty')}</p>}
      {bookings.data && bookings.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('tickets.show')}</th>
                <th scope="col">{t('tickets.status')}</th>
                <th scope="col">{t('tickets.quantity')}</th>
                <th scope="col">{t('tickets.bookedAt')}</th>
                <th scope="col">{t('tickets.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {bookings.data.items.map((b) => (
                <tr key={b.id}>
                  <td>
                    <Link to={`/goods/${b.goodsId}`}>{b.goodsTitle}</Link>
                  </td>
                  <td>
                    {t(`booking.status.${b.status}`)}
                    {b.reason && <span className="reason"> ({errorText(t, b.reason)})</span>}
                  </td>
                  <td>{b.quantity}</td>
                  <td>{b.requestedAt && date.format(new Date(b.requestedAt))}</td>
                  <td>
                    {b.status === 'CONFIRMED' && (
                      <ConfirmButton
                        label={t('booking.cancel')}
                        question={t('booking.confirmCancel')}
                        confirmLabel={t('booking.confirmCancelYes')}
                        onConfirm={() => cancel(b.id)}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
