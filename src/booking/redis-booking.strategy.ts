import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import type { AuthUser } from '../auth/auth-user';
import { AppConfig } from '../config/app-config';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { StockRepository } from '../stock/stock.repository';
import { tracing } from '../telemetry/tracing';
import { StockService } from '../stock/stock.service';
import { answerFor, BookingAnswer, BookingOptions, redisOr503, toDto } from './booking-answers';
import { BookingEvents } from './booking-events';
import { BookingReader } from './booking-reader';
import { admissionRefusals, refusalError, storedRefusal } from './booking-rules';
import { Admission, BookingState } from './booking-state';
import { BookingStrategy } from './booking-strategy';
import type { BookingDto } from './booking.dto';
import { BookingMetrics } from './booking.metrics';
import { BookingRepository } from './booking.repository';
import { BookingStatus } from './lifecycle';

/**
 * BOOKING_STRATEGY=redis: one Lua script admits (lua/admit-bookings-5.lua), the batch writer
 * makes it durable; the answer is 202 PENDING at once, or with `Prefer: wait` the outcome.
 */
@Injectable()
export class RedisBookingStrategy extends BookingStrategy {
  /** Users' `Prefer: wait` requests waiting on this instance, by user id. */
  private readonly waiting = new Map<number, number>();

  constructor(
    private readonly config: AppConfig,
    private readonly state: BookingState,
    private readonly stock: StockService,
    private readonly stockRows: StockRepository,
    private readonly repository: BookingRepository,
    private readonly reader: BookingReader,
    private readonly events: BookingEvents,
    private readonly metrics: BookingMetrics,
  ) {
    super();
  }

  async book(
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
      traceparent: '',
    };
    const result = await tracing.inSpan(
      'booking.admit',
      { 'booking.goods_id': goodsId, 'booking.id': request.bookingId },
      async () => {
        // The log entry carries this span's context: the writer's batch links to it.
        request.traceparent = tracing.traceparent();
        let admitted = await redisOr503(() => this.state.admit(request));
        if (admitted.code === Admission.NotLoaded) {
          await this.loadGoods(goodsId);
          admitted = await redisOr503(() => this.state.admit(request));
        }
        return admitted;
      },
    );
    if (result.code === Admission.Admitted) {
      this.metrics.count('ADMITTED');
      const pending: BookingDto = {
        id: result.bookingId,
        status: BookingStatus.Pending,
        goodsId,
        quantity,
      };
      return this.awaitOutcome(who.id, pending, options.waitMs);
    }
    if (result.code === Admission.Replay) {
      this.metrics.count('REPLAY');
      const booking = await this.reader.owned(who, result.bookingId);
      return booking.status === BookingStatus.Pending
        ? this.awaitOutcome(who.id, booking, options.waitMs)
        : answerFor(booking);
    }
    const refusal = refusalError(admissionRefusals[result.code], {
      maxPerUser: Number(result.detail),
      retryAfterMs: Number(result.detail),
    });
    this.metrics.count(refusal.code);
    throw refusal;
  }

  /** Load a goods' live stock from PostgreSQL (first use, or after Redis lost it). */
  private async loadGoods(goodsId: number): Promise<void> {
    const goods = await this.stockRows.get(goodsId);
    if (!goods) {
      throw new AppError(ErrorCode.NotFound, 'No such goods.');
    }
    const held = await this.repository.heldBy(goodsId);
    await redisOr503(() => this.stock.load(goods, held));
  }

  /**
   * `Prefer: wait`, within BOOKING_WAITERS_PER_USER per user on this instance (issue 23, L5):
   * Prefer is a preference (RFC 7240), so past the cap the answer comes at once, PENDING.
   */
  private async awaitOutcome(
    userId: number,
    pending: BookingDto,
    waitMs: number,
  ): Promise<BookingAnswer> {
    const waiting = this.waiting.get(userId) ?? 0;
    if (waitMs <= 0 || waiting >= this.config.bookingWaitersPerUser) {
      return answerFor(pending);
    }
    this.waiting.set(userId, waiting + 1);
    try {
      return await this.waitForOutcome(pending, waitMs);
    } finally {
      const left = (this.waiting.get(userId) ?? 1) - 1;
      if (left > 0) {
        this.waiting.set(userId, left);
      } else {
        this.waiting.delete(userId);
      }
    }
  }

  private async waitForOutcome(pending: BookingDto, waitMs: number): Promise<BookingAnswer> {
    // Settled before the wait began? Its record has gone from Redis by then, and the commit
    // happened before that, so PostgreSQL has the outcome (unless it was one not stored:
    // GOODS_REMOVED, USER_REMOVED; that wait ends PENDING and the booking reads 404).
    const outcome = await this.events.waitFor(pending.id, waitMs, async () => {
      if ((await this.state.getBooking(pending.id))?.status === BookingStatus.Pending) {
        return undefined;
      }
      const row = await this.repository.getById(pending.id);
      return row && row.status !== BookingStatus.Pending
        ? { ...pending, status: row.status, reason: row.reason, userId: 0 }
        : undefined;
    });
    if (!outcome) {
      return answerFor(pending);
    }
    if (outcome.status === BookingStatus.Rejected) {
      throw refusalError(storedRefusal(outcome.reason));
    }
    return answerFor(toDto({ ...pending, status: outcome.status, reason: outcome.reason }));
  }
}
