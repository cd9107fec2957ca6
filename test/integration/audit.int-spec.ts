import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { auditGoods } from '../../src/booking/audit';
import { stockKeys } from '../../src/stock/stock.keys';
import { createRedis } from '../../src/redis/redis.module';
import type { ScriptedRedis } from '../../src/redis/scripts';
import { insertGoods, insertHost, insertUsers } from '../../src/database/fixtures';
import { freshDatabaseUrl, freshRedisPrefix, testEnv } from '../support/env';

/**
 * The audit is what makes a benchmark result trustworthy, so it must fail on the states a
 * broken service would leave: more confirmed than seats, an accepted booking that was never
 * written, a count that disagrees, Redis that disagrees.
 */
describe('the booking audit catches a broken service', () => {
  let db: pg.Pool;
  let redis: ScriptedRedis;
  let prefix: string;
  let userIds: number[];
  let hostId: number;
  before(async () => {
    db = new pg.Pool({ connectionString: await freshDatabaseUrl(), max: 2 });
    prefix = freshRedisPrefix();
    redis = createRedis(testEnv('REDIS_URL'), prefix);
    hostId = await insertHost(db);
    userIds = await insertUsers(db, 5);
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) {
      await redis.del(...keys.map((k) => k.slice(prefix.length)));
    }
    await redis.quit();
    await db.end();
  });

  async function goodsWith(limit: number, count: number, maxPerUser = 1): Promise<number> {
    const [id] = await insertGoods(db, hostId, {
      bookingLimit: limit,
      bookingCount: count,
      maxPerUser,
    });
    return id;
  }

  async function confirm(goodsId: number, userId: number, quantity = 1): Promise<string> {
    const id = randomUUID();
    await db.query(
      `INSERT INTO bookings (id, goods_id, user_id, quantity, status, requested_at) VALUES ($1, $2, $3, $4, 'CONFIRMED', now())`,
      [id, goodsId, userId, quantity],
    );
    return id;
  }

  async function loadRedis(
    goodsId: number,
    left: number,
    users: Record<number, number>,
  ): Promise<void> {
    await redis.hset(stockKeys.goods(goodsId), { left, max: 1, start: 0, end: 0 });
    if (Object.keys(users).length > 0) {
      await redis.hset(stockKeys.goodsUsers(goodsId), users);
    }
  }

  it('passes a consistent state (so the failures below are not vacuous)', async () => {
    const goods = await goodsWith(2, 2);
    const ids = [await confirm(goods, userIds[0]), await confirm(goods, userIds[1])];
    await loadRedis(goods, 0, { [userIds[0]]: 1, [userIds[1]]: 1 });
    const report = await auditGoods(db, redis, goods, ids);
    assert.deepEqual(report.problems, []);
  });

  it('fails a service that confirms more than the stock', async () => {
    const goods = await goodsWith(2, 2);
    const ids = [
      await confirm(goods, userIds[0]),
      await confirm(goods, userIds[1]),
      await confirm(goods, userIds[2]),
    ];
    const report = await auditGoods(db, undefined, goods, ids);
    assert.equal(report.ok, false);
    assert.ok(
      report.problems.some((p) => p.startsWith('oversold')),
      report.problems.join('; '),
    );
  });

  it('fails a service that loses an accepted booking', async () => {
    const goods = await goodsWith(3, 1);
    const ids = [await confirm(goods, userIds[0]), randomUUID()];
    const report = await auditGoods(db, undefined, goods, ids);
    assert.ok(
      report.problems.some((p) => p.includes('missing from PostgreSQL')),
      report.problems.join('; '),
    );
  });

  it('fails a count that disagrees, a user over the limit, and Redis that disagrees', async () => {
    const goods = await goodsWith(5, 1);
    const ids = [await confirm(goods, userIds[3], 1), await confirm(goods, userIds[3], 1)];
    await loadRedis(goods, 4, { [userIds[3]]: 1 });
    const report = await auditGoods(db, redis, goods, ids);
    const text = report.problems.join('; ');
    assert.match(text, /booking_count 1 but 2 confirmed/);
    assert.match(text, /above maxPerUser/);
    assert.match(text, /redis (stock|user)/);
  });
});
