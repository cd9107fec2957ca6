import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { admissionRefusals, Refusal, refusalFor, saleTerms } from '../../src/booking/booking-rules';
import { Admission, BookingState } from '../../src/booking/booking-state';
import { decide } from '../../src/booking/decide';
import { RowLockRepository } from '../../src/booking/row-lock.repository';
import { AppConfig } from '../../src/config/app-config';
import { insertGoods, insertHost, insertUsers } from '../../src/database/fixtures';
import { Sql } from '../../src/database/sql';
import { createRedis } from '../../src/redis/redis.module';
import type { ScriptedRedis } from '../../src/redis/scripts';
import { StockRepository } from '../../src/stock/stock.repository';
import { RedisStock } from '../../src/stock/stock.service';
import type { StockState } from '../../src/stock/stock.types';
import { freshDatabaseUrl, freshRedisPrefix, testEnv } from '../support/env';

type When = 'past' | 'future' | 'none';
interface Case {
  name: string;
  left: number;
  max: number;
  starts?: When;
  ends?: When;
  held?: number;
  quantity: number;
  expect: Refusal | undefined;
}

/**
 * One table, three implementations of the booking rule: the pure function, the Lua admission
 * script on a real Redis, and the pg-lock strategy's transaction on a real PostgreSQL (plus the
 * writer's decide() where the sale is open). The Lua script cannot import the TypeScript, so
 * this is what keeps them from drifting apart, order of the checks included.
 */
const cases: Case[] = [
  { name: 'open, stock left', left: 10, max: 2, quantity: 1, expect: undefined },
  {
    name: 'inside both bounds',
    left: 10,
    max: 2,
    starts: 'past',
    ends: 'future',
    quantity: 1,
    expect: undefined,
  },
  {
    name: 'not open yet',
    left: 10,
    max: 2,
    starts: 'future',
    quantity: 1,
    expect: Refusal.SaleNotOpen,
  },
  {
    name: 'closed',
    left: 10,
    max: 2,
    starts: 'none',
    ends: 'past',
    quantity: 1,
    expect: Refusal.SaleClosed,
  },
  {
    name: 'not open, and sold out',
    left: 0,
    max: 2,
    starts: 'future',
    quantity: 1,
    expect: Refusal.SaleNotOpen,
  },
  {
    name: 'closed, and over the limit',
    left: 5,
    max: 1,
    ends: 'past',
    held: 1,
    quantity: 1,
    expect: Refusal.SaleClosed,
  },
  {
    name: 'quantity above the maximum',
    left: 10,
    max: 2,
    quantity: 3,
    expect: Refusal.QuantityAboveMax,
  },
  {
    name: 'quantity above the maximum, and sold out',
    left: 0,
    max: 2,
    quantity: 3,
    expect: Refusal.QuantityAboveMax,
  },
  {
    name: 'over the per-user limit',
    left: 10,
    max: 2,
    held: 1,
    quantity: 2,
    expect: Refusal.LimitExceeded,
  },
  {
    name: 'over the limit, and sold out',
    left: 0,
    max: 1,
    held: 1,
    quantity: 1,
    expect: Refusal.LimitExceeded,
  },
  { name: 'exactly the per-user limit', left: 10, max: 2, held: 1, quantity: 1, expect: undefined },
  { name: 'sold out', left: 0, max: 2, quantity: 1, expect: Refusal.SoldOut },
  { name: 'the last seats', left: 2, max: 4, quantity: 2, expect: undefined },
  { name: 'fewer left than asked', left: 1, max: 4, quantity: 2, expect: Refusal.SoldOut },
];

const HOUR = 3_600_000;
const at = (when: When | undefined, now: number): Date | null =>
  when === 'past' ? new Date(now - HOUR) : when === 'future' ? new Date(now + HOUR) : null;

