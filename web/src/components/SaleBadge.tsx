import { useTranslation } from 'react-i18next';

import type { Goods } from '../api/client';
import { formatCountdown, secondsLeft } from '../lib/countdown';
import { salePhase } from '../lib/sale';

/** "N left" / "Sold out" / "Opens in 02:13:05" / "Sale closed", by the server's clock. */
export function SaleBadge({ goods, nowMs }: { goods: Goods; nowMs: number }) {
  const { t } = useTranslation();
  const phase = salePhase(goods, nowMs);
  switch (phase.kind) {
    case 'upcoming':
      return (
        <span className="badge badge-upcoming">
          {t('goods.opensIn', {
            time: formatCountdown(secondsLeft(phase.opensAtMs, nowMs), t('goods.dayUnit')),
          })}
        </span>
      );
    case 'open':
      return (
        <span className="badge badge-open">{t('goods.left', { count: goods.remaining })}</span>
      );
    case 'soldOut':
      return <span className="badge badge-soldout">{t('goods.soldOut')}</span>;
    case 'closed':
      return <span className="badge badge-closed">{t('goods.saleClosed')}</span>;
  }
}
