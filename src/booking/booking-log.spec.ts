import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { readEntry } from './booking-log';

const ID = '0b8f7c1e-5d1a-4c3e-9d7a-2f6e1b0c9a11';
/** The fields lua/admit-bookings-5.lua writes, with `over` replacing some. */
const fields = (over: Record<string, string> = {}): string[] =>
  Object.entries({ id: ID, g: '3', u: '7', q: '2', k: '', t: '1764000000000', ...over }).flat();

describe('readEntry (a booking log entry, checked field by field)', () => {
  it('reads what admission writes', () => {
    assert.deepEqual(readEntry(['1-0', fields({ k: 'key-1' })]), {
      ok: true,
      booking: {
        streamId: '1-0',
        id: ID,
        goodsId: 3,
        userId: 7,
        quantity: 2,
        idempotencyKey: 'key-1',
        requestedAtMs: 1764000000000,
      },
    });
    const noKey = readEntry(['1-0', fields()]);
    assert.ok(noKey.ok && noKey.booking.idempotencyKey === null);
  });

  const refused: [string, string[], string, boolean][] = [
    ['id not a UUID', fields({ id: 'not-a-uuid' }), 'id is not a UUID', false],
    ['user id x', fields({ u: 'x' }), 'user id (u)', true],
    ['quantity NaN', fields({ q: 'NaN' }), 'quantity (q)', true],
    ['quantity 0', fields({ q: '0' }), 'quantity (q)', true],
    ['quantity 1.5', fields({ q: '1.5' }), 'quantity (q)', true],
    ['goods id -1', fields({ g: '-1' }), 'goods id (g)', true],
    ['goods id past int4', fields({ g: '2147483648' }), 'goods id (g)', true],
    ['goods id 01', fields({ g: '01' }), 'goods id (g)', true],
    ['time missing', fields().slice(0, 10), 'time (t)', true],
    ['key missing', [...fields().slice(0, 8), ...fields().slice(10)], 'idempotency key', true],
    ['key with a newline', fields({ k: 'a\nb' }), 'idempotency key', true],
    ['an unknown field', [...fields(), 'v', '2'], 'unknown field(s) v', true],
    ['a field twice', [...fields(), 'g', '4'], "field 'g' twice", false],
    ['an odd number of fields', [...fields(), 'g'], 'odd number', false],
    ['no fields', [], 'id is not a UUID', false],
  ];
  for (const [name, entry, error, keepsId] of refused) {
    it(`refuses ${name}, alone, saying why`, () => {
      const read = readEntry(['5-1', entry]);
      assert.equal(read.ok, false);
      assert.ok(!read.ok);
      assert.ok(read.error.includes(error), read.error);
      assert.equal(read.streamId, '5-1');
      assert.deepEqual(read.fields, entry);
      assert.equal(read.bookingId, keepsId ? ID : undefined);
    });
  }

  it('carries a traceparent when tracing wrote one, and drops one that does not parse', () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const traced = readEntry(['1-0', fields({ tp })]);
    assert.ok(traced.ok && traced.booking.traceparent === tp);
    const garbled = readEntry(['1-0', fields({ tp: 'not a trace' })]);
    assert.ok(garbled.ok, 'the booking is still written');
    assert.equal(garbled.ok && garbled.booking.traceparent, undefined);
  });

  it('refuses a deleted entry (no fields) without throwing', () => {
    assert.equal(readEntry(['5-1', null]).ok, false);
  });

  it('never throws, and reads only entries whose every field is valid', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 16 }), (raw) => {
        const read = readEntry(['9-9', raw]);
        if (read.ok) {
          const b = read.booking;
          assert.ok(Number.isSafeInteger(b.goodsId) && b.goodsId > 0);
          assert.ok(Number.isSafeInteger(b.userId) && b.userId > 0);
          assert.ok(Number.isSafeInteger(b.quantity) && b.quantity > 0);
        }
      }),
    );
  });
});
