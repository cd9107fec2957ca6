import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { auditGoods, waitForWritten } from '../../src/booking/audit';
import { REDIS } from '../../src/redis/redis.module';
import { Role } from '../../src/users/user.entity';
import { TestApp, TestUser } from '../support/app';

for (const strategy of ['redis', 'pg-lock'] as const) {
  describe(`booking races (${strategy})`, () => {
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

    it('one Idempotency-Key sent 20 times at once → one booking, one id in every answer', async () => {
      const goods = await t.newGoods(host, { bookingLimit: 50, maxPerUser: 5 });
      const user = await t.newUser();
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          t.request('POST', `/api/goods/${goods.id}/bookings`, {
            token: user.token,
            body: { quantity: 2 },
            headers: { 'idempotency-key': 'storm-1' },
          }),
        ),
      );
      assert.ok(
        answers.every((a) => a.status === 201 || a.status === 202),
        JSON.stringify(answers.map((a) => a.status)),
      );
      assert.equal(new Set(answers.map((a) => a.body.id)).size, 1);
      await waitForWritten(t.db, [answers[0].body.id]);
      const rows = await t.db.query('SELECT quantity, status FROM bookings WHERE goods_id = $1', [
        goods.id,
      ]);
      assert.deepEqual(rows.rows, [{ quantity: 2, status: 'CONFIRMED' }]);
      const again = await t.request('POST', `/api/goods/${goods.id}/bookings`, {
        token: user.token,
        body: { quantity: 2 },
        headers: { 'idempotency-key': 'storm-1' },
      });
      assert.equal(again.body.id, answers[0].body.id);
      assert.equal(again.body.status, 'CONFIRMED');
      assert.equal(again.status, 201);
    });

    it('20 cancellations at once with 30 waiting → the first 20 waiting get one seat each, in order', async () => {
      const SEATS = 20;
      const goods = await t.newGoods(host, { bookingLimit: SEATS });
      const holders = await Promise.all(Array.from({ length: SEATS }, () => t.newUser()));
      const bookings = [];
      for (const holder of holders) {
        const reply = await t.request('POST', `/api/goods/${goods.id}/bookings`, {
          token: holder.token,
          body: {},
          headers: { prefer: 'wait=5' },
        });
        assert.equal(reply.status, 201, reply.text);
        bookings.push({ holder, id: reply.body.id as string });
      }
      const waiting: TestUser[] = [];
      for (let i = 0; i < 30; i++) {
        const user = await t.newUser();
        const joined = await t.request('POST', `/api/goods/${goods.id}/waitlist`, {
          token: user.token,
        });
        assert.equal(joined.status, 201, joined.text);
        assert.equal(joined.body.position, i + 1);
        waiting.push(user);
      }
      const cancels = await Promise.all(
        bookings.map((b) =>
          t.request('DELETE', `/api/bookings/${b.id}`, { token: b.holder.token }),
        ),
      );
      assert.ok(
        cancels.every((c) => c.status === 200),
        JSON.stringify(cancels.map((c) => c.text)),
      );
      // Double cancels racing the first ones change nothing.
      const doubles = await Promise.all(
        bookings
          .slice(0, 5)
          .map((b) => t.request('DELETE', `/api/bookings/${b.id}`, { token: b.holder.token })),
      );
      assert.ok(doubles.every((d) => d.body.code === 'ALREADY_CANCELLED'));

      const promoted = await t.db.query<{ user_id: number; n: number }>(
        `SELECT user_id, count(*)::int AS n FROM bookings WHERE goods_id = $1 AND status = 'CONFIRMED' GROUP BY user_id`,
        [goods.id],
      );
      const promotedIds = promoted.rows.map((r) => r.user_id).sort((x, y) => x - y);
      assert.deepEqual(
        promotedIds,
        waiting
          .slice(0, SEATS)
          .map((u) => u.id)
          .sort((x, y) => x - y),
        'the first 20 in line, each once',
      );
      assert.ok(promoted.rows.every((r) => r.n === 1));
      const left = await t.db.query(
        'SELECT user_id FROM waitlist WHERE goods_id = $1 ORDER BY id',
        [goods.id],
      );
      assert.deepEqual(
        left.rows.map((r) => r.user_id),
        waiting.slice(SEATS).map((u) => u.id),
      );
      const report = await auditGoods(
        t.db,
        strategy === 'redis' ? t.app.get(REDIS) : undefined,
        goods.id,
        [],
      );
      assert.deepEqual(report.problems, []);
      assert.equal(report.confirmedQuantity, SEATS);
      const sold = await t.request('POST', `/api/goods/${goods.id}/bookings`, {
        token: (await t.newUser()).token,
        body: {},
        headers: { prefer: 'wait=5' },
      });
      assert.equal(sold.body.code, 'SOLD_OUT');
    });
  });
}
