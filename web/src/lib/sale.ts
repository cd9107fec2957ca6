import type { Goods } from '../api/client';

export type SalePhase =
  | { kind: 'upcoming'; opensAtMs: number }
  | { kind: 'open' }
  | { kind: 'soldOut' }
  | { kind: 'closed' };

/** Where a goods' sale stands at `nowMs` (the server's time). */
export function salePhase(
  goods: Pick<Goods, 'saleStartsAt' | 'saleEndsAt' | 'remaining'>,
  nowMs: number,
): SalePhase {
  const opens = goods.saleStartsAt ? Date.parse(goods.saleStartsAt) : undefined;
  const closes = goods.saleEndsAt ? Date.parse(goods.saleEndsAt) : undefined;
  if (closes !== undefined && nowMs >= closes) {
    return { kind: 'closed' };
  }
  if (opens !== undefined && nowMs < opens) {
    return { kind: 'upcoming', opensAtMs: opens };
  }
  return goods.remaining > 0 ? { kind: 'open' } : { kind: 'soldOut' };
}
