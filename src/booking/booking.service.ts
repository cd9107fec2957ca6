import { randomUUID } from 'node:crypto';

import { Injectable, Logger } from '@nestjs/common';

import type { AuthUser } from '../auth/auth-user';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { AppConfig } from '../config/app-config';
import { pgError, PG_FOREIGN_KEY_VIOLATION } from '../database/sql';
import { StockService } from '../stock/stock.service';
import { Admission, AdmissionResult, BookingState } from './booking-state';
import { BookingEvents } from './booking-events';
import {
  BookingDto,
  BookingPageDto,
  BookRequestDto,
  ListBookingsQuery,
  WaitlistPositionDto,
} from './booking.dto';
import { BookingMetrics } from './booking.metrics';
import { BookingRepository } from './booking.repository';
import type { BookingOutcome } from './booking.types';

export interface BookingAnswer {
  httpStatus: 200 | 201 | 202;
  booking: BookingDto;
}

export interface BookingOptions {
  idempotencyKey?: string;
  waitMs: number;
}

/** A waited booking the writer rejected, as its client is told, by the rejection's reason. */
const rejectionErrors: Record<string, () => AppError> = {
  SOLD_OUT: () => new AppError(ErrorCode.SoldOut),
  LIMIT_EXCEEDED: () => new AppError(ErrorCode.LimitExceeded),
  ALREADY_BOOKED: () => new AppError(ErrorCode.AlreadyBooked),
  USER_REMOVED: () => new AppError(ErrorCode.Unauthorized), // a valid token whose account is gone
  GOODS_REMOVED: () => new AppError(ErrorCode.NotFound, 'No such goods.'),
  // Redis lost the key: the same key was used for an earlier booking
  DUPLICATE_REQUEST: () => new AppError(ErrorCode.IdempotencyKeyReused),
  // the writer could not store it (dead-lettered): a new attempt is a new booking
  UNPROCESSABLE: () => new AppError(ErrorCode.BookingFailed, undefined, { 'Retry-After': '1' }),
};

const PG_LOCK_NOT_AVAILABLE = '55P03';

interface BookingLike {
  id: string;
  status: string;
  goodsId: number;
  quantity: number;
  reason?: string | null;
  requestedAt?: string;
  goodsTitle?: string;
}

const toDto = (row: BookingLike): BookingDto => {
  const dto: BookingDto = {
    id: row.id,
    status: row.status,
    goodsId: row.goodsId,
    quantity: row.quantity,
  };
  if (row.reason) {
    dto.reason = row.reason;
  }
  if (row.requestedAt) {
    dto.requestedAt = row.requestedAt;
  }
  if (row.goodsTitle) {
    dto.goodsTitle = row.goodsTitle;
  }
  return dto;
};

const answerFor = (booking: BookingDto): BookingAnswer => ({
  httpStatus: booking.status === 'PENDING' ? 202 : booking.status === 'CONFIRMED' ? 201 : 200,
  booking,
});

/** Turn Redis connection trouble into a quick 503, never a hang or a 500. */
async function redisOr503<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError) {
      throw error;
    }
    throw new AppError(ErrorCode.BookingUnavailable, undefined, { 'Retry-After': '1' });
  }
}

@Injectable()
export class BookingService {
  private readonly logger = new Logger(BookingService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly state: BookingState,
    private readonly stock: StockService,
    private readonly repository: BookingRepository,
    private readonly events: BookingEvents,
    private readonly metrics: BookingMetrics,
  ) {}

  async book(
    who: AuthUser,
    goodsId: number,
    dto: BookRequestDto,
    options: BookingOptions,
  ): Promise<BookingAnswer> {
    const quantity = dto.quantity ?? 1;
    return this.config.bookingStrategy === 'redis'
      ? this.bookThroughRedis(who, goodsId, quantity, options)
      : this.bookWithRowLock(who, goodsId, quantity, options);
  }

