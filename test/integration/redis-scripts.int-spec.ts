import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { Admission, BookingState, RedisStalledError } from '../../src/booking/booking-state';
import { WRITERS_GROUP, bookingKeys } from '../../src/booking/booking.keys';
import { stockKeys } from '../../src/stock/stock.keys';
import type { BookingOutcome } from '../../src/booking/booking.types';
import { AppConfig } from '../../src/config/app-config';
import {
  ENDED_SALE_KEEP_MS,
  ENDED_SALE_RELOAD_MS,
  RedisStock,
} from '../../src/stock/stock.service';
import { currentWalPosition, ReadReplica } from '../../src/database/read-replica';
import { Queryable, Sql } from '../../src/database/sql';
import { GoodsCache, goodsCacheKeys } from '../../src/goods/goods.cache';
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

/** What BookingState reads of the configuration. */
const config = {
  idempotencyTtlSeconds: 60,
  bookingRateLimitPerSecond: 10,
  redisCommandTimeoutMs: 3000,
} as AppConfig;

/** A goods' live state as RedisStock loads it: five seats, two each, an open sale. */
const goodsState = (
  id: number,
  fields: { bookingLimit?: number; saleEndsAt?: Date | null } = {},
) => ({
  id,
  bookingLimit: 5,
  bookingCount: 0,
  maxPerUser: 2,
  saleStartsAt: null,
  saleEndsAt: null,
  ...fields,
});

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
    let pool: pg.Pool;
    let primary: Sql;
    /** The cache as the app builds it; no DATABASE_READ_URL unless `readUrl`. */
    const replicas: ReadReplica[] = [];
    const newCache = (readUrl?: string) => {
      const replica = new ReadReplica({
        ...config,
        databaseReadUrl: readUrl,
        databasePoolSize: 2,
      } as AppConfig);
      replicas.push(replica);
      return new GoodsCache(redis, config, primary, replica);
    };
    before(() => {
      pool = new pg.Pool({ connectionString: testEnv('TEST_PG_ADMIN_URL'), max: 2 });
      primary = Sql.onPool(pool);
    });
    after(async () => {
      await Promise.all(replicas.map((r) => r.onModuleDestroy()));
      await pool.end();
    });

    it('loads once, then serves from Redis until invalidated', async () => {
      const cache = newCache();
      let loads = 0;
      const load = () => Promise.resolve({ n: ++loads });
      assert.deepEqual(await cache.read('d:1', load), { n: 1 });
      assert.deepEqual(await cache.read('d:1', load), { n: 1 });
      await cache.invalidate();
      assert.deepEqual(await cache.read('d:1', load), { n: 2 });
      assert.equal(loads, 2);
    });

    it('never caches a value loaded before a concurrent write', async () => {
      const cache = newCache();
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

    it('keeps the WAL position of the last write beside its generation', async () => {
      const cache = newCache();
      const before = BigInt((await currentWalPosition(primary))!);
      await redis.del(goodsCacheKeys.position);
      await cache.invalidate(); // unknown stays unknown: an older write's position is not known
      assert.equal(await redis.get(goodsCacheKeys.position), null);
      const gen = (await redis.get(goodsCacheKeys.generation))!;
      assert.equal(
        await redis.raisePosition(goodsCacheKeys.generation, goodsCacheKeys.position, gen, '1'),
        1,
      );
      await cache.invalidate();
      const kept = BigInt((await redis.get(goodsCacheKeys.position))!);
      const after = BigInt((await currentWalPosition(primary))!);
      assert.ok(kept >= before && kept <= after, `${before} <= ${kept} <= ${after}`);
    });

    it('raises the position only; a reader sets it only while the generation holds', async () => {
      const { generation: g, position: p } = goodsCacheKeys;
      await redis.del(p);
      await redis.bumpGeneration(g, p, '500');
      assert.equal(await redis.get(p), null, 'a bump never makes an unknown position known');
      const gen = (await redis.get(g))!;
      assert.equal(await redis.raisePosition(g, p, String(Number(gen) - 1), '1000'), 0);
      assert.equal(await redis.get(p), null);
      assert.equal(await redis.raisePosition(g, p, gen, '1000'), 1);
      await redis.bumpGeneration(g, p, '900'); // a concurrent write that bumps second
      assert.equal(await redis.get(p), '1000');
      await redis.bumpGeneration(g, p, '1100');
      assert.equal(await redis.get(p), '1100');
      assert.equal(await redis.raisePosition(g, p, (await redis.get(g))!, '1050'), 1);
      assert.equal(await redis.get(p), '1100');
      await redis.bumpGeneration(g, p, ''); // a write whose position could not be read
      assert.equal(await redis.get(p), null);
    });

    it('loads a miss on the read path once the position is known', async () => {
      const cache = newCache(testEnv('TEST_PG_ADMIN_URL'));
      await redis.del(goodsCacheKeys.position);
      const connections: (Queryable | undefined)[] = [];
      const load = (on?: Queryable) => {
        connections.push(on);
        return Promise.resolve({ n: connections.length });
      };
      assert.deepEqual(await cache.read('d:read-path', load), { n: 1 });
      assert.ok(connections[0] !== undefined, 'loaded on a read-path connection');
      assert.ok((await redis.get(goodsCacheKeys.position)) !== null, 'asked the primary');
      await cache.invalidate();
      assert.deepEqual(await cache.read('d:read-path', load), { n: 2 });
      assert.ok(connections[1] !== undefined);
      assert.deepEqual(await newCache().read('d:other', load), { n: 3 });
      assert.equal(connections[2], undefined, 'no DATABASE_READ_URL: the primary');
    });

    it('does not cache "not found"', async () => {
      const cache = newCache();
      assert.equal(await cache.read('d:404', () => Promise.resolve(undefined)), undefined);
      assert.deepEqual(await cache.read('d:404', () => Promise.resolve({ found: true })), {
        found: true,
      });
    });
  });

  describe('admit-bookings and settle-bookings', () => {
    it('settling drops the PENDING records, gives a rejection its stock back once, and empties the log', async () => {
      const stock = new RedisStock(redis);
      const state = new BookingState(redis, config, stock);
      const goods = goodsState(41, { bookingLimit: 3 });
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

  describe('admission past its deadline (Redis held the call longer than we waited)', () => {
    it('admits nothing and writes nothing; the request is refused as Redis being away', async () => {
      const stock = new RedisStock(redis);
      const state = new BookingState(redis, config, stock);
      const goods = goodsState(61, { bookingLimit: 3 });
      await stock.load(goods, new Map());
      const logBefore = await redis.xlen(bookingKeys.log);
      // By this clock Redis is ten seconds behind: every deadline set by it has passed when
      // the script runs, as after a freeze of that long.
      Object.assign(state, { clock: { offsetMs: -10_000, uncertaintyMs: 0, atMs: Date.now() } });
      const key = 'late-key';
      const refused = await Promise.allSettled(
        [8, 9].map((userId) =>
          state.admit({
            goodsId: 61,
            userId,
            quantity: 1,
            bookingId: randomUUID(),
            idempotencyKey: key,
          }),
        ),
      );
      assert.deepEqual(
        refused.map((r) => r.status === 'rejected' && r.reason instanceof RedisStalledError),
        [true, true],
      );
      assert.equal(await redis.hget(stockKeys.goods(61), 'left'), '3');
      assert.equal(await redis.exists(stockKeys.goodsUsers(61)), 0);
      assert.equal(await redis.xlen(bookingKeys.log), logBefore);
      assert.equal(
        await redis.exists(bookingKeys.idempotencyPrefix + bookingKeys.idempotencySuffix(8, key)),
        0,
      );
      // A clock that is right again: the same request is admitted.
      Object.assign(state, { clock: undefined });
      const admitted = await state.admit({
        goodsId: 61,
        userId: 8,
        quantity: 1,
        bookingId: randomUUID(),
        idempotencyKey: key,
      });
      assert.equal(admitted.code, Admission.Admitted);
    });
  });

  describe('the state of an ended sale', () => {
    const expiry = async (key: string) => Number(await redis.call('PEXPIRETIME', key));
    const goods = (id: number, saleEndsAt: Date | null) => goodsState(id, { saleEndsAt });

    it('goes an hour after the end, the user hash made by an admission with it', async () => {
      const stock = new RedisStock(redis);
      const state = new BookingState(redis, config, stock);
      const ends = new Date(Date.now() + 60_000);
      await stock.load(goods(51, ends), new Map());
      const goesAt = ends.getTime() + ENDED_SALE_KEEP_MS;
      assert.equal(await expiry(stockKeys.goods(51)), goesAt);
      assert.equal(await redis.exists(stockKeys.goodsUsers(51)), 0);
      const admitted = await state.admit({
        goodsId: 51,
        userId: 3,
        quantity: 1,
        bookingId: randomUUID(),
      });
      assert.equal(admitted.code, Admission.Admitted);
      assert.equal(await expiry(stockKeys.goodsUsers(51)), goesAt);

      const later = new Date(ends.getTime() + 3_600_000);
      await stock.update(goods(51, later), 0); // the host moves the end
      for (const key of [stockKeys.goods(51), stockKeys.goodsUsers(51)]) {
        assert.equal(await expiry(key), later.getTime() + ENDED_SALE_KEEP_MS, key);
      }
      await stock.update(goods(51, null), 0); // …or takes it away: the sale stays open
      for (const key of [stockKeys.goods(51), stockKeys.goodsUsers(51)]) {
        assert.equal(await expiry(key), -1, key);
      }
    });

    it('loaded again long after the end (a late request), it stays only a while', async () => {
      const stock = new RedisStock(redis);
      await stock.load(goods(52, new Date(Date.now() - 86_400_000)), new Map([[4, 1]]));
      for (const key of [stockKeys.goods(52), stockKeys.goodsUsers(52)]) {
        const left = (await expiry(key)) - Date.now();
        assert.ok(left > ENDED_SALE_RELOAD_MS - 5_000 && left <= ENDED_SALE_RELOAD_MS, `${left}`);
      }
    });

    it('a cancellation that promotes waiting users gives the user hash the same end', async () => {
      const stock = new RedisStock(redis);
      const ends = new Date(Date.now() + 120_000);
      await stock.load(goods(53, ends), new Map());
      await redis.del(stockKeys.goodsUsers(53));
      await stock.release(53, 6, 1, [7]);
      assert.deepEqual(await redis.hgetall(stockKeys.goodsUsers(53)), { '7': '1' });
      assert.equal(await expiry(stockKeys.goodsUsers(53)), ends.getTime() + ENDED_SALE_KEEP_MS);
    });

    it('a sale without an end keeps its state', async () => {
      const stock = new RedisStock(redis);
      const state = new BookingState(redis, config, stock);
      await stock.load(goods(54, null), new Map());
      await state.admit({ goodsId: 54, userId: 3, quantity: 1, bookingId: randomUUID() });
      for (const key of [stockKeys.goods(54), stockKeys.goodsUsers(54)]) {
        assert.equal(await expiry(key), -1, key);
      }
    });
  });
});
