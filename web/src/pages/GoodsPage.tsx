import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';

import { api, ApiError, call, type Goods } from '../api/client';
import { ConfirmButton } from '../components/ConfirmButton';
import {
  bookingReducer,
  type BookingState,
  initialBookingState,
  isBusy,
} from '../lib/booking-machine';
import { serverClock, useServerNow } from '../lib/clock';
import { formatCountdown, secondsLeft } from '../lib/countdown';
import { useRealtime, useRealtimeEvent } from '../lib/realtime';
import { retryAfterMs } from '../lib/retry-after';
import { type SalePhase, salePhase } from '../lib/sale';
import { useSession } from '../lib/session';
import { describeError, errorText } from '../lib/words';

/** A fresh key per press: the server makes one booking of every request that carries it. */
export const newIdempotencyKey = (): string => crypto.randomUUID();

/** Runs a booking press's effects: the request, the waits, the watch for its outcome. */
function useBooking(goodsId: number, quantity: number) {
  const [state, dispatch] = useReducer(bookingReducer, initialBookingState);
  const client = useQueryClient();
  useEffect(() => {
    if (state.kind !== 'sending') {
      return undefined;
    }
    let live = true;
    void api
      .POST('/api/goods/{goodsId}/bookings', {
        params: { path: { goodsId }, header: { 'Idempotency-Key': state.key } },
        body: { quantity },
      })
      .then(
        ({ response, data, error }) => {
          if (live) {
            dispatch({
              type: 'answer',
              status: response.status,
              body: data ?? error,
              retryAfterMs: retryAfterMs(response.headers.get('retry-after'), serverClock.now()),
              nowMs: Date.now(),
            });
          }
        },
        () => live && dispatch({ type: 'networkError', nowMs: Date.now() }),
      );
    return () => {
      live = false;
    };
  }, [state, goodsId, quantity]);
  useEffect(() => {
    if (state.kind !== 'waiting') {
      return undefined;
    }
    const timer = setTimeout(() => dispatch({ type: 'retryDue' }), state.untilMs - Date.now());
    return () => clearTimeout(timer);
  }, [state]);
  // The outcome: pushed over Socket.IO, and polled in case the push was missed.
  const pendingId = state.kind === 'pending' ? state.bookingId : undefined;
  useRealtimeEvent(
    'booking.status',
    useCallback((p: { id: string; status: string; reason?: string }) => {
      dispatch({ type: 'status', bookingId: p.id, status: p.status, reason: p.reason });
    }, []),
  );
  useEffect(() => {
    if (pendingId === undefined) {
      return undefined;
    }
    const timer = setInterval(() => {
      void call(
        api.GET('/api/bookings/{bookingId}', { params: { path: { bookingId: pendingId } } }),
      )
        .then((b) =>
          dispatch({ type: 'status', bookingId: b.id, status: b.status, reason: b.reason }),
        )
        .catch(() => undefined);
    }, 2000);
    return () => clearInterval(timer);
  }, [pendingId]);
  useEffect(() => {
    if (state.kind === 'confirmed' || state.kind === 'refused') {
      void client.invalidateQueries({ queryKey: ['myBookings'] });
      void client.invalidateQueries({ queryKey: ['goods'] });
    }
  }, [state.kind, client]);
  return {
    state,
    press: () => dispatch({ type: 'press', key: newIdempotencyKey() }),
    reset: () => dispatch({ type: 'reset' }),
  };
}

/** The live remaining count: goods.stock pushes while watched, else a poll. */
function useLiveRemaining(goods: Goods | undefined): number | undefined {
  const socket = useRealtime();
  const [pushed, setPushed] = useState<number>();
  const goodsId = goods?.id;
  useEffect(() => {
    if (!socket || goodsId === undefined) {
      return undefined;
    }
    const watch = () => void socket.emit('goods.watch', { goodsId });
    const onStock = (p: { goodsId: number; remaining: number }) => {
      if (p.goodsId === goodsId) {
        setPushed(p.remaining);
      }
    };
    socket.on('goods.stock', onStock);
    socket.on('connect', watch);
    if (socket.connected) {
      watch();
    }
    return () => {
      socket.off('goods.stock', onStock);
      socket.off('connect', watch);
      socket.emit('goods.unwatch', { goodsId });
    };
  }, [socket, goodsId]);
  return pushed ?? goods?.remaining;
}