  private async bookThroughRedis(
    who: AuthUser,
    goodsId: number,
    quantity: number,
    options: BookingOptions,
  ): Promise<BookingAnswer> {
    const request = {
      goodsId,
      userId: who.id,
      quantity,
      bookingId: randomUUID(),
      idempotencyKey: options.idempotencyKey,
    };
    let result = await redisOr503(() => this.state.admit(request));
    if (result.code === Admission.NotLoaded) {
      await this.loadGoods(goodsId);
      result = await redisOr503(() => this.state.admit(request));
    }
    if (result.code === Admission.Admitted) {
      this.metrics.count('ADMITTED');
      const pending: BookingDto = { id: result.bookingId, status: 'PENDING', goodsId, quantity };
      return this.awaitOutcome(pending, options.waitMs);
    }
    if (result.code === Admission.Replay) {
      this.metrics.count('REPLAY');
      const booking = await this.findOwned(who, result.bookingId);
      return booking.status === 'PENDING'
        ? this.awaitOutcome(booking, options.waitMs)
        : answerFor(booking);
    }
    const refusal = admissionErrors[result.code](result);
    this.metrics.count(refusal.code);
    throw refusal;
  }

  /** Load a goods' live state from PostgreSQL (first use, or after Redis lost it). */
  async loadGoods(goodsId: number): Promise<void> {
    const goods = await this.repository.getGoodsState(goodsId);
    if (!goods) {
      throw new AppError(ErrorCode.NotFound, 'No such goods.');
    }
    const active = await this.repository.heldBy(goodsId);
    await redisOr503(() => this.stock.load(goods, active));
  }

  private async awaitOutcome(pending: BookingDto, waitMs: number): Promise<BookingAnswer> {
    if (waitMs <= 0) {
      return answerFor(pending);
    }
    // Settled before the wait began? Its record has gone from Redis by then, and the commit
    // happened before that, so PostgreSQL has the outcome (unless it was one not stored:
    // GOODS_REMOVED, USER_REMOVED; that wait ends PENDING and the booking reads 404).
    const outcome = await this.events.waitFor(pending.id, waitMs, async () => {
      if ((await this.state.getBooking(pending.id))?.status === 'PENDING') {
        return undefined;
      }
      const row = await this.repository.getById(pending.id);
      return row && row.status !== 'PENDING'
        ? { ...pending, status: row.status, reason: row.reason, userId: 0 }
        : undefined;
    });
    if (!outcome) {
      return answerFor(pending);
    }
    if (outcome.status === 'REJECTED') {
      throw (rejectionErrors[outcome.reason ?? ''] ?? rejectionErrors.SOLD_OUT)();
    }
    return answerFor(toDto({ ...pending, status: outcome.status, reason: outcome.reason }));
  }

  private async bookWithRowLock(
    who: AuthUser,
    goodsId: number,
    quantity: number,
    options: BookingOptions,
  ): Promise<BookingAnswer> {
    const [, , blocked] = await this.state.hitRateLimit(who.id).catch(() => [0, 0, 0] as const); // fail open: PostgreSQL is the guard here
    if (blocked) {
      throw AppError.rateLimited(1);
    }
    let result: Awaited<ReturnType<BookingRepository['bookWithRowLock']>>;
    try {
      result = await this.repository.bookWithRowLock({
        bookingId: randomUUID(),
        goodsId,
        userId: who.id,
        quantity,
        idempotencyKey: options.idempotencyKey ?? null,
        lockTimeoutMs: this.config.pgLockTimeoutMs,
        now: new Date(),
      });
    } catch (error) {
      if (pgError(error).code === PG_LOCK_NOT_AVAILABLE) {
        this.metrics.count('BOOKING_BUSY');
        throw new AppError(ErrorCode.BookingBusy, undefined, { 'Retry-After': '1' });
      }
      throw error;
    }
    if ('booking' in result) {
      this.metrics.count(result.outcome === 'confirmed' ? 'CONFIRMED' : 'REPLAY');
      return answerFor(toDto(result.booking));
    }
    const refusal = rowLockErrors[result.outcome](result.maxPerUser);
    this.metrics.count(refusal.code);
    throw refusal;
  }

