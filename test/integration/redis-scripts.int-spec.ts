import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { Admission, BookingState } from '../../src/booking/booking-state';
import { WRITERS_GROUP, bookingKeys } from '../../src/booking/booking.keys';
import { stockKeys } from '../../src/stock/stock.keys';
import type { BookingOutcome } from '../../src/booking/booking.types';
import { AppConfig } from '../../src/config/app-config';
import { RedisStock } from '../../src/stock/stock.service';
import { GoodsCache } from '../../src/goods/goods.cache';
import { RedisThrottlerStorage } from '../../src/rate-limit/redis-throttler.storage';
import { createRedis } from '../../src/redis/redis.module';
import type { ScriptedRedis } from '../../src/redis/scripts';
import { freshRedisPrefix, testEnv } from '../support/env';

/** What a writer reads of the booking log: the ids of up to 10 new entries. */
async function readLog(redis: ScriptedRedis): Promise<string[]> {
  const reply = (await redis.xreadgroup(
    'GROUP',
    WRITERS_GROUP,
    'test',
    'COUNT',
    10,
    'STREAMS',
    bookingKeys.log,
    '>',
  )) as [string, [string, string[]][]][];
  return reply[0][1].map(([id]) => id);
}

describe('Redis scripts on a real Redis', () => {
  let redis: ScriptedRedis;
  let prefix: string;
  before(() => {
    prefix = freshRedisPrefix();
    redis = createRedis(testEnv('REDIS_URL'), prefix);
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) {
      await redis.del(...keys.map((k) => k.slice(prefix.length)));
    }
    await redis.quit();
  });

  describe('hit-window (rate limits)', () => {
    it('admits exactly `limit` of 200 concurrent hits and reports the time left', async () => {
      const results = await Promise.all(
        Array.from({ length: 200 }, () => redis.hitWindow('w:concurrent', 60_000, 37)),
      );
      assert.equal(results.filter(([, , blocked]) => blocked === 0).length, 37);
      assert.deepEqual(
        results.map(([hits]) => hits).sort((a, b) => a - b),
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      for (const [, msLeft] of results) {
        assert.ok(msLeft > 0 && msLeft <= 60_000);
      }
    });

    it('starts a new window after the old one expires', async () => {
      await redis.hitWindow('w:expiry', 100, 1);
      assert.equal((await redis.hitWindow('w:expiry', 100, 1))[2], 1);
      await new Promise((r) => setTimeout(r, 150));
      assert.deepEqual((await redis.hitWindow('w:expiry', 100, 1)).slice(0, 1), [1]);
    });

    it('peeks without counting', async () => {
      assert.deepEqual(await redis.peekWindow('w:absent'), [0, 0]);
      await redis.hitWindow('w:peek', 60_000, 5);
      const [hits] = await redis.peekWindow('w:peek');
      assert.equal(hits, 1);
      assert.equal((await redis.peekWindow('w:peek'))[0], 1);
    });

    it('backs @nestjs/throttler with blocked state and seconds to wait', async () => {
      const storage = new RedisThrottlerStorage(redis);
      const records = [];
      for (let i = 0; i < 4; i++) {
        records.push(await storage.increment('client-a', 30_000, 3, 30_000, 'default'));
      }
      const last = records[3];
      assert.equal(last.isBlocked, true);
      assert.equal(last.totalHits, 4);
      assert.ok(last.timeToBlockExpire >= 29 && last.timeToBlockExpire <= 30);
    });
  });

  describe('goods cache', () => {
    const config = { goodsCacheTtlSeconds: 60 } as AppConfig;

    it('loads once, then serves from Redis until invalidated', async () => {
      const cache = new GoodsCache(redis, config);
      let loads = 0;
      const load = () => Promise.resolve({ n: ++loads });
      assert.deepEqual(await cache.read('d:1', load), { n: 1 });
      assert.deepEqual(await cache.read('d:1', load), { n: 1 });
      await cache.invalidate();
      assert.deepEqual(await cache.read('d:1', load), { n: 2 });
      assert.equal(loads, 2);
    });

    it('never caches a value loaded before a concurrent write', async () => {
      const cache = new GoodsCache(redis, config);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const stale = cache.read('d:2', async () => {
        await gate;
        return { version: 'old' };
      });
      await new Promise((r) => setTimeout(r, 20)); // the reader has seen the generation
      await cache.invalidate(); // a write lands while the reader is still loading
      release();
      assert.deepEqual(await stale, { version: 'old' });
      assert.deepEqual(await cache.read('d:2', () => Promise.resolve({ version: 'new' })), {
        version: 'new',
      });
    });

    it('does not cache "not found"', async () => {
      const cache = new GoodsCache(redis, config);
      assert.equal(await cache.read('d:404', () => Promise.resolve(undefined)), undefined);
      assert.deepEqual(await cache.read('d:404', () => Promise.resolve({ found: true })), {
        found: true,
      });
    });
  });

  describe('admit-bookings and settle-bookings', () => {
    const config = { idempotencyTtlSeconds: 60, bookingRateLimitPerSecond: 10 } as AppConfig;

    it('settling drops the PENDING records, gives a rejection its stock back once, and empties the log', async () => {
      const stock = new RedisStock(redis);
      const state = new BookingState(redis, config, stock);
      const goods = {
        id: 41,
        bookingLimit: 3,
        bookingCount: 0,
        maxPerUser: 2,
        saleStartsAt: null,
        saleEndsAt: null,
      };
      assert.equal(await stock.load(goods, new Map()), true);
      await redis.ensureGroup(bookingKeys.log, WRITERS_GROUP);
      const admitted = await Promise.all(
        [7, 8].map((userId) =>
          state.admit({ goodsId: 41, userId, quantity: 1, bookingId: randomUUID() }),
        ),
      );
      assert.deepEqual(
        admitted.map((a) => a.code),
        [Admission.Admitted, Admission.Admitted],
      );
      const [confirmed, rejected] = admitted.map((a) => a.bookingId);
      assert.equal((await state.getBooking(confirmed))?.status, 'PENDING');
      const entryIds = await readLog(redis);
      assert.equal(entryIds.length, 2);
      const outcomes: BookingOutcome[] = [
        { id: confirmed, goodsId: 41, userId: 7, quantity: 1, status: 'CONFIRMED', reason: null },
        {
          id: rejected,
          goodsId: 41,
          userId: 8,
          quantity: 1,
          status: 'REJECTED',
          reason: 'SOLD_OUT',
        },
      ];
      const left = async () => Number(await redis.hget(stockKeys.goods(41), 'left'));
      assert.equal(await left(), 1);

      await state.settle(outcomes, entryIds, WRITERS_GROUP);
      assert.equal(await state.getBooking(confirmed), undefined);
      assert.equal(await state.getBooking(rejected), undefined);
      assert.equal(await left(), 2, "the rejected booking's seat is back");
      assert.deepEqual(await redis.hgetall(stockKeys.goodsUsers(41)), { '7': '1' });
      assert.equal(await redis.xlen(bookingKeys.log), 0);

      // A redelivered outcome (another writer settling the same entries) changes nothing.
      await state.settle(outcomes, entryIds, WRITERS_GROUP);
      assert.equal(await left(), 2);
      assert.deepEqual(await redis.hgetall(stockKeys.goodsUsers(41)), { '7': '1' });
      assert.equal(await redis.exists(bookingKeys.record(confirmed)), 0);
    });

    it("keeps a dead letter once however often its batch is settled, and a rejection returns the record's quantity, not the outcome's", async () => {
      const stock = new RedisStock(redis);
      const state = new BookingState(redis, config, stock);
      const goods = {
        id: 42,
        bookingLimit: 10,
        bookingCount: 0,
        maxPerUser: 5,
        saleStartsAt: null,
        saleEndsAt: null,
      };
      await stock.load(goods, new Map());
      await redis.ensureGroup(bookingKeys.log, WRITERS_GROUP);
      const { bookingId } = await state.admit({
        goodsId: 42,
        userId: 9,
        quantity: 3,
        bookingId: randomUUID(),
      });
      const garbage = await redis.xadd(bookingKeys.log, '*', 'junk', 'x');
      const entryIds = await readLog(redis);
      assert.equal(entryIds.length, 2);
      const left = async () => Number(await redis.hget(stockKeys.goods(42), 'left'));
      assert.equal(await left(), 7);
      // An outcome whose fields lie (a malformed entry's): the record says 3 seats of user 9.
      const outcome: BookingOutcome = {
        id: bookingId,
        goodsId: 42,
        userId: 1,
        quantity: 1,
        status: 'REJECTED',
        reason: 'UNPROCESSABLE',
      };
      const letter = {
        streamId: garbage!,
        fields: ['junk', 'x'],
        error: 'id is not a UUID',
        deliveries: 1,
      };
      await state.settle([outcome], entryIds, WRITERS_GROUP, [letter]);
      await state.settle([outcome], entryIds, WRITERS_GROUP, [letter]);
      assert.equal(await left(), 10);
      assert.deepEqual(await redis.hgetall(stockKeys.goodsUsers(42)), {});
      const dead = await redis.xrange(bookingKeys.deadLetters, '-', '+');
      assert.equal(dead.length, 1);
      const fields = Object.fromEntries(
        dead[0][1].flatMap((v, i, all) => (i % 2 === 0 ? [[v, all[i + 1]]] : [])),
      );
      assert.deepEqual(
        { ...fields, at: undefined },
        {
          entry: garbage,
          fields: '["junk","x"]',
          error: 'id is not a UUID',
          deliveries: '1',
          at: undefined,
        },
      );
      assert.ok(Math.abs(Number(fields.at) - Date.now()) < 5_000, fields.at);
      assert.equal(await redis.xlen(bookingKeys.log), 0);
      assert.ok(Number(await redis.get(bookingKeys.lastSettled)) > 0);
    });
  });
});
