import assert from 'node:assert/strict';
import type { StockState } from '../stock/stock.types';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { decide } from './decide';
import type { LoggedBooking } from './booking.types';

const goodsArb = fc.record({
  id: fc.constant(1),
  bookingLimit: fc.integer({ min: 1, max: 20 }),
  maxPerUser: fc.integer({ min: 1, max: 4 }),
});

describe('decide (the batch writer, pure)', () => {
  it('never confirms beyond stock or a per-user limit, and confirms whatever a simple model would', () => {
    fc.assert(
      fc.property(
        goodsArb,
        fc.integer({ min: 0, max: 20 }),
        fc.array(
          fc.record({
            userId: fc.integer({ min: 1, max: 6 }),
            quantity: fc.integer({ min: 1, max: 4 }),
          }),
          { maxLength: 40 },
        ),
        (g, alreadyBooked, requests) => {
          const count = Math.min(alreadyBooked, g.bookingLimit);
          const goods: StockState = {
            ...g,
            bookingCount: count,
            saleStartsAt: null,
            saleEndsAt: null,
          };
          const entries: LoggedBooking[] = requests.map((r, i) => ({
            streamId: `${i}-0`,
            id: `id-${i}`,
            goodsId: 1,
            userId: r.userId,
            quantity: r.quantity,
            idempotencyKey: null,
            requestedAtMs: i,
          }));
          const decisions = decide(entries, [], [goods], []);
          // The model: walk the log in order with a counter and a per-user tally.
          let left = g.bookingLimit - count;
          const held = new Map<number, number>();
          entries.forEach((e, i) => {
            const mine = held.get(e.userId) ?? 0;
            const expected =
              mine + e.quantity > g.maxPerUser
                ? 'LIMIT_EXCEEDED'
                : left < e.quantity
                  ? 'SOLD_OUT'
                  : null;
            assert.equal(decisions[i].reason, expected);
            if (expected === null) {
              left -= e.quantity;
              held.set(e.userId, mine + e.quantity);
            }
          });
          assert.ok(left >= 0);
          const confirmed = decisions
            .filter((d) => d.status === 'CONFIRMED')
            .reduce((n, d) => n + d.quantity, 0);
          assert.ok(count + confirmed <= g.bookingLimit);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps what was already stored (a redelivered batch changes nothing) and rejects removed goods and users', () => {
    const entry: LoggedBooking = {
      streamId: '1-0',
      id: 'a',
      goodsId: 9,
      userId: 1,
      quantity: 1,
      idempotencyKey: null,
      requestedAtMs: 0,
    };
    const stored = [
      { id: 'a', goodsId: 9, userId: 1, quantity: 1, status: 'CONFIRMED' as const, reason: null },
    ];
    assert.equal(decide([entry], stored, [], [])[0].status, 'CONFIRMED');
    assert.equal(decide([entry], [], [], [])[0].reason, 'GOODS_REMOVED');
    const goods = {
      id: 9,
      bookingLimit: 5,
      bookingCount: 0,
      maxPerUser: 1,
      saleStartsAt: null,
      saleEndsAt: null,
    };
    const gone = decide([entry], [], [goods], [], new Set([1]))[0];
    assert.deepEqual([gone.status, gone.reason], ['REJECTED', 'USER_REMOVED']);
    assert.equal(decide([entry], [], [goods], [], new Set([2]))[0].status, 'CONFIRMED');
  });
});
