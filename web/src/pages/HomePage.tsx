import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';

import { api, call } from '../api/client';
import { SaleBadge } from '../components/SaleBadge';
import { useServerNow } from '../lib/clock';
import { describeError } from '../lib/words';

const PAGE_SIZE = 12;

export function HomePage() {
  const { t, i18n } = useTranslation();
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  const now = useServerNow(1000);
  const { data, error, isPending } = useQuery({
    queryKey: ['goods', page],
    queryFn: () => call(api.GET('/api/goods', { params: { query: { page, limit: PAGE_SIZE } } })),
    refetchInterval: 5000, // counts move during a sale; cards are cheap to refresh
  });
  const pages = data ? Math.max(1, Math.ceil(data.total / PAGE_SIZE)) : 1;
  const date = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' });
  const price = new Intl.NumberFormat(i18n.language);
  return (
    <section aria-labelledby="list-title">
      <h1 id="list-title">{t('goods.listTitle')}</h1>
      {isPending && <p>{t('app.loading')}</p>}
      {error && <p role="alert">{describeError(t, error)}</p>}
      {data && data.items.length === 0 && <p>{t('goods.empty')}</p>}
      <ul className="cards">
        {data?.items.map((goods) => (
          <li key={goods.id} className="card">
            <img
              src={goods.imgUrl}
              alt={t('goods.poster', { title: goods.title })}
              loading="lazy"
              width={320}
              height={180}
            />
            <div className="card-body">
              <h2>
                <Link to={`/goods/${goods.id}`}>{goods.title}</Link>
              </h2>
              <p>{date.format(new Date(goods.showDate))}</p>
              <p>{t('goods.priceValue', { price: price.format(goods.price) })}</p>
              <SaleBadge goods={goods} nowMs={now} />
            </div>
          </li>
        ))}
      </ul>
      {pages > 1 && (
        <nav className="pager" aria-label={t('goods.page', { page, pages })}>
          <button
            type="button"
            disabled={page <= 1}
            onClick={() => setParams({ page: String(page - 1) })}
          >
            {t('goods.previous')}
          </button>
          <span>{t('goods.page', { page, pages })}</span>
          <button
            type="button"
            disabled={page >= pages}
            onClick={() => setParams({ page: String(page + 1) })}
          >
            {t('goods.next')}
          </button>
        </nav>
      )}
    </section>
  );
}
