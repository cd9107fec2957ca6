import { randomUUID } from 'node:crypto';

import { Injectable, Logger } from '@nestjs/common';

import type { AuthUser } from '../auth/auth-user';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { pgError, PG_FOREIGN_KEY_VIOLATION } from '../database/sql';
import { StockRepository } from '../stock/stock.repository';
import { StockService } from '../stock/stock.service';
import { BookingOptions, BookingAnswer, redisOr503, toDto } from './booking-answers';
import { BookingReader } from './booking-reader';
import { BookingState } from './booking-state';
import { BookingStrategy } from './booking-strategy';
import {
  BOOKING_QUANTITY,
  BookingDto,
  BookingPageDto,
  BookRequestDto,
  ListBookingsQuery,
  WaitlistPositionDto,
} from './booking.dto';
import { BookingMetrics } from './booking.metrics';
import { BookingRepository } from './booking.repository';
import { CancellationRepository } from './cancellation.repository';
import { WaitlistRepository } from './waitlist.repository';
import type { BookingOutcome } from './booking.types';
import { BookingStatus } from './lifecycle';

@Injectable()
export class BookingService {
  private readonly logger = new Logger(BookingService.name);

  constructor(
    private readonly strategy: BookingStrategy,
    private readonly reader: BookingReader,
    private readonly state: BookingState,
    private readonly stock: StockService,
    private readonly stockRows: StockRepository,
    private readonly repository: BookingRepository,
    private readonly cancellations: CancellationRepository,
    private readonly waitlist: WaitlistRepository,
    private readonly metrics: BookingMetrics,
  ) {}

  book(
    who: AuthUser,
    goodsId: number,
    dto: BookRequestDto,
    options: BookingOptions,
  ): Promise<BookingAnswer> {
    return this.strategy.book(who, goodsId, dto.quantity ?? BOOKING_QUANTITY.default, options);
  }

  /** A booking of the caller's; anyone else's is "not found" (existence is not leaked). */
  findOwned(who: AuthUser, bookingId: string): Promise<BookingDto> {
    return this.reader.owned(who, bookingId);
  }

  async listMine(who: AuthUser, { page, limit }: ListBookingsQuery): Promise<BookingPageDto> {
    const { items, total } = await this.repository.listByUser(who.id, page, limit);
    return { items: items.map(toDto), page, limit, total };
  }

  async cancel(who: AuthUser, bookingId: string): Promise<BookingDto> {
    const result = await this.cancellations.cancel(bookingId, who.id, randomUUID);
    if (result.outcome === 'missing') {
      const live = await this.findOwned(who, bookingId); // 404, or a PENDING booking of theirs
      throw new AppError(
        live.status === BookingStatus.Pending ? ErrorCode.BookingPending : ErrorCode.NotFound,
      );
    }
    if (result.outcome === 'not-confirmed') {
      throw new AppError(
        result.status === BookingStatus.Cancelled
          ? ErrorCode.AlreadyCancelled
          : ErrorCode.NotCancellable,
      );
    }
    const { booking, promoted } = result;
    const outcomes: BookingOutcome[] = [
      {
        id: booking.id,
        goodsId: booking.goodsId,
        userId: who.id,
        quantity: booking.quantity,
        status: BookingStatus.Cancelled,
        reason: null,
      },
      ...promoted.map((p): BookingOutcome => ({
        id: p.bookingId,
        goodsId: booking.goodsId,
        userId: p.userId,
        quantity: 1,
        status: BookingStatus.Confirmed,
        reason: null,
        promoted: true,
      })),
    ];
    // Committed in PostgreSQL: now live stock follows (if this fails, reconcile repairs it).
    await this.stock
      .release(
        booking.goodsId,
        who.id,
        booking.quantity,
        promoted.map((p) => p.userId),
      )
      .catch((error: Error) => this.logger.error(`release after cancel failed: ${error.message}`));
    await this.state.publish(outcomes).catch(() => undefined);
    this.metrics.count(BookingStatus.Cancelled);
    return toDto({ ...booking, status: BookingStatus.Cancelled });
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
    const goods = await this.stockRows.get(goodsId);
    if (!goods) {
      throw new AppError(ErrorCode.NotFound, 'No such goods.');
    }
    const live = (await redisOr503(() => this.stock.remainingOf([goodsId])))[0];
    const remaining = live ?? goods.bookingLimit - goods.bookingCount;
    if (remaining > 0) {
      throw new AppError(ErrorCode.NotSoldOut);
    }
    const held = (await this.repository.heldBy(goodsId, [who.id])).get(who.id) ?? 0;
    if (held >= goods.maxPerUser) {
      throw new AppError(
        goods.maxPerUser === 1 ? ErrorCode.AlreadyBooked : ErrorCode.LimitExceeded,
      );
    }
    const joined = await this.waitlist.joinWaitlist(goodsId, who.id).catch((error: unknown) => {
      throw foreignKeyRefusal(error);
    });
    if (joined === 'already') {
      throw new AppError(ErrorCode.AlreadyWaitlisted);
    }
    return this.waitlistPosition(who, goodsId);
  }

  async leaveWaitlist(who: AuthUser, goodsId: number): Promise<void> {
    if (!(await this.waitlist.leaveWaitlist(goodsId, who.id))) {
      throw new AppError(ErrorCode.NotWaitlisted);
    }
  }

  async waitlistPosition(who: AuthUser, goodsId: number): Promise<WaitlistPositionDto> {
    const found = await this.waitlist.waitlistPosition(goodsId, who.id);
    if (!found) {
      throw new AppError(ErrorCode.NotWaitlisted);
    }
    return { goodsId, ...found };
  }
}

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
