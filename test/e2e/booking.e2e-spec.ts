import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { TokenService } from '../../src/auth/token.service';
import { Role } from '../../src/users/user.entity';
import { TestApp, TestUser } from '../support/app';
import { withoutInstance } from '../support/metrics';

const WAIT = { prefer: 'wait=5' };

for (const strategy of ['redis', 'pg-lock'] as const) {
  describe(`booking routes (${strategy})`, () => {
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

    const book = (
      user: TestUser,
      goodsId: number,
      options: { quantity?: number; headers?: Record<string, string>; body?: unknown } = {},
    ) =>
      t.request('POST', `/api/goods/${goodsId}/bookings`, {
        token: user.token,
        body: options.body ?? (options.quantity ? { quantity: options.quantity } : {}),
        headers: options.headers,
      });

    it('books with Prefer: wait → 201 CONFIRMED, durable in PostgreSQL, counted, readable by its owner only', async () => {
      const goods = await t.newGoods(host, { bookingLimit: 5, maxPerUser: 2 });
      const user = await t.newUser();
      const reply = await book(user, goods.id, { quantity: 2, headers: WAIT });
      assert.equal(reply.status, 201, reply.text);
      assert.equal(reply.body.status, 'CONFIRMED');
      assert.equal(reply.body.quantity, 2);
      const { rows } = await t.db.query(
        'SELECT status, quantity, user_id FROM bookings WHERE id = $1',
        [reply.body.id],
      );
      assert.deepEqual(rows, [{ status: 'CONFIRMED', quantity: 2, user_id: user.id }]);
      const goodsRow = await t.db.query('SELECT booking_count FROM goods WHERE id = $1', [
        goods.id,
      ]);
      assert.equal(goodsRow.rows[0].booking_count, 2);
      const mine = await t.request('GET', `/api/bookings/${reply.body.id}`, { token: user.token });
      assert.equal(mine.status, 200);
      assert.equal(mine.body.status, 'CONFIRMED');
      const other = await t.newUser();
      const theirs = await t.request('GET', `/api/bookings/${reply.body.id}`, {
        token: other.token,
      });
      assert.equal(theirs.status, 404);
      const detail = await t.request('GET', `/api/goods/${goods.id}`);
      assert.equal(detail.body.remaining, 3);
    });

    it('without Prefer answers at once: 202 PENDING (redis) or 201 (pg-lock), and ends CONFIRMED', async () => {
      const goods = await t.newGoods(host, { bookingLimit: 5 });
      const user = await t.newUser();
      const reply = await book(user, goods.id);
      assert.equal(reply.status, strategy === 'redis' ? 202 : 201, reply.text);
      assert.equal(reply.body.status, strategy === 'redis' ? 'PENDING' : 'CONFIRMED');
      let status = reply.body.status;
      for (let i = 0; i < 50 && status !== 'CONFIRMED'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = (await t.request('GET', `/api/bookings/${reply.body.id}`, { token: user.token }))
          .body.status;
      }
      assert.equal(status, 'CONFIRMED');
    });

    it('ignores a userId in the body: it is refused as an unknown field', async () => {
      const goods = await t.newGoods(host);
      const [user, victim] = [await t.newUser(), await t.newUser()];
      const reply = await book(user, goods.id, { body: { userId: victim.id } });
      assert.equal(reply.status, 400);
      assert.equal(
        (
          await t.db.query('SELECT count(*)::int AS n FROM bookings WHERE goods_id = $1', [
            goods.id,
          ])
        ).rows[0].n,
        0,
      );
    });

    it('refuses a second ticket (ALREADY_BOOKED), over the limit (LIMIT_EXCEEDED), and too large a quantity', async () => {
      const one = await t.newGoods(host, { bookingLimit: 10 });
      const user = await t.newUser();
      assert.equal((await book(user, one.id, { headers: WAIT })).status, 201);
      const again = await book(user, one.id, { headers: WAIT });
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'ALREADY_BOOKED');
      const two = await t.newGoods(host, { bookingLimit: 10, maxPerUser: 2 });
      assert.equal((await book(user, two.id, { headers: WAIT })).status, 201);
      const over = await book(user, two.id, { quantity: 2, headers: WAIT });
      assert.equal(over.status, 409);
      assert.equal(over.body.code, 'LIMIT_EXCEEDED');
      for (const body of [
        { quantity: 0 },
        { quantity: 1.5 },
        { quantity: '1' },
        { quantity: null },
        { quantity: 101 },
      ]) {
        const reply = await book(user, two.id, { body });
        assert.equal(reply.status, 400, JSON.stringify(body));
      }
    });

    it('answers SOLD_OUT, SALE_NOT_OPEN, SALE_CLOSED and 404/400 for bad goods ids', async () => {
      const tiny = await t.newGoods(host, { bookingLimit: 1 });
      assert.equal((await book(await t.newUser(), tiny.id, { headers: WAIT })).status, 201);
      const sold = await book(await t.newUser(), tiny.id, { headers: WAIT });
      assert.equal(sold.status, 409);
      assert.equal(sold.body.code, 'SOLD_OUT');
      const future = await t.newGoods(host, {
        saleStartsAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
      const early = await book(await t.newUser(), future.id);
      assert.equal(early.body.code, 'SALE_NOT_OPEN');
      const past = await t.newGoods(host, {
        saleStartsAt: '2020-01-01T00:00:00Z',
        saleEndsAt: '2020-02-01T00:00:00Z',
      });
      const late = await book(await t.newUser(), past.id);
      assert.equal(late.body.code, 'SALE_CLOSED');
      assert.equal((await book(await t.newUser(), 2_000_000_000)).status, 404);
      assert.equal(
        (await t.request('POST', '/api/goods/abc/bookings', { token: host.token, body: {} }))
          .status,
        400,
      );
      assert.equal(
        (await t.request('POST', `/api/goods/${tiny.id}/bookings`, { body: {} })).status,
        401,
      );
    });

    it('replays an Idempotency-Key: same booking; another request with the key → 422', async () => {
      const goods = await t.newGoods(host, { bookingLimit: 10, maxPerUser: 3 });
      const user = await t.newUser();
      const key = `key-${randomUUID()}`;
      const first = await book(user, goods.id, { headers: { 'idempotency-key': key, ...WAIT } });
      const second = await book(user, goods.id, { headers: { 'idempotency-key': key } });
      assert.equal(first.status, 201);
      assert.equal(second.body.id, first.body.id);
      assert.equal(second.body.status, 'CONFIRMED');
      const reused = await book(user, goods.id, {
        quantity: 2,
        headers: { 'idempotency-key': key },
      });
      assert.equal(reused.status, 422);
      assert.equal(reused.body.code, 'IDEMPOTENCY_KEY_REUSED');
      const bad = await book(user, goods.id, { headers: { 'idempotency-key': 'x'.repeat(256) } });
      assert.equal(bad.status, 400);
      assert.equal(
        (
          await t.db.query('SELECT count(*)::int AS n FROM bookings WHERE goods_id = $1', [
            goods.id,
          ])
        ).rows[0].n,
        1,
      );
    });

    it('cancels once (stock returns), refuses a second cancel, and others cannot cancel', async () => {
      const goods = await t.newGoods(host, { bookingLimit: 1 });
      const user = await t.newUser();
      const booked = await book(user, goods.id, { headers: WAIT });
      const stranger = await t.newUser();
      assert.equal(
        (await t.request('DELETE', `/api/bookings/${booked.body.id}`, { token: stranger.token }))
          .status,
        404,
      );
      const cancelled = await t.request('DELETE', `/api/bookings/${booked.body.id}`, {
        token: user.token,
      });
      assert.equal(cancelled.status, 200);
      assert.equal(cancelled.body.status, 'CANCELLED');
      const twice = await t.request('DELETE', `/api/bookings/${booked.body.id}`, {
        token: user.token,
      });
      assert.equal(twice.status, 409);
      assert.equal(twice.body.code, 'ALREADY_CANCELLED');
      assert.equal(
        (await t.db.query('SELECT booking_count FROM goods WHERE id = $1', [goods.id])).rows[0]
          .booking_count,
        0,
      );
      assert.equal(
        (await book(await t.newUser(), goods.id, { headers: WAIT })).status,
        201,
        'the seat is bookable again',
      );
    });

    it('waitlist: only when sold out, once; a cancellation promotes the first in line', async () => {
      const goods = await t.newGoods(host, { bookingLimit: 1 });
      const [holder, first, second] = [await t.newUser(), await t.newUser(), await t.newUser()];
      const early = await t.request('POST', `/api/goods/${goods.id}/waitlist`, {
        token: first.token,
      });
      assert.equal(early.body.code, 'NOT_SOLD_OUT');
      const booked = await book(holder, goods.id, { headers: WAIT });
      assert.equal(booked.status, 201);
      const joined = await t.request('POST', `/api/goods/${goods.id}/waitlist`, {
        token: first.token,
      });
      assert.equal(joined.status, 201, joined.text);
      assert.deepEqual(joined.body, { goodsId: goods.id, position: 1, waiting: 1 });
      assert.equal(
        (await t.request('POST', `/api/goods/${goods.id}/waitlist`, { token: first.token })).body
          .code,
        'ALREADY_WAITLISTED',
      );
      assert.equal(
        (await t.request('POST', `/api/goods/${goods.id}/waitlist`, { token: second.token })).body
          .position,
        2,
      );
      assert.equal(
        (await t.request('POST', `/api/goods/${goods.id}/waitlist`, { token: holder.token })).body
          .code,
        'ALREADY_BOOKED',
      );

      await t.request('DELETE', `/api/bookings/${booked.body.id}`, { token: holder.token });
      const firstBookings = await t.request('GET', '/api/me/bookings', { token: first.token });
      assert.equal(firstBookings.body.items.length, 1);
      assert.equal(firstBookings.body.items[0].status, 'CONFIRMED');
      assert.equal(firstBookings.body.items[0].goodsTitle, 'Test Concert');
      assert.equal(
        (await t.request('GET', `/api/goods/${goods.id}/waitlist`, { token: first.token })).status,
        404,
      );
      assert.equal(
        (await t.request('GET', `/api/goods/${goods.id}/waitlist`, { token: second.token })).body
          .position,
        1,
      );
      assert.equal(
        (await t.db.query('SELECT booking_count FROM goods WHERE id = $1', [goods.id])).rows[0]
          .booking_count,
        1,
      );
      assert.equal(
        (await book(await t.newUser(), goods.id, { headers: WAIT })).body.code,
        'SOLD_OUT',
        'the seat went to the waitlist, not to stock',
      );
      assert.equal(
        (await t.request('DELETE', `/api/goods/${goods.id}/waitlist`, { token: second.token }))
          .status,
        204,
      );
      assert.equal(
        (await t.request('DELETE', `/api/goods/${goods.id}/waitlist`, { token: second.token }))
          .status,
        404,
      );
    });

    it('exposes booking metrics: outcomes by code, admission-to-decision time, log length, stock per goods', async () => {
      const goods = await t.newGoods(host, { bookingLimit: 7 });
      await book(await t.newUser(), goods.id, { headers: WAIT });
      const metrics = withoutInstance((await t.request('GET', '/metrics')).text);
      assert.match(metrics, /booking_outcomes_total\{code="[A-Z_]+"\} \d+/);
      if (strategy === 'redis') {
        assert.match(metrics, /booking_admission_to_decision_seconds_count \d+/);
        assert.match(metrics, /booking_log_pending 0/);
        assert.match(metrics, new RegExp(`goods_remaining_stock\\{goods_id="${goods.id}"\\} 6`));
      }
    });

    it('a valid token for a user that no longer exists is refused and blocks nobody else', async () => {
      // Signed with our secret, so it verifies; the account is gone (a restore, a purge).
      const ghost = t.app.get(TokenService).sign({ id: 2_000_000_000, role: Role.User });
      const goods = await t.newGoods(host, { bookingLimit: 5 });
      const users = await Promise.all([t.newUser(), t.newUser(), t.newUser()]);
      // The ghost's request and three real ones reach the writer together.
      const [refused, ...booked] = await Promise.all([
        t.request('POST', `/api/goods/${goods.id}/bookings`, {
          headers: { authorization: `Bearer ${ghost}`, ...WAIT },
          body: {},
        }),
        ...users.map((u) => book(u, goods.id, { headers: WAIT })),
      ]);
      assert.equal(refused.status, 401, refused.text);
      assert.equal(refused.body.code, 'UNAUTHORIZED');
      assert.deepEqual(
        booked.map((r) => [r.status, r.body.status]),
        users.map(() => [201, 'CONFIRMED']),
      );
      const { rows } = await t.db.query(
        `SELECT count(*)::int AS n, (SELECT booking_count FROM goods WHERE id = $1) AS counted
         FROM bookings WHERE goods_id = $1 AND status = 'CONFIRMED'`,
        [goods.id],
      );
      assert.deepEqual(rows, [{ n: 3, counted: 3 }]);
      // The ghost's seat went back: two left, not one.
      assert.equal((await t.request('GET', `/api/goods/${goods.id}`)).body.remaining, 2);
      // Nor may it queue for a sold-out goods.
      const soldOut = await t.newGoods(host, { bookingLimit: 1 });
      assert.equal((await book(users[0], soldOut.id, { headers: WAIT })).status, 201);
      const queued = await t.request('POST', `/api/goods/${soldOut.id}/waitlist`, {
        headers: { authorization: `Bearer ${ghost}` },
      });
      assert.equal(queued.status, 401, queued.text);
      assert.equal(queued.body.code, 'UNAUTHORIZED');
    });

    it("keeps the original's routes: POST and DELETE /api/booking/:goodsId", async () => {
      const goods = await t.newGoods(host, { bookingLimit: 3 });
      const user = await t.newUser();
      const booked = await t.request('POST', `/api/booking/${goods.id}`, {
        token: user.token,
        headers: WAIT,
      });
      assert.equal(booked.status, 201, booked.text);
      const cancelled = await t.request('DELETE', `/api/booking/${goods.id}`, {
        token: user.token,
      });
      assert.equal(cancelled.status, 200);
      assert.equal(cancelled.body.id, booked.body.id);
      assert.equal(
        (await t.request('DELETE', `/api/booking/${goods.id}`, { token: user.token })).status,
        404,
      );
    });
  });
}