/** The goods of a case: one phantom booked seat keeps booking_limit >= 1 when nothing is left. */
function goodsOf(c: Case, id: number, now: number): StockState {
  const held = c.held ?? 0;
  return {
    id,
    bookingLimit: c.left + held + 1,
    bookingCount: held + 1,
    maxPerUser: c.max,
    saleStartsAt: at(c.starts, now),
    saleEndsAt: at(c.ends, now),
  };
}

describe('the booking rule: one table through every implementation', () => {
  let redis: ScriptedRedis;
  let prefix: string;
  let pool: pg.Pool;
  let repository: RowLockRepository;
  let hostId: number;
  before(async () => {
    prefix = freshRedisPrefix();
    redis = createRedis(testEnv('REDIS_URL'), prefix);
    pool = new pg.Pool({ connectionString: await freshDatabaseUrl(), max: 2 });
    const sql = Sql.onPool(pool);
    repository = new RowLockRepository(sql, new StockRepository(sql));
    hostId = await insertHost(pool);
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) {
      await redis.del(...keys.map((k) => k.slice(prefix.length)));
    }
    await redis.quit();
    await pool.end();
  });

  it('the pure function', () => {
    const now = Date.now();
    for (const c of cases) {
      const terms = saleTerms(goodsOf(c, 1, now));
      assert.equal(refusalFor(terms, c.held ?? 0, c.quantity, now), c.expect, c.name);
    }
  });

  it('the Lua admission script, on a real Redis', async () => {
    const stock = new RedisStock(redis);
    const config = { idempotencyTtlSeconds: 60, bookingRateLimitPerSecond: 1000 } as AppConfig;
    const state = new BookingState(redis, config, stock);
    const now = Date.now();
    for (const [i, c] of cases.entries()) {
      const goods = goodsOf(c, 9000 + i, now);
      const userId = 77;
      await stock.load(goods, new Map(c.held ? [[userId, c.held]] : []), 0);
      const { code } = await state.admit({
        goodsId: goods.id,
        userId,
        quantity: c.quantity,
        bookingId: randomUUID(),
      });
      const got = code === Admission.Admitted ? undefined : admissionRefusals[code];
      assert.equal(got, c.expect, `${c.name}: code ${code}`);
    }
  });

  it('the pg-lock strategy, on a real PostgreSQL', async () => {
    const now = Date.now();
    for (const c of cases) {
      const g = goodsOf(c, 0, now);
      const [goodsId] = await insertGoods(pool, hostId, g);
      const [userId] = await insertUsers(pool, 1);
      if (c.held) {
        await pool.query(
          `INSERT INTO bookings (id, goods_id, user_id, quantity, status, requested_at)
           VALUES ($1, $2, $3, $4, 'CONFIRMED', now())`,
          [randomUUID(), goodsId, userId, c.held],
        );
      }
      const result = await repository.bookWithRowLock({
        bookingId: randomUUID(),
        goodsId,
        userId,
        quantity: c.quantity,
        idempotencyKey: null,
        lockTimeoutMs: 2000,
        now: new Date(now),
      });
      const got = result.outcome === 'refused' ? result.refusal : undefined;
      assert.equal(got, c.expect, `${c.name}: ${result.outcome}`);
    }
  });

  it("the writer's decide(), where the sale is open (it never judges the window: admission did)", () => {
    const now = Date.now();
    for (const c of cases.filter((x) => !x.starts && !x.ends)) {
      const goods = goodsOf(c, 5, now);
      const [decision] = decide(
        [
          {
            streamId: '1-0',
            id: 'b',
            goodsId: 5,
            userId: 3,
            quantity: c.quantity,
            idempotencyKey: null,
            requestedAtMs: now,
          },
        ],
        [],
        [goods],
        c.held ? [{ goodsId: 5, userId: 3, quantity: c.held }] : [],
      );
      // A quantity above a maximum lowered after admission is, once admitted, over the limit.
      const expect = c.expect === Refusal.QuantityAboveMax ? Refusal.LimitExceeded : c.expect;
      assert.equal(decision.reason ?? undefined, expect, c.name);
    }
  });
});