function BookingStatus({ state, nowMs }: { state: BookingState; nowMs: number }) {
  const { t } = useTranslation();
  switch (state.kind) {
    case 'idle':
      return null;
    case 'sending':
      return <p>{t('booking.sending')}</p>;
    case 'waiting':
      return (
        <p>
          {errorText(t, state.code)}{' '}
          {t('booking.waiting', {
            seconds: Math.max(1, Math.ceil((state.untilMs - nowMs) / 1000)),
          })}
        </p>
      );
    case 'pending':
      return <p>{t('booking.pending')}</p>;
    case 'confirmed':
      return (
        <p className="ok">
          {t('booking.confirmed')} <Link to="/me/tickets">{t('nav.myTickets')}</Link>
        </p>
      );
    case 'refused':
    case 'failed':
      return <p className="problem">{errorText(t, state.code)}</p>;
  }
}

/**
 * A ticket that came back to this visitor from the waitlist: the push says so, and the
 * bookings are read again (also after a reconnection, which may have missed the push).
 */
function usePromotion(goodsId: number): boolean {
  const client = useQueryClient();
  const [promoted, setPromoted] = useState(false);
  useRealtimeEvent(
    'waitlist.promoted',
    useCallback(
      (p: { goodsId: number }) => {
        if (p.goodsId === goodsId) {
          setPromoted(true);
          void client.invalidateQueries({ queryKey: ['myBookings'] });
          void client.invalidateQueries({ queryKey: ['waitlist', goodsId] });
        }
      },
      [client, goodsId],
    ),
  );
  useRealtimeEvent(
    'connect',
    useCallback(() => void client.invalidateQueries({ queryKey: ['myBookings'] }), [client]),
  );
  return promoted;
}

function Waitlist({ goodsId }: { goodsId: number }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [problem, setProblem] = useState<string>();
  // Off the list since the last poll, not by this page's hand: most likely promoted.
  const onList = useRef(false);
  const position = useQuery({
    queryKey: ['waitlist', goodsId],
    queryFn: async () => {
      try {
        const found = await call(
          api.GET('/api/goods/{goodsId}/waitlist', { params: { path: { goodsId } } }),
        );
        onList.current = true;
        return found;
      } catch (error) {
        if (error instanceof ApiError && error.code === 'NOT_WAITLISTED') {
          if (onList.current) {
            void client.invalidateQueries({ queryKey: ['myBookings'] });
          }
          onList.current = false;
          return null;
        }
        throw error;
      }
    },
    // The position moves only for those on the list: nobody else polls during a sold-out rush.
    refetchInterval: (query) => (query.state.data ? 3000 : false),
  });
  const act = async (method: 'POST' | 'DELETE') => {
    setProblem(undefined);
    try {
      await call(
        method === 'POST'
          ? api.POST('/api/goods/{goodsId}/waitlist', { params: { path: { goodsId } } })
          : api.DELETE('/api/goods/{goodsId}/waitlist', { params: { path: { goodsId } } }),
      );
    } catch (error) {
      setProblem(describeError(t, error));
    }
    await position.refetch();
  };
  return (
    <div className="waitlist">
      {position.data ? (
        <>
          <p>{t('booking.waitlistPosition', { position: position.data.position })}</p>
          <button type="button" onClick={() => void act('DELETE')}>
            {t('booking.leaveWaitlist')}
          </button>
        </>
      ) : (
        <button type="button" className="primary" onClick={() => void act('POST')}>
          {t('booking.joinWaitlist')}
        </button>
      )}
      {problem && <p className="problem">{problem}</p>}
    </div>
  );
}

function CancelBooking({ bookingId }: { bookingId: string }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [problem, setProblem] = useState<string>();
  const cancel = async () => {
    try {
      await call(api.DELETE('/api/bookings/{bookingId}', { params: { path: { bookingId } } }));
      await client.invalidateQueries();
    } catch (error) {
      setProblem(describeError(t, error));
    }
  };
  return (
    <div className="cancel">
      <ConfirmButton
        label={t('booking.cancel')}
        question={t('booking.confirmCancel')}
        confirmLabel={t('booking.confirmCancelYes')}
        onConfirm={cancel}
      />
      {problem && <p className="problem">{problem}</p>}
    </div>
  );
}

function GoodsFacts({ goods, remaining }: { goods: Goods; remaining: number }) {
  const { t, i18n } = useTranslation();
  const date = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'full', timeStyle: 'short' });
  const price = new Intl.NumberFormat(i18n.language);
  return (
    <dl>
      <dt>{t('goods.showDate')}</dt>
      <dd>{date.format(new Date(goods.showDate))}</dd>
      <dt>{t('goods.price')}</dt>
      <dd>{t('goods.priceValue', { price: price.format(goods.price) })}</dd>
      <dt>{t('goods.remaining')}</dt>
      <dd aria-live="polite" data-testid="remaining">
        {t('goods.remainingValue', { remaining, limit: goods.bookingLimit })}
      </dd>
    </dl>
  );
}