  /** A booking of the caller's; anyone else's is "not found" (existence is not leaked). */
  async findOwned(who: AuthUser, bookingId: string): Promise<BookingDto> {
    const live = await this.state.getBooking(bookingId).catch(() => undefined);
    if (live?.status === 'PENDING' && Number(live.u) === who.id) {
      return {
        id: bookingId,
        status: 'PENDING',
        goodsId: Number(live.g),
        quantity: Number(live.q),
      };
    }
    const row = await this.repository.getById(bookingId);
    if (!row || row.userId !== who.id) {
      throw new AppError(ErrorCode.NotFound, 'No such booking.');
    }
    return toDto(row);
  }

  async listMine(who: AuthUser, { page, limit }: ListBookingsQuery): Promise<BookingPageDto> {
    const { items, total } = await this.repository.listByUser(who.id, page, limit);
    return { items: items.map(toDto), page, limit, total };
  }

  async cancel(who: AuthUser, bookingId: string): Promise<BookingDto> {
    const result = await this.repository.cancel(bookingId, who.id, randomUUID);
    if (result.outcome === 'missing') {
      const live = await this.findOwned(who, bookingId); // 404, or a PENDING booking of theirs
      throw new AppError(live.status === 'PENDING' ? ErrorCode.BookingPending : ErrorCode.NotFound);
    }
    if (result.outcome === 'not-confirmed') {
      throw new AppError(
        result.status === 'CANCELLED' ? ErrorCode.AlreadyCancelled : ErrorCode.NotCancellable,
      );
    }
    const { booking, promoted } = result;
    const outcomes: BookingOutcome[] = [
      {
        id: booking.id,
        goodsId: booking.goodsId,
        userId: who.id,
        quantity: booking.quantity,
        status: 'CANCELLED',
        reason: null,
      },
      ...promoted.map((p): BookingOutcome => ({
        id: p.bookingId,
        goodsId: booking.goodsId,
        userId: p.userId,
        quantity: 1,
        status: 'CONFIRMED',
        reason: null,
        promoted: true,
      })),
    ];
    if (this.config.bookingStrategy === 'redis') {
      // Committed in PostgreSQL: now Redis follows (if this fails, reconcile repairs it).
      await this.stock
        .release(
          booking.goodsId,
          who.id,
          booking.quantity,
          promoted.map((p) => p.userId),
        )
        .catch((error: Error) =>
          this.logger.error(`release after cancel failed: ${error.message}`),
        );
    }
    await this.state.publish(outcomes).catch(() => undefined);
    this.metrics.count('CANCELLED');
    return toDto({ ...booking, status: 'CANCELLED' });
  }

  /** The original API: cancel the caller's (latest) confirmed booking of a goods. */
  async cancelByGoods(who: AuthUser, goodsId: number): Promise<BookingDto> {
    const id = await this.repository.latestConfirmedId(who.id, goodsId);
    if (!id) {
      throw new AppError(ErrorCode.NotFound, 'You have no confirmed booking for this goods.');
    }
    return this.cancel(who, id);
  }

  async joinWaitlist(who: AuthUser, goodsId: number): Promise<WaitlistPositionDto> {
    const goods = await this.repository.getGoodsState(goodsId);
    if (!goods) {
      throw new AppError(ErrorCode.NotFound, 'No such goods.');
    }
    let remaining = goods.bookingLimit - goods.bookingCount;
    if (this.config.bookingStrategy === 'redis') {
      remaining = (await redisOr503(() => this.stock.remainingOf([goodsId])))[0] ?? remaining;
    }
    if (remaining > 0) {
      throw new AppError(ErrorCode.NotSoldOut);
    }
    const held = (await this.repository.heldBy(goodsId, [who.id])).get(who.id) ?? 0;
    if (held >= goods.maxPerUser) {
      throw new AppError(
        goods.maxPerUser === 1 ? ErrorCode.AlreadyBooked : ErrorCode.LimitExceeded,
      );
    }
    const joined = await this.repository.joinWaitlist(goodsId, who.id).catch((error: unknown) => {
      throw foreignKeyRefusal(error);
    });
    if (joined === 'already') {
      throw new AppError(ErrorCode.AlreadyWaitlisted);
    }
    return this.waitlistPosition(who, goodsId);
  }

