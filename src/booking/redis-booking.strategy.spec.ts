import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import type { StockRepository } from '../stock/stock.repository';
import type { StockService } from '../stock/stock.service';
import type { BookingReader } from './booking-reader';
import { Admission, type BookingState, type LiveBooking } from './booking-state';
import type { BookingEvents } from './booking-events';
import type { BookingMetrics } from './booking.metrics';
import type { BookingRepository, BookingRow } from './booking.repository';
import { RedisBookingStrategy } from './redis-booking.strategy';
import type { BookingOutcome } from './booking.types';
import type { AppConfig } from '../config/app-config';

const who = { id: 7, email: 'u@example.com', role: 'user' } as never;

/**
 * A booking admitted with `Prefer: wait`, whose outcome the service checks once before it
 * waits for the event (fakes behind the service's own collaborators: only the check's logic).
 */
function serviceWhere(live: LiveBooking | undefined, row: Partial<BookingRow> | undefined) {
  const rowsRead: string[] = [];
  const state = {
    admit: () => Promise.resolve({ code: Admission.Admitted, bookingId: 'b-1', detail: 3 }),
    getBooking: () => Promise.resolve(live),
  } as unknown as BookingState;
  const repository = {
    getById: (id: string) => {
      rowsRead.push(id);
      return Promise.resolve(
        row && ({ id, goodsId: 1, userId: 7, quantity: 1, ...row } as BookingRow),
      );
    },
  } as unknown as BookingRepository;
  // No event arrives: the answer is whatever the check before the wait found.
  const events = {
    waitFor: (_id: string, _ms: number, current: () => Promise<BookingOutcome | undefined>) =>
      current(),
  } as unknown as BookingEvents;
  const metrics = { count: () => undefined } as unknown as BookingMetrics;
  const strategy = new RedisBookingStrategy(
    { bookingWaitersPerUser: 5 } as AppConfig,
    state,
    {} as StockService,
    {} as StockRepository,
    repository,
    {} as BookingReader,
    events,
    metrics,
  );
  const book = () => strategy.book(who, 1, 1, { waitMs: 5000 });
  return { book, rowsRead };
}

describe('RedisBookingStrategy: a waited booking settled before its wait began', () => {
  it('reads the outcome from PostgreSQL once its PENDING record has gone from Redis', async () => {
    const { book, rowsRead } = serviceWhere(undefined, { status: 'CONFIRMED', reason: null });
    const answer = await book();
    assert.equal(answer.httpStatus, 201);
    assert.equal(answer.booking.status, 'CONFIRMED');
    assert.deepEqual(rowsRead, ['b-1']);
  });

  it('answers a rejection read from PostgreSQL with its error code', async () => {
    const { book } = serviceWhere(undefined, { status: 'REJECTED', reason: 'SOLD_OUT' });
    await assert.rejects(
      book(),
      (e: unknown) => e instanceof AppError && e.code === ErrorCode.SoldOut,
    );
  });

  it('does not read PostgreSQL while the record is PENDING, and answers 202 when nothing came', async () => {
    const pending = { status: 'PENDING', g: '1', u: '7', q: '1' };
    const { book, rowsRead } = serviceWhere(pending, { status: 'CONFIRMED', reason: null });
    const answer = await book();
    assert.equal(answer.httpStatus, 202);
    assert.deepEqual(rowsRead, []);
  });

  it('answers 202 when neither Redis nor PostgreSQL has it (an outcome not stored)', async () => {
    const { book } = serviceWhere(undefined, undefined);
    assert.equal((await book()).httpStatus, 202);
  });
});