function BookForm({
  goods,
  open,
  busy,
  onBook,
}: {
  goods: Goods;
  open: boolean;
  busy: boolean;
  onBook: (quantity: number) => void;
}) {
  const { t } = useTranslation();
  const [quantity, setQuantity] = useState(1);
  return (
    <form
      className="book"
      onSubmit={(e) => {
        e.preventDefault();
        onBook(quantity);
      }}
    >
      {goods.maxPerUser > 1 && (
        <label>
          {t('goods.quantity')}
          <select value={quantity} onChange={(e) => setQuantity(Number(e.target.value))}>
            {Array.from({ length: goods.maxPerUser }, (_, i) => i + 1).map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
      )}
      <button type="submit" className="primary" disabled={!open || busy}>
        {t('booking.book')}
      </button>
      <p className="hint">{t('goods.maxPerUser', { count: goods.maxPerUser })}</p>
    </form>
  );
}

/** What the visitor can do now: log in, book, join the waitlist, or cancel what they hold. */
function Actions({ goods, phase }: { goods: Goods; phase: SalePhase }) {
  const { t } = useTranslation();
  const { user } = useSession();
  const [quantity, setQuantity] = useState(1);
  const booking = useBooking(goods.id, quantity);
  const promoted = usePromotion(goods.id);
  const mine = useQuery({
    queryKey: ['myBookings'],
    queryFn: () => call(api.GET('/api/me/bookings', { params: { query: { limit: 100 } } })),
    enabled: Boolean(user),
  });
  if (!user) {
    return phase.kind === 'closed' ? null : (
      <p>
        <Link to={`/login?next=/goods/${goods.id}`}>{t('booking.loginToBook')}</Link>
      </p>
    );
  }
  const held = mine.data?.items.find((b) => b.goodsId === goods.id && b.status === 'CONFIRMED');
  const canBook = phase.kind === 'open' || phase.kind === 'upcoming';
  return (
    <>
      {held && <CancelBooking bookingId={held.id} />}
      {!held && canBook && (
        <BookForm
          goods={goods}
          open={phase.kind === 'open'}
          busy={isBusy(booking.state)}
          onBook={(n) => {
            setQuantity(n);
            booking.press();
          }}
        />
      )}
      {!held && phase.kind === 'soldOut' && <Waitlist goodsId={goods.id} />}
      <div aria-live="polite" className="status">
        {promoted && <p className="ok notice">{t('booking.promoted', { title: goods.title })}</p>}
        <BookingStatus state={booking.state} nowMs={Date.now()} />
      </div>
    </>
  );
}

export function GoodsPage() {
  const { t } = useTranslation();
  const goodsId = Number(useParams().goodsId);
  const { user } = useSession();
  const now = useServerNow();
  const goods = useQuery({
    queryKey: ['goods', 'one', goodsId],
    queryFn: () => call(api.GET('/api/goods/{goodsId}', { params: { path: { goodsId } } })),
    enabled: Number.isSafeInteger(goodsId) && goodsId > 0,
    refetchInterval: user ? false : 2000, // anonymous visitors have no live push
  });
  const remaining = useLiveRemaining(goods.data);
  if (goods.error) {
    return <p role="alert">{describeError(t, goods.error)}</p>;
  }
  if (!goods.data) {
    return <p>{t('app.loading')}</p>;
  }
  const g = goods.data;
  const left = remaining ?? g.remaining;
  const phase = salePhase({ ...g, remaining: left }, now);
  return (
    <article className="goods" aria-labelledby="goods-title">
      <img className="poster" src={g.imgUrl} alt={t('goods.poster', { title: g.title })} />
      <div>
        <h1 id="goods-title">{g.title}</h1>
        <p className="content">{g.content}</p>
        <GoodsFacts goods={g} remaining={left} />
        {phase.kind === 'upcoming' && (
          <p className="countdown" role="timer" aria-live="off">
            {t('booking.opensAt')}{' '}
            <strong>
              {formatCountdown(secondsLeft(phase.opensAtMs, now), t('goods.dayUnit'))}
            </strong>
          </p>
        )}
        {phase.kind === 'closed' && <p>{t('goods.saleClosed')}</p>}
        <Actions goods={g} phase={phase} />
      </div>
    </article>
  );
}
