import type { AuthUser } from '../auth/auth-user';
import type { BookingAnswer, BookingOptions } from './booking-answers';

/**
 * How a booking request is decided: BOOKING_STRATEGY picks one provider once, at start
 * (booking.module.ts), instead of every caller asking which strategy runs.
 * - redis (RedisBookingStrategy): admission in Redis, durable by the batch writer;
 * - pg-lock (RowLockBookingStrategy): one transaction with the goods row locked.
 */
export abstract class BookingStrategy {
  abstract book(
    who: AuthUser,
    goodsId: number,
    quantity: number,
    options: BookingOptions,
  ): Promise<BookingAnswer>;
}
