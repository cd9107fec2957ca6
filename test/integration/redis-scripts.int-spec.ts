import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { AppConfig } from '../../src/config/app-config';
import { GoodsCache } from '../../src/goods/goods.cache';
import { RedisThrottlerStorage } from '../../src/rate-limit/redis-throttler.storage';
import { createRedis } from '../../src/redis/redis.module';
import type { ScriptedRedis } from '../../src/redis/scripts';
import { freshRedisPrefix, testEnv } from '../support/env';

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
});
