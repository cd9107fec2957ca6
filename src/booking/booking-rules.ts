import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import type { StockState } from '../stock/stock.types';

/**
 * Why a booking request is refused, by whoever refuses it: admission (the Lua script or the
 * pg-lock transaction) before the booking exists, or the writer after. The writer's values are
 * stored as a REJECTED booking's `reason`, so they never change.
 */
export enum Refusal {
  NoSuchGoods = 'NO_SUCH_GOODS',
  SaleNotOpen = 'SALE_NOT_OPEN',
  SaleClosed = 'SALE_CLOSED',
  QuantityAboveMax = 'QUANTITY_ABOVE_MAX',
  LimitExceeded = 'LIMIT_EXCEEDED',
  SoldOut = 'SOLD_OUT',
  RateLimited = 'RATE_LIMITED',
  KeyReused = 'IDEMPOTENCY_KEY_REUSED',
  /** The goods was deleted between admission and the write. */
  GoodsRemoved = 'GOODS_REMOVED',
  /** A token that still verifies, for an account that is gone. */
  UserRemoved = 'USER_REMOVED',
  /** Redis lost an idempotency key: PostgreSQL's unique index caught the second request. */
  DuplicateRequest = 'DUPLICATE_REQUEST',
  /** The writer could not store it (dead-lettered). */
  Unprocessable = 'UNPROCESSABLE',
}

/** What the rule reads of a goods, as the Lua script holds it (times in ms, 0: none). */
export interface SaleTerms {
  left: number;
  maxPerUser: number;
  startsAtMs: number;
  endsAtMs: number;
}

export const saleTerms = (goods: StockState): SaleTerms => ({
  left: goods.bookingLimit - goods.bookingCount,
  maxPerUser: goods.maxPerUser,
  startsAtMs: goods.saleStartsAt?.getTime() ?? 0,
  endsAtMs: goods.saleEndsAt?.getTime() ?? 0,
});

/**
 * The booking rule, in the order every strategy applies it: sale open? quantity allowed?
 * per-user limit? stock? `nowMs` undefined skips the sale window: the writer decides after
 * admission, and a sale that closed meanwhile must not undo what admission accepted.
 * lua/admit-bookings-5.lua restates it (Lua cannot import this); booking-rules.int-spec.ts runs
 * one table of cases through both and through the pg-lock strategy.
 */
export function refusalFor(
  terms: SaleTerms,
  held: number,
  quantity: number,
  nowMs?: number,
): Refusal | undefined {
  if (nowMs !== undefined) {
    if (terms.startsAtMs > 0 && nowMs < terms.startsAtMs) {
      return Refusal.SaleNotOpen;
    }
    if (terms.endsAtMs > 0 && nowMs >= terms.endsAtMs) {
      return Refusal.SaleClosed;
    }
  }
  if (quantity > terms.maxPerUser) {
    return Refusal.QuantityAboveMax;
  }
  if (held + quantity > terms.maxPerUser) {
    return Refusal.LimitExceeded;
  }
  return terms.left < quantity ? Refusal.SoldOut : undefined;
}

/** The admission script's codes (lua/admit-bookings-5.lua's header) → refusals, in one table. */
export const admissionRefusals: Record<number, Refusal> = {
  [-1]: Refusal.NoSuchGoods,
  [-2]: Refusal.SaleNotOpen,
  [-3]: Refusal.SaleClosed,
  [-4]: Refusal.LimitExceeded,
  [-5]: Refusal.SoldOut,
  [-6]: Refusal.RateLimited,
  [-7]: Refusal.KeyReused,
  [-8]: Refusal.QuantityAboveMax,
};

interface RefusalDetail {
  /** Words the limit refusals. */
  maxPerUser?: number;
  /** The rate limit's Retry-After. */
  retryAfterMs?: number;
}

/** What the client is told, whichever strategy refused and whenever: the one map (every key). */
const refusalErrors: Record<Refusal, (detail: RefusalDetail) => AppError> = {
  [Refusal.NoSuchGoods]: () => new AppError(ErrorCode.NotFound, 'No such goods.'),
  [Refusal.GoodsRemoved]: () => new AppError(ErrorCode.NotFound, 'No such goods.'),
  [Refusal.SaleNotOpen]: () => new AppError(ErrorCode.SaleNotOpen),
  [Refusal.SaleClosed]: () => new AppError(ErrorCode.SaleClosed),
  [Refusal.QuantityAboveMax]: ({ maxPerUser }) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `quantity must be at most ${String(maxPerUser)} for this goods.`,
    ),
  [Refusal.LimitExceeded]: ({ maxPerUser }) =>
    new AppError(maxPerUser === 1 ? ErrorCode.AlreadyBooked : ErrorCode.LimitExceeded),
  [Refusal.SoldOut]: () => new AppError(ErrorCode.SoldOut),
  [Refusal.RateLimited]: ({ retryAfterMs }) => AppError.rateLimited((retryAfterMs ?? 1000) / 1000),
  [Refusal.KeyReused]: () => new AppError(ErrorCode.IdempotencyKeyReused),
  [Refusal.DuplicateRequest]: () => new AppError(ErrorCode.IdempotencyKeyReused),
  [Refusal.UserRemoved]: () => new AppError(ErrorCode.Unauthorized),
  // a new attempt is a new booking
  [Refusal.Unprocessable]: () =>
    new AppError(ErrorCode.BookingFailed, undefined, { 'Retry-After': '1' }),
};

export function refusalError(refusal: Refusal, detail: RefusalDetail = {}): AppError {
  return refusalErrors[refusal](detail);
}

/** A stored reason (the writer's) as a refusal; reasons this version does not know read as sold out. */
export function storedRefusal(reason: string | null): Refusal {
  return Object.values(Refusal).includes(reason as Refusal) ? (reason as Refusal) : Refusal.SoldOut;
}
