import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { unprocessableAgain } from './booking.writer';
import type { BookingOutcome, LoggedBooking } from './booking.types';

const booking = (id: string, streamId: string): LoggedBooking => ({
  streamId,
  id,
  goodsId: 1,
  userId: 2,
  quantity: 1,
  idempotencyKey: null,
  requestedAtMs: 0,
});
const outcome = (id: string, reason: string | null): BookingOutcome => ({
  id,
  goodsId: 1,
  userId: 2,
  quantity: 1,
  status: reason ? 'REJECTED' : 'CONFIRMED',
  reason,
});

describe('unprocessableAgain (a dead letter an earlier delivery did not finish)', () => {
  it('moves a booking stored as UNPROCESSABLE back to the dead letters, with its fields', () => {
    const bookings = [booking('a', '1-0'), booking('b', '2-0')];
    const fields = new Map([
      ['1-0', ['id', 'a']],
      ['2-0', ['id', 'b']],
    ]);
    const written = unprocessableAgain(
      { outcomes: [outcome('a', null), outcome('b', 'UNPROCESSABLE')], failed: [] },
      bookings,
      fields,
    );
    assert.deepEqual(
      written.outcomes.map((o) => o.id),
      ['a'],
    );
    assert.deepEqual(
      written.failed.map((f) => [f.streamId, f.bookingId, f.fields]),
      [['2-0', 'b', ['id', 'b']]],
    );
    assert.match(written.failed[0].error, /earlier delivery/);
  });

  it('leaves a batch without such bookings as it is', () => {
    const written = { outcomes: [outcome('a', 'SOLD_OUT')], failed: [] };
    assert.equal(unprocessableAgain(written, [booking('a', '1-0')], new Map()), written);
  });
});
