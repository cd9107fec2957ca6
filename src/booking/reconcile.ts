import type { Pool } from 'pg';

import type { StockState } from '../stock/stock.types';
import { Sql } from '../database/sql';
import type { ScriptedRedis } from '../redis/scripts';
import { StockRepository } from '../stock/stock.repository';
import { readEntry } from './booking-log';
import { bookingKeys } from './booking.keys';
import { stockKeys } from '../stock/stock.keys';

export interface Drift {
  goodsId: number;
  what: 'stock' | 'user' | 'missing';
  userId?: number;
  redis: number | null;
  expected: number;
}

export interface ReconcileReport {
  goods: number;
  loaded: number[];
  drift: Drift[];
}

interface Truth {
  goods: StockState[];
  /** goodsId → userId → quantity, confirmed in PostgreSQL plus admitted and not yet written. */
  held: Map<number, Map<number, number>>;
  /** goodsId → quantity admitted and not yet written. */
  pending: Map<number, number>;
}

function add(
  map: Map<number, Map<number, number>>,
  goodsId: number,
  userId: number,
  quantity: number,
): void {
  const users = map.get(goodsId) ?? new Map<number, number>();
  users.set(userId, (users.get(userId) ?? 0) + quantity);
  map.set(goodsId, users);
}

/**
 * What Redis should hold, from PostgreSQL plus the booking log's unwritten entries (entries
 * already committed but not yet acknowledged are recognised by their booking id).
 */
async function readTruth(db: Pool, redis: ScriptedRedis): Promise<Truth> {
  const goods = await new StockRepository(Sql.onPool(db)).all();
  const held = new Map<number, Map<number, number>>();
  const confirmed = await db.query<{ goodsId: number; userId: number; quantity: number }>(
    `SELECT goods_id AS "goodsId", user_id AS "userId", sum(quantity)::int AS quantity
     FROM bookings WHERE status = 'CONFIRMED' GROUP BY goods_id, user_id`,
  );
  confirmed.rows.forEach((r) => add(held, r.goodsId, r.userId, r.quantity));
  // An entry that does not read as a booking took nothing (admission writes none such); the
  // writer dead-letters it.
  const entries = (await redis.xrange(bookingKeys.log, '-', '+')).flatMap((entry) => {
    const read = readEntry(entry);
    return read.ok ? [read.booking] : [];
  });
  const written = new Set(
    (
      await db.query<{ id: string }>(`SELECT id FROM bookings WHERE id = ANY($1::uuid[])`, [
        entries.map((e) => e.id),
      ])
    ).rows.map((r) => r.id),
  );
  const pending = new Map<number, number>();
  for (const e of entries.filter((x) => !written.has(x.id))) {
    pending.set(e.goodsId, (pending.get(e.goodsId) ?? 0) + e.quantity);
    add(held, e.goodsId, e.userId, e.quantity);
  }
  return { goods, held, pending };
}

async function findDrift(redis: ScriptedRedis, truth: Truth): Promise<Drift[]> {
  const drift: Drift[] = [];
  for (const g of truth.goods) {
    const left = await redis.hget(stockKeys.goods(g.id), 'left');
    const expected = g.bookingLimit - g.bookingCount - (truth.pending.get(g.id) ?? 0);
    if (left === null) {
      drift.push({ goodsId: g.id, what: 'missing', redis: null, expected });
      continue;
    }
    if (Number(left) !== expected) {
      drift.push({ goodsId: g.id, what: 'stock', redis: Number(left), expected });
    }
    const users = await redis.hgetall(stockKeys.goodsUsers(g.id));
    const want = truth.held.get(g.id) ?? new Map<number, number>();
    for (const userId of new Set([...want.keys(), ...Object.keys(users).map(Number)])) {
      const have = Number(users[userId] ?? 0);
      if (have !== (want.get(userId) ?? 0)) {
        drift.push({
          goodsId: g.id,
          what: 'user',
          userId,
          redis: have,
          expected: want.get(userId) ?? 0,
        });
      }
    }
  }
  return drift;
}

const driftKey = (d: Drift) => `${d.goodsId}:${d.what}:${d.userId ?? ''}`;

/** Traffic moves both sides: a drift counts only if every one of `attempts` readings shows it. */
async function persistentDrift(db: Pool, redis: ScriptedRedis, attempts: number): Promise<Drift[]> {
  let drift = await findDrift(redis, await readTruth(db, redis));
  for (let i = 1; i < attempts && drift.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const seen = new Set((await findDrift(redis, await readTruth(db, redis))).map(driftKey));
    drift = drift.filter((d) => seen.has(driftKey(d)));
  }
  return drift;
}

async function loadMissing(db: Pool, redis: ScriptedRedis): Promise<ReconcileReport> {
  const truth = await readTruth(db, redis);
  const loaded: number[] = [];
  for (const g of truth.goods) {
    const pairs = [...(truth.held.get(g.id) ?? new Map<number, number>())].flatMap(([u, q]) => [
      u,
      q,
    ]);
    const done = await redis.loadGoods(
      stockKeys.goods(g.id),
      stockKeys.goodsUsers(g.id),
      g.bookingLimit - g.bookingCount - (truth.pending.get(g.id) ?? 0),
      g.maxPerUser,
      g.saleStartsAt?.getTime() ?? 0,
      g.saleEndsAt?.getTime() ?? 0,
      ...pairs,
    );
    if (done === 1) {
      loaded.push(g.id);
    }
  }
  return { goods: truth.goods.length, loaded, drift: [] };
}

/**
 * Rebuild Redis booking state from PostgreSQL for goods whose keys are missing (on start, and
 * `npm run reconcile`), or with `check` only report drift, changing nothing.
 */
export async function reconcile(
  db: Pool,
  redis: ScriptedRedis,
  options: { check: boolean; attempts?: number } = { check: false },
): Promise<ReconcileReport> {
  if (!options.check) {
    return loadMissing(db, redis);
  }
  const drift = await persistentDrift(db, redis, options.attempts ?? 3);
  const goods = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM goods')).rows[0].n;
  return { goods, loaded: [], drift };
}