  async leaveWaitlist(who: AuthUser, goodsId: number): Promise<void> {
    if (!(await this.repository.leaveWaitlist(goodsId, who.id))) {
      throw new AppError(ErrorCode.NotWaitlisted);
    }
  }

  async waitlistPosition(who: AuthUser, goodsId: number): Promise<WaitlistPositionDto> {
    const found = await this.repository.waitlistPosition(goodsId, who.id);
    if (!found) {
      throw new AppError(ErrorCode.NotWaitlisted);
    }
    return { goodsId, ...found };
  }
}

const admissionErrors: Record<
  Exclude<Admission, Admission.Admitted | Admission.Replay>,
  (r: AdmissionResult) => AppError
> = {
  [Admission.NotLoaded]: () => new AppError(ErrorCode.NotFound, 'No such goods.'),
  [Admission.NotOpen]: () => new AppError(ErrorCode.SaleNotOpen),
  [Admission.Closed]: () => new AppError(ErrorCode.SaleClosed),
  [Admission.OverLimit]: (r) =>
    new AppError(Number(r.detail) === 1 ? ErrorCode.AlreadyBooked : ErrorCode.LimitExceeded),
  [Admission.SoldOut]: () => new AppError(ErrorCode.SoldOut),
  [Admission.RateLimited]: (r) => AppError.rateLimited(Number(r.detail) / 1000),
  [Admission.KeyReused]: () => new AppError(ErrorCode.IdempotencyKeyReused),
  [Admission.QuantityAboveMax]: (r) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `quantity must be at most ${String(r.detail)} for this goods.`,
    ),
};

/** Foreign keys a request can run into, as what the client is told. */
const foreignKeyErrors: Record<string, () => AppError> = {
  // a token that still verifies, for an account that is gone
  waitlist_user_id_fkey: () => new AppError(ErrorCode.Unauthorized),
  // the goods was deleted a moment ago
  waitlist_goods_id_fkey: () => new AppError(ErrorCode.NotFound, 'No such goods.'),
};

/** The client's error for a known foreign-key refusal; any other error as it is. */
function foreignKeyRefusal(error: unknown): unknown {
  const { code, constraint } = pgError(error);
  const known = code === PG_FOREIGN_KEY_VIOLATION && constraint && foreignKeyErrors[constraint];
  return known ? known() : error;
}

type RowLockRefusal = Exclude<
  Awaited<ReturnType<BookingRepository['bookWithRowLock']>>['outcome'],
  'confirmed' | 'replay'
>;

const rowLockErrors: Record<RowLockRefusal, (maxPerUser?: number) => AppError> = {
  missing: () => new AppError(ErrorCode.NotFound, 'No such goods.'),
  'not-open': () => new AppError(ErrorCode.SaleNotOpen),
  closed: () => new AppError(ErrorCode.SaleClosed),
  'quantity-above-max': (max) =>
    new AppError(
      ErrorCode.ValidationFailed,
      `quantity must be at most ${String(max)} for this goods.`,
    ),
  'over-limit': (max) =>
    new AppError(max === 1 ? ErrorCode.AlreadyBooked : ErrorCode.LimitExceeded),
  'sold-out': () => new AppError(ErrorCode.SoldOut),
  'key-reused': () => new AppError(ErrorCode.IdempotencyKeyReused),
  // a token that still verifies, for an account that is gone
  'user-removed': () => new AppError(ErrorCode.Unauthorized),
};
