import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import pg from 'pg';

import { Role } from '../../src/users/user.entity';
import { TestApp } from '../support/app';

for (const strategy of ['redis', 'pg-lock'] as const) {
  describe(`per-user booking rate limit (${strategy})`, () => {
    it('answers 429 RATE_LIMITED with Retry-After past the limit, before any stock is taken', async () => {
      const t = await TestApp.start({
        BOOKING_STRATEGY: strategy,
        BOOKING_RATE_LIMIT_PER_SECOND: '3',
      });
      try {
        const host = await t.newUser(Role.Host);
        const goods = await t.newGoods(host, { bookingLimit: 50, maxPerUser: 10 });
        const user = await t.newUser();
        // The Redis strategy counts per epoch second: start at the top of one, so that all six
        // fall in it (pg-lock's window starts at the first hit, so this changes nothing there).
        await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000)));
        const answers = await Promise.all(
          Array.from({ length: 6 }, () =>
            t.request('POST', `/api/goods/${goods.id}/bookings`, {
              token: user.token,
              body: {},
              headers: { prefer: 'wait=5' },
            }),
          ),
        );
        const limited = answers.filter((a) => a.status === 429);
        assert.equal(limited.length, 3, answers.map((a) => a.status).join(','));
        for (const a of limited) {
          assert.equal(a.body.code, 'RATE_LIMITED');
          assert.ok(Number(a.headers.get('retry-after')) >= 1);
        }
        const booked = answers.filter((a) => a.status === 201).length;
        assert.equal(booked, 6 - limited.length);
        assert.equal(
          (await t.request('GET', `/api/goods/${goods.id}`)).body.remaining,
          50 - booked,
        );
        // The window passes: the same user books again.
        await new Promise((r) => setTimeout(r, 1100));
        const later = await t.request('POST', `/api/goods/${goods.id}/bookings`, {
          token: user.token,
          body: {},
          headers: { prefer: 'wait=5' },
        });
        assert.equal(later.status, 201, JSON.stringify(later.body));
        // Another user is not affected.
        const other = await t.newUser();
        assert.equal(
          (
            await t.request('POST', `/api/goods/${goods.id}/bookings`, {
              token: other.token,
              body: {},
            })
          ).status < 300,
          true,
        );
      } finally {
        await t.close();
      }
    });

    it('counts replays of one Idempotency-Key too: sending a key again is no way past the limit (L5)', async () => {
      const t = await TestApp.start({
        BOOKING_STRATEGY: strategy,
        BOOKING_RATE_LIMIT_PER_SECOND: '3',
      });
      try {
        const host = await t.newUser(Role.Host);
        const goods = await t.newGoods(host, { bookingLimit: 50 });
        const user = await t.newUser();
        const send = () =>
          t.request('POST', `/api/goods/${goods.id}/bookings`, {
            token: user.token,
            body: {},
            headers: { 'idempotency-key': 'replayed-key', prefer: 'wait=5' },
          });
        // The first at the top of a second, then 30 replays inside it.
        await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000)));
        const first = await send();
        assert.equal(first.status, 201, JSON.stringify(first.body));
        const replays = await Promise.all(Array.from({ length: 30 }, send));
        const statuses = replays.map((a) => a.status);
        assert.equal(statuses.filter((s) => s === 429).length, 28, statuses.join(','));
        assert.ok(
          replays.filter((a) => a.status === 201).every((a) => a.body.id === first.body.id),
          'a replay that passes answers the first booking',
        );
        // Next second: the key replays again, still one booking.
        await new Promise((r) => setTimeout(r, 1100));
        const later = await send();
        assert.equal(later.status, 201);
        assert.equal(later.body.id, first.body.id);
        assert.equal((await t.request('GET', `/api/goods/${goods.id}`)).body.remaining, 49);
      } finally {
        await t.close();
      }
    });
  });
}

describe('Prefer: wait per user (L5)', () => {
  it('with no writer to settle them, one user waits on at most BOOKING_WAITERS_PER_USER; the rest are answered PENDING at once', async () => {
    // An API without a writer: every booking stays PENDING, as under a stalled writer.
    const t = await TestApp.start({
      APP_ROLE: 'api',
      BOOKING_WAITERS_PER_USER: '2',
      BOOKING_RATE_LIMIT_PER_SECOND: '1000',
    });
    try {
      const host = await t.newUser(Role.Host);
      const goods = await t.newGoods(host, { bookingLimit: 50, maxPerUser: 10 });
      const [user, other] = [await t.newUser(), await t.newUser()];
      const timed = async (token: string) => {
        const sent = Date.now();
        const reply = await t.request('POST', `/api/goods/${goods.id}/bookings`, {
          token,
          body: {},
          headers: { prefer: 'wait=2' },
        });
        return { status: reply.status, ms: Date.now() - sent };
      };
      const answers = await Promise.all([
        ...Array.from({ length: 6 }, () => timed(user.token)),
        timed(other.token),
      ]);
      assert.ok(
        answers.every((a) => a.status === 202),
        JSON.stringify(answers),
      );
      const mine = answers.slice(0, 6);
      assert.equal(mine.filter((a) => a.ms >= 1900).length, 2, JSON.stringify(answers));
      assert.equal(mine.filter((a) => a.ms < 1000).length, 4, JSON.stringify(answers));
      assert.ok(answers[6].ms >= 1900, 'another user still waits');
    } finally {
      await t.close();
    }
  });
});

describe('pg-lock strategy under a held row lock', () => {
  it('answers 503 BOOKING_BUSY with Retry-After when the goods row stays locked past PG_LOCK_TIMEOUT', async () => {
    const t = await TestApp.start({ BOOKING_STRATEGY: 'pg-lock', PG_LOCK_TIMEOUT: '200ms' });
    const blocker = new pg.Client({ connectionString: t.databaseUrl });
    await blocker.connect();
    try {
      const host = await t.newUser(Role.Host);
      const goods = await t.newGoods(host, { bookingLimit: 5 });
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM goods WHERE id = $1 FOR UPDATE', [goods.id]);
      const started = Date.now();
      const reply = await t.request('POST', `/api/goods/${goods.id}/bookings`, {
        token: (await t.newUser()).token,
        body: {},
      });
      assert.equal(reply.status, 503);
      assert.equal(reply.body.code, 'BOOKING_BUSY');
      assert.equal(reply.headers.get('retry-after'), '1');
      assert.ok(Date.now() - started < 1500);
      await blocker.query('ROLLBACK');
      const after = await t.request('POST', `/api/goods/${goods.id}/bookings`, {
        token: (await t.newUser()).token,
        body: {},
      });
      assert.equal(after.status, 201);
      assert.equal(
        (await t.db.query('SELECT booking_count FROM goods WHERE id = $1', [goods.id])).rows[0]
          .booking_count,
        1,
      );
    } finally {
      await blocker.end();
      await t.close();
    }
  });
});
