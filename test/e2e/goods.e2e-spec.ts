import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Role } from '../../src/users/user.entity';
import { goodsBody, snapshot, TestApp, TestUser } from '../support/app';

describe('goods', () => {
  let t: TestApp;
  let host: TestUser;
  let otherHost: TestUser;
  let admin: TestUser;
  let user: TestUser;
  before(async () => {
    t = await TestApp.start();
    [host, otherHost, admin, user] = await Promise.all([
      t.newUser(Role.Host),
      t.newUser(Role.Host),
      t.newUser(Role.Admin),
      t.newUser(Role.User),
    ]);
  });
  after(() => t.close());

  describe('GET /api/me/sales', () => {
    it("lists the host's own goods with booked / limit and the waitlist; an admin sees all; a user may not", async () => {
      const mine = await t.newGoods(host, { title: 'Mine', bookingLimit: 1 });
      const theirs = await t.newGoods(otherHost, { title: 'Theirs' });
      const [fan, waiting] = [await t.newUser(), await t.newUser()];
      const booked = await t.request('POST', `/api/goods/${mine.id}/bookings`, {
        token: fan.token,
        body: {},
        headers: { prefer: 'wait=5' },
      });
      assert.equal(booked.status, 201);
      assert.equal(
        (await t.request('POST', `/api/goods/${mine.id}/waitlist`, { token: waiting.token }))
          .status,
        201,
      );
      const sales = await t.request('GET', '/api/me/sales', { token: host.token });
      assert.equal(sales.status, 200, sales.text);
      assert.equal(sales.headers.get('cache-control'), 'no-store');
      const row = sales.body.items.find((i: { goods: { id: number } }) => i.goods.id === mine.id);
      assert.deepEqual(
        [row.goods.bookingCount, row.goods.bookingLimit, row.goods.remaining, row.waitlist],
        [1, 1, 0, 1],
      );
      assert.ok(
        sales.body.items.every((i: { goods: { hostId: number } }) => i.goods.hostId === host.id),
      );
      const all = await t.request('GET', '/api/me/sales?limit=100', { token: admin.token });
      assert.ok(all.body.items.some((i: { goods: { id: number } }) => i.goods.id === theirs.id));
      const refused = await t.request('GET', '/api/me/sales', { token: user.token });
      assert.deepEqual([refused.status, refused.body.code], [403, 'FORBIDDEN']);
      const bad = await t.request('GET', '/api/me/sales?page=0', { token: host.token });
      assert.equal(bad.status, 400);
    });
  });

  describe('POST /api/goods', () => {
    it('creates goods for a host, who becomes its host; counts start at zero', async () => {
      const reply = await t.request('POST', '/api/goods', {
        token: host.token,
        body: goodsBody({
          title: '아이유 콘서트 🎤',
          saleStartsAt: '2027-01-10T20:00:00+09:00',
          maxPerUser: 4,
        }),
      });
      assert.equal(reply.status, 201, reply.text);
      assert.equal(reply.body.hostId, host.id);
      assert.equal(reply.body.bookingCount, 0);
      assert.equal(reply.body.remaining, 100);
      assert.equal(reply.body.maxPerUser, 4);
      assert.equal(reply.body.title, '아이유 콘서트 🎤');
      assert.equal(reply.body.saleStartsAt, '2027-01-10T11:00:00.000Z');
      assert.equal(reply.body.saleEndsAt, null);
      assert.equal(reply.body.showDate, '2027-03-01T19:00:00.000Z');
    });

    it('defaults maxPerUser to 1 and lets an admin create too', async () => {
      const reply = await t.request('POST', '/api/goods', {
        token: admin.token,
        body: goodsBody(),
      });
      assert.equal(reply.status, 201);
      assert.equal(reply.body.maxPerUser, 1);
      assert.equal(reply.body.hostId, admin.id);
    });

    it('refuses users (403) and the anonymous (401)', async () => {
      const asUser = await t.request('POST', '/api/goods', {
        token: user.token,
        body: goodsBody(),
      });
      assert.equal(asUser.status, 403);
      assert.equal(asUser.body.code, 'FORBIDDEN');
      const anonymous = await t.request('POST', '/api/goods', { body: goodsBody() });
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.code, 'UNAUTHORIZED');
    });

    it('refuses every invalid field and every server-owned field with 400, storing nothing', async () => {
      const before = await snapshot(t.db);
      const bad: Record<string, unknown>[] = [
        { title: '' },
        { title: 'x'.repeat(201) },
        { title: 5 },
        { content: null },
        { price: -1 },
        { price: 1.5 },
        { price: '100' },
        { price: 2 ** 31 },
        { imgUrl: 'javascript:alert(1)' },
        { imgUrl: 'not a url' },
        { showDate: 'tomorrow' },
        { showDate: '2027-02-30T10:00:00Z' },
        // ISO 8601's week and ordinal dates: PostgreSQL refuses them (a 500 before L3).
        { showDate: '2027-W10-1' },
        { showDate: '2027-W10-1T10:00:00Z' },
        { showDate: '2027-060' },
        { saleStartsAt: '2027-060T10:00:00Z' },
        { showDate: '2027-03-01T19:00:00' },
        { bookingLimit: 0 },
        { bookingLimit: '10' },
        { maxPerUser: 0 },
        { maxPerUser: null },
        { saleStartsAt: 'soon' },
        { saleStartsAt: '2027-02-01T00:00:00Z', saleEndsAt: '2027-01-01T00:00:00Z' },
        { bookingCount: 5 },
        { hostId: user.id },
        { id: 1 },
        { role: 'admin' },
      ];
      for (const fields of bad) {
        const reply = await t.request('POST', '/api/goods', {
          token: host.token,
          body: goodsBody(fields),
        });
        assert.equal(
          reply.status,
          400,
          `${JSON.stringify(fields)} → ${reply.status} ${reply.text}`,
        );
        assert.equal(reply.body.code, 'VALIDATION_FAILED');
      }
      const missing = goodsBody();
      delete missing.title;
      assert.equal(
        (await t.request('POST', '/api/goods', { token: host.token, body: missing })).status,
        400,
      );
      assert.equal(await snapshot(t.db), before);
    });

    it('stores SQL and script strings as plain text', async () => {
      const title = `'); DROP TABLE goods; -- <script>alert(1)</script>`;
      const created = await t.newGoods(host, { title, content: '" OR 1=1 --' });
      const read = await t.request('GET', `/api/goods/${created.id}`);
      assert.equal(read.body.title, title);
      assert.equal(read.body.content, '" OR 1=1 --');
      assert.equal(read.headers.get('content-type'), 'application/json; charset=utf-8');
    });
  });

  describe('GET /api/goods and /api/goods/:goodsId', () => {
    it('pages newest first with remaining and total', async () => {
      const created = [];
      for (let i = 0; i < 3; i++) {
        created.push(await t.newGoods(otherHost, { title: `page-${i}`, bookingLimit: 10 + i }));
      }
      const page = await t.request('GET', '/api/goods?page=1&limit=2');
      assert.equal(page.status, 200);
      assert.equal(page.body.items.length, 2);
      assert.equal(page.body.page, 1);
      assert.equal(page.body.limit, 2);
      const total = (await t.db.query('SELECT count(*)::int AS n FROM goods')).rows[0].n;
      assert.equal(page.body.total, total);
      assert.deepEqual(
        page.body.items.map((g: { id: number }) => g.id),
        [created[2].id, created[1].id],
      );
      assert.equal(page.body.items[0].remaining, 12);
      const defaults = await t.request('GET', '/api/goods');
      assert.equal(defaults.body.limit, 20);
    });

    it('refuses bad paging with 400', async () => {
      for (const query of [
        'page=0',
        'page=-1',
        'page=abc',
        'limit=0',
        'limit=101',
        'limit=1.5',
        'page=1&page=2',
        'extra=1',
      ]) {
        const reply = await t.request('GET', `/api/goods?${query}`);
        assert.equal(reply.status, 400, query);
        assert.equal(reply.body.code, 'VALIDATION_FAILED');
      }
    });

    it('answers 400 for a non-numeric id and 404 for an unknown one', async () => {
      for (const id of ['abc', '1.5', '-1', '0', '0x10', '1e3', '99999999999', '%00', "1'--"]) {
        const reply = await t.request('GET', `/api/goods/${id}`);
        assert.equal(reply.status, 400, id);
        assert.equal(reply.body.code, 'VALIDATION_FAILED');
      }
      const missing = await t.request('GET', '/api/goods/2147483647');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.code, 'NOT_FOUND');
    });

    it('serves repeated reads from Redis, and a write through the API is seen at once', async () => {
      const goods = await t.newGoods(host, { title: 'cached' });
      assert.equal((await t.request('GET', `/api/goods/${goods.id}`)).body.title, 'cached');
      // Change the row behind the service's back: a cached read does not see it (no SQL ran).
      await t.db.query(`UPDATE goods SET title = 'changed in sql' WHERE id = $1`, [goods.id]);
      assert.equal((await t.request('GET', `/api/goods/${goods.id}`)).body.title, 'cached');
      const listed = (await t.request('GET', '/api/goods?limit=100')).body.items.find(
        (g: { id: number }) => g.id === goods.id,
      );
      assert.ok(listed);
      await t.request('GET', '/api/goods?limit=100');
      const patched = await t.request('PATCH', `/api/goods/${goods.id}`, {
        token: host.token,
        body: { price: 1 },
      });
      assert.equal(patched.status, 200);
      const fresh = await t.request('GET', `/api/goods/${goods.id}`);
      assert.equal(fresh.body.title, 'changed in sql');
      assert.equal(fresh.body.price, 1);
      const list = (await t.request('GET', '/api/goods?limit=100')).body.items.find(
        (g: { id: number }) => g.id === goods.id,
      );
      assert.equal(list.price, 1);
    });
  });

  describe('PATCH and DELETE /api/goods/:goodsId', () => {
    it('lets its host and an admin edit; other hosts get 403, users 403', async () => {
      const goods = await t.newGoods(host);
      const own = await t.request('PATCH', `/api/goods/${goods.id}`, {
        token: host.token,
        body: { title: 'by host' },
      });
      assert.equal(own.status, 200);
      assert.equal(own.body.title, 'by host');
      const byAdmin = await t.request('PATCH', `/api/goods/${goods.id}`, {
        token: admin.token,
        body: { title: 'by admin' },
      });
      assert.equal(byAdmin.status, 200);
      const before = await snapshot(t.db);
      for (const who of [otherHost, user]) {
        const reply = await t.request('PATCH', `/api/goods/${goods.id}`, {
          token: who.token,
          body: { title: 'hijack' },
        });
        assert.equal(reply.status, 403);
        assert.equal(reply.body.code, 'FORBIDDEN');
      }
      assert.equal(await snapshot(t.db), before);
    });

    it('refuses server-owned and null fields on edit', async () => {
      const goods = await t.newGoods(host);
      const before = await snapshot(t.db);
      for (const body of [
        { bookingCount: 0 },
        { hostId: otherHost.id },
        { id: 5 },
        { title: null },
        { price: null },
        { bookingLimit: null },
      ]) {
        const reply = await t.request('PATCH', `/api/goods/${goods.id}`, {
          token: host.token,
          body,
        });
        assert.equal(reply.status, 400, JSON.stringify(body));
      }
      assert.equal(await snapshot(t.db), before);
    });

    it('can clear the sale window with null, and refuses an end before the start', async () => {
      const goods = await t.newGoods(host, {
        saleStartsAt: '2027-01-01T00:00:00Z',
        saleEndsAt: '2027-02-01T00:00:00Z',
      });
      const bad = await t.request('PATCH', `/api/goods/${goods.id}`, {
        token: host.token,
        body: { saleEndsAt: '2026-12-01T00:00:00Z' },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'VALIDATION_FAILED');
      const cleared = await t.request('PATCH', `/api/goods/${goods.id}`, {
        token: host.token,
        body: { saleStartsAt: null, saleEndsAt: null },
      });
      assert.equal(cleared.status, 200);
      assert.equal(cleared.body.saleStartsAt, null);
    });

    it('never sets bookingLimit below bookingCount (409)', async () => {
      const goods = await t.newGoods(host, { bookingLimit: 10 });
      await t.db.query('UPDATE goods SET booking_count = 6 WHERE id = $1', [goods.id]);
      const reply = await t.request('PATCH', `/api/goods/${goods.id}`, {
        token: host.token,
        body: { bookingLimit: 5 },
      });
      assert.equal(reply.status, 409);
      assert.equal(reply.body.code, 'BOOKING_LIMIT_BELOW_BOOKED');
      const ok = await t.request('PATCH', `/api/goods/${goods.id}`, {
        token: host.token,
        body: { bookingLimit: 6 },
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.remaining, 0);
    });

    it('deletes unbooked goods for its host; refuses booked goods (409), others (403), unknown (404)', async () => {
      const goods = await t.newGoods(host);
      assert.equal(
        (await t.request('DELETE', `/api/goods/${goods.id}`, { token: otherHost.token })).status,
        403,
      );
      const removed = await t.request('DELETE', `/api/goods/${goods.id}`, { token: host.token });
      assert.equal(removed.status, 204);
      assert.equal((await t.request('GET', `/api/goods/${goods.id}`)).status, 404);
      assert.equal(
        (await t.request('DELETE', `/api/goods/${goods.id}`, { token: host.token })).status,
        404,
      );

      const booked = await t.newGoods(host);
      await t.db.query('UPDATE goods SET booking_count = 1 WHERE id = $1', [booked.id]);
      const refused = await t.request('DELETE', `/api/goods/${booked.id}`, { token: admin.token });
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'GOODS_HAS_BOOKINGS');
      assert.equal((await t.request('GET', `/api/goods/${booked.id}`)).status, 200);

      // Nothing booked any more, but a cancelled booking still refers to it: 409, not a 500.
      const cancelled = await t.newGoods(host);
      await t.db.query(
        `INSERT INTO bookings (id, goods_id, user_id, quantity, status, requested_at, cancelled_at)
         VALUES (gen_random_uuid(), $1, $2, 1, 'CANCELLED', now(), now())`,
        [cancelled.id, otherHost.id],
      );
      const kept = await t.request('DELETE', `/api/goods/${cancelled.id}`, { token: host.token });
      assert.equal(kept.status, 409);
      assert.equal(kept.body.code, 'GOODS_HAS_BOOKINGS');
      assert.match(kept.body.message, /cancelled or refused/);
      assert.equal((await t.request('GET', `/api/goods/${cancelled.id}`)).status, 200);
      const history = await t.db.query('SELECT status FROM bookings WHERE goods_id = $1', [
        cancelled.id,
      ]);
      assert.deepEqual(history.rows, [{ status: 'CANCELLED' }]);
    });
  });
});
