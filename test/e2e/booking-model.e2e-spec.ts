import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import fc from 'fast-check';

import { auditGoods } from '../../src/booking/audit';
import { REDIS } from '../../src/redis/redis.module';
import { Role } from '../../src/users/user.entity';
import { TestApp, TestUser } from '../support/app';

type Op =
  | { kind: 'book'; user: number; quantity: number }
  | { kind: 'cancel'; user: number }
  | { kind: 'join'; user: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('book' as const),
      user: fc.integer({ min: 0, max: 3 }),
      quantity: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('cancel' as const),
      user: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('join' as const),
      user: fc.integer({ min: 0, max: 3 }),
    }),
  },
);

/** What a correct service answers, as plain arithmetic. */
class Model {
  stock: number;
  readonly held: number[] = [0, 0, 0, 0];
  readonly bookings: number[][] = [[], [], [], []]; // quantities, oldest first
  waitlist: number[] = [];

  constructor(
    limit: number,
    readonly max: number,
  ) {
    this.stock = limit;
  }

  private overLimitCode(): string {
    return this.max === 1 ? 'ALREADY_BOOKED' : 'LIMIT_EXCEEDED';
  }

  book(u: number, q: number): string {
    if (q > this.max) {
      return 'VALIDATION_FAILED';
    }
    if (this.held[u] + q > this.max) {
      return this.overLimitCode();
    }
    if (this.stock < q) {
      return 'SOLD_OUT';
    }
    this.stock -= q;
    this.held[u] += q;
    this.bookings[u].push(q);
    return 'CONFIRMED';
  }

  cancel(u: number): string {
    const q = this.bookings[u].pop();
    if (q === undefined) {
      return 'NOT_FOUND';
    }
    this.held[u] -= q;
    let seats = q;
    while (seats > 0 && this.waitlist.length > 0) {
      const w = this.waitlist.shift()!;
      if (this.held[w] + 1 <= this.max) {
        this.held[w] += 1;
        this.bookings[w].push(1);
        seats -= 1;
      }
    }
    this.stock += seats;
    return 'CANCELLED';
  }

  join(u: number): string {
    if (this.stock > 0) {
      return 'NOT_SOLD_OUT';
    }
    if (this.held[u] >= this.max) {
      return this.overLimitCode();
    }
    if (this.waitlist.includes(u)) {
      return 'ALREADY_WAITLISTED';
    }
    this.waitlist.push(u);
    return 'JOINED';
  }
}

for (const strategy of ['redis', 'pg-lock'] as const) {
  describe(`booking against a model (${strategy}, fast-check)`, () => {
    let t: TestApp;
    let host: TestUser;
    before(async () => {
      t = await TestApp.start({
        BOOKING_STRATEGY: strategy,
        BOOKING_RATE_LIMIT_PER_SECOND: '1000',
      });
      host = await t.newUser(Role.Host);
    });
    after(() => t.close());

    it('any sequence of book/cancel/join answers as the model does and keeps stock ≥ 0 and per-user limits', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 3 }),
          fc.array(opArb, { minLength: 1, maxLength: 14 }),
          async (limit, max, ops) => {
            const goods = await t.newGoods(host, { bookingLimit: limit, maxPerUser: max });
            const users = await Promise.all([0, 1, 2, 3].map(() => t.newUser()));
            const model = new Model(limit, max);
            for (const op of ops) {
              const user = users[op.user];
              let got: string;
              let want: string;
              if (op.kind === 'book') {
                want = model.book(op.user, op.quantity);
                const r = await t.request('POST', `/api/goods/${goods.id}/bookings`, {
                  token: user.token,
                  body: { quantity: op.quantity },
                  headers: { prefer: 'wait=5' },
                });
                got = r.body.code ?? r.body.status;
              } else if (op.kind === 'cancel') {
                want = model.cancel(op.user);
                const r = await t.request('DELETE', `/api/booking/${goods.id}`, {
                  token: user.token,
                });
                got = r.body.code ?? r.body.status;
              } else {
                want = model.join(op.user);
                const r = await t.request('POST', `/api/goods/${goods.id}/waitlist`, {
                  token: user.token,
                });
                got = r.status === 201 ? 'JOINED' : r.body.code;
              }
              assert.equal(
                got,
                want,
                `${JSON.stringify(op)} after ${JSON.stringify(ops.slice(0, ops.indexOf(op)))}`,
              );
            }
            const report = await auditGoods(
              t.db,
              strategy === 'redis' ? t.app.get(REDIS) : undefined,
              goods.id,
              [],
            );
            assert.deepEqual(report.problems, []);
            assert.equal(report.bookingLimit - report.confirmedQuantity, model.stock);
            const held = await t.db.query<{ user_id: number; q: number }>(
              `SELECT user_id, sum(quantity)::int AS q FROM bookings WHERE goods_id = $1 AND status = 'CONFIRMED' GROUP BY user_id`,
              [goods.id],
            );
            users.forEach((u, i) =>
              assert.equal(held.rows.find((r) => r.user_id === u.id)?.q ?? 0, model.held[i]),
            );
          },
        ),
        { numRuns: 60 },
      );
    });
  });
}
