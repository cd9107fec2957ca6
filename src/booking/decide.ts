import type { StockState } from '../stock/stock.types';
import { Refusal, refusalFor } from './booking-rules';
import type { BookingOutcome, LoggedBooking } from './booking.types';
import { BookingStatus } from './lifecycle';

/** A logged request decided, with what its row needs besides the outcome. */
export type Decision = BookingOutcome & { requestedAtMs: number; idempotencyKey: string | null };

/**
 * Decide each logged request in log order against the locked goods rows (pure). `missingUsers`:
 * users with no account (a valid token outlived it); their requests are refused, not stored.
 */
export function decide(
  entries: LoggedBooking[],
  stored: BookingOutcome[],
  goods: StockState[],
  active: { goodsId: number; userId: number; quantity: number }[],
  missingUsers: ReadonlySet<number> = new Set(),
): Decision[] {
  const storedById = new Map(stored.map((s) => [s.id, s]));
  const left = new Map(goods.map((g) => [g.id, g.bookingLimit - g.bookingCount]));
  const max = new Map(goods.map((g) => [g.id, g.maxPerUser]));
  const held = new Map(active.map((a) => [`${a.goodsId}:${a.userId}`, a.quantity]));
  return entries.map((e): Decision => {
    const base = {
      id: e.id,
      goodsId: e.goodsId,
      userId: e.userId,
      quantity: e.quantity,
      requestedAtMs: e.requestedAtMs,
      idempotencyKey: e.idempotencyKey,
    };
    const already = storedById.get(e.id);
    if (already) {
      return { ...base, status: already.status, reason: already.reason };
    }
    const stock = left.get(e.goodsId);
    if (stock === undefined) {
      return { ...base, status: BookingStatus.Rejected, reason: Refusal.GoodsRemoved };
    }
    if (missingUsers.has(e.userId)) {
      return { ...base, status: BookingStatus.Rejected, reason: Refusal.UserRemoved };
    }
    const key = `${e.goodsId}:${e.userId}`;
    const terms = { left: stock, maxPerUser: max.get(e.goodsId)!, startsAtMs: 0, endsAtMs: 0 };
    const refusal = refusalFor(terms, held.get(key) ?? 0, e.quantity);
    if (refusal) {
      // A quantity above a limit lowered since admission is, once admitted, over the limit.
      const reason = refusal === Refusal.QuantityAboveMax ? Refusal.LimitExceeded : refusal;
      return { ...base, status: BookingStatus.Rejected, reason };
    }
    left.set(e.goodsId, stock - e.quantity);
    held.set(key, (held.get(key) ?? 0) + e.quantity);
    return { ...base, status: BookingStatus.Confirmed, reason: null };
  });
}
