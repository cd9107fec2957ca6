import { describe, expect, it } from 'vitest';

import {
  bookingReducer,
  type BookingEvent,
  type BookingState,
  initialBookingState,
  isBusy,
  MAX_ATTEMPTS,
} from './booking-machine';

const run = (events: BookingEvent[], from: BookingState = initialBookingState) =>
  events.reduce(bookingReducer, from);
const answer = (status: number, body: unknown, retryAfterMs = 1000): BookingEvent => ({
  type: 'answer',
  status,
  body,
  retryAfterMs,
  nowMs: 10_000,
});

describe('booking state machine', () => {
  it('a press sends once: a second press (a double click) while it is in flight does nothing', () => {
    const state = run([
      { type: 'press', key: 'k1' },
      { type: 'press', key: 'k2' },
    ]);
    expect(state).toEqual({ kind: 'sending', key: 'k1', attempt: 1 });
  });

  it('202 PENDING waits for the live status, then CONFIRMED', () => {
    const pending = run([
      { type: 'press', key: 'k' },
      answer(202, { id: 'b1', status: 'PENDING' }),
    ]);
    expect(pending).toEqual({ kind: 'pending', key: 'k', bookingId: 'b1' });
    expect(isBusy(pending)).toBe(true);
    expect(run([{ type: 'press', key: 'k9' }], pending)).toBe(pending);
    // Another booking's status changes nothing.
    expect(run([{ type: 'status', bookingId: 'other', status: 'CONFIRMED' }], pending)).toBe(
      pending,
    );
    expect(run([{ type: 'status', bookingId: 'b1', status: 'CONFIRMED' }], pending)).toEqual({
      kind: 'confirmed',
      bookingId: 'b1',
    });
    expect(
      run([{ type: 'status', bookingId: 'b1', status: 'REJECTED', reason: 'SOLD_OUT' }], pending),
    ).toEqual({ kind: 'refused', code: 'SOLD_OUT' });
  });

  it('201 CONFIRMED ends the press at once; a refusal keeps its code', () => {
    expect(
      run([{ type: 'press', key: 'k' }, answer(201, { id: 'b', status: 'CONFIRMED' })]),
    ).toEqual({ kind: 'confirmed', bookingId: 'b' });
    expect(run([{ type: 'press', key: 'k' }, answer(409, { code: 'ALREADY_BOOKED' })])).toEqual({
      kind: 'refused',
      code: 'ALREADY_BOOKED',
    });
  });

  it('429 and 503 wait as long as Retry-After says, then retry with the same key', () => {
    const waiting = run([{ type: 'press', key: 'k' }, answer(503, { code: 'BOOKING_BUSY' }, 3000)]);
    expect(waiting).toEqual({
      kind: 'waiting',
      key: 'k',
      attempt: 1,
      untilMs: 13_000,
      code: 'BOOKING_BUSY',
    });
    expect(run([{ type: 'press', key: 'other' }], waiting)).toBe(waiting);
    expect(run([{ type: 'retryDue' }], waiting)).toEqual({ kind: 'sending', key: 'k', attempt: 2 });
  });

  it('a network error backs off and retries with the same key; it gives up after MAX_ATTEMPTS', () => {
    let state = run([{ type: 'press', key: 'k' }]);
    const waits: number[] = [];
    for (let i = 1; i < MAX_ATTEMPTS; i++) {
      state = run([{ type: 'networkError', nowMs: 0 }], state);
      expect(state.kind).toBe('waiting');
      waits.push((state as { untilMs: number }).untilMs);
      state = run([{ type: 'retryDue' }], state);
      expect(state).toMatchObject({ kind: 'sending', key: 'k', attempt: i + 1 });
    }
    expect(waits.slice(0, 5)).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(run([{ type: 'networkError', nowMs: 0 }], state)).toEqual({
      kind: 'failed',
      code: 'NETWORK_ERROR',
    });
  });

  it('after a final state, a new press is a new booking with a new key', () => {
    const done = run([{ type: 'press', key: 'k1' }, answer(409, { code: 'SOLD_OUT' })]);
    expect(run([{ type: 'press', key: 'k2' }], done)).toEqual({
      kind: 'sending',
      key: 'k2',
      attempt: 1,
    });
  });

  it('an answer that arrives after the press moved on is ignored', () => {
    const waiting = run([{ type: 'press', key: 'k' }, answer(429, { code: 'RATE_LIMITED' })]);
    expect(run([answer(201, { id: 'x', status: 'CONFIRMED' })], waiting)).toBe(waiting);
  });
});
