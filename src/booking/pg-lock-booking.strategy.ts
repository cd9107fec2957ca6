import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import type { AuthUser } from '../auth/auth-user';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { AppConfig } from '../config/app-config';
import { pgError } from '../database/sql';
import { answerFor, BookingAnswer, BookingOptions, toDto } from './booking-answers';
import { refusalError } from './booking-rules';
import { BookingState } from './booking-state';
import { BookingStrategy } from './booking-strategy';
import { BookingMetrics } from './booking.metrics';
import { RowLockRepository } from './row-lock.repository';
import { BookingStatus } from './lifecycle';

const PG_LOCK_NOT_AVAILABLE = '55P03';

/**
 * BOOKING_STRATEGY=pg-lock: one PostgreSQL transaction with the goods row locked, as the
 * original did first; answers 201 at once. The benchmark's baseline, and the fallback when
 * Redis is away (its rate limit fails open: PostgreSQL is the guard here).
 */
@Injectable()
export class RowLockBookingStrategy extends BookingStrategy {
  constructor(
    private readonly config: AppConfig,
    private readonly state: BookingState,
    private readonly repository: RowLockRepository,
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
    const [, , blocked] = await this.state.hitRateLimit(who.id).catch(() => [0, 0, 0] as const);
    if (blocked) {
      throw AppError.rateLimited(1);
    }
    let result: Awaited<ReturnType<RowLockRepository['bookWithRowLock']>>;
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
    if (result.outcome !== 'refused') {
      this.metrics.count(result.outcome === 'confirmed' ? BookingStatus.Confirmed : 'REPLAY');
      return answerFor(toDto(result.booking));
    }
    const refusal = refusalError(result.refusal, { maxPerUser: result.maxPerUser });
    this.metrics.count(refusal.code);
    throw refusal;
  }
}
