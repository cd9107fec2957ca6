import type { Pool } from 'pg';

import type { StockState } from '../stock/stock.types';
import { Sql } from '../database/sql';
import type { ScriptedRedis } from '../redis/scripts';
import { StockRepository } from '../stock/stock.repository';
import { RedisStock } from '../stock/stock.service';
import { readEntry } from './booking-log';
import { bookingKeys } from './booking.keys';
import { stockKeys } from '../stock/stock.keys';
import { holdsSeat } from './lifecycle';

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
 * What Redis should hold for `goodsIds` (all goods when undefined), from PostgreSQL plus the
 * booking log's unwritten entries (entries already committed but not yet acknowledged are
 * recognised by their booking id). Per goods, through the partial index of confirmed
 * bookings: a history of millions is read only for the goods asked about.
 */
async function readTruth(db: Pool, redis: ScriptedRedis, goodsIds?: number[]): Promise<Truth> {
  const stock = new StockRepository(Sql.onPool(db));
  const goods = goodsIds ? await stock.byIds(goodsIds) : await stock.all();
  const held = new Map<number, Map<number, number>>();
  const confirmed = await db.query<{ goodsId: number; userId: number; quantity: number }>(
    `SELECT goods_id AS "goodsId", user_id AS "userId", sum(quantity)::int AS quantity
     FROM bookings WHERE ${holdsSeat()} AND ($1::int[] IS NULL OR goods_id = ANY($1::int[]))
     GROUP BY goods_id, user_id`,
    [goodsIds ?? null],
  );
  confirmed.rows.forEach((r) => add(held, r.goodsId, r.userId, r.quantity));
  // An entry that does not read as a booking took nothing (admission writes none such); the
  // writer dead-letters it.
  const wanted = goodsIds ? new Set(goodsIds) : undefined;
  const entries = (await redis.xrange(bookingKeys.log, '-', '+')).flatMap((entry) => {
    const read = readEntry(entry);
    return read.ok && (!wanted || wanted.has(read.booking.goodsId)) ? [read.booking] : [];
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

/**
 * Goods whose sale has ended are loaded into Redis only when asked about (an admission, a
 * cancellation): absent, they are not drift.
 */
const saleEnded = (g: StockState): boolean =>
  g.saleEndsAt !== null && g.saleEndsAt !== undefined && g.saleEndsAt.getTime() <= Date.now();

/** Per-user counts of one goods in Redis against what PostgreSQL and the log say. */
function userDrift(
  goodsId: number,
  users: Record<string, string>,
  want = new Map<number, number>(),
): Drift[] {
  const drift: Drift[] = [];
  for (const userId of new Set([...want.keys(), ...Object.keys(users).map(Number)])) {
    const have = Number(users[userId] ?? 0);
    const expected = want.get(userId) ?? 0;
    if (have !== expected) {
      drift.push({ goodsId, what: 'user', userId, redis: have, expected });
    }
  }
  return drift;
}

/** One goods' Redis state (its `left` and its user hash) against the truth. */
function goodsDrift(
  g: StockState,
  left: string | null,
  users: Record<string, string>,
  truth: Truth,
): Drift[] {
  const expected = g.bookingLimit - g.bookingCount - (truth.pending.get(g.id) ?? 0);
  if (left === null) {
    return saleEnded(g) ? [] : [{ goodsId: g.id, what: 'missing', redis: null, expected }];
  }
  const stock: Drift[] =
    Number(left) === expected
      ? []
      : [{ goodsId: g.id, what: 'stock', redis: Number(left), expected }];
  return [...stock, ...userDrift(g.id, users, truth.held.get(g.id))];
}

/** Goods read from Redis per pipeline: an operator's check of thousands costs a few round trips. */
const DRIFT_CHUNK = 500;

async function findDrift(redis: ScriptedRedis, truth: Truth): Promise<Drift[]> {
  const drift: Drift[] = [];
  for (let from = 0; from < truth.goods.length; from += DRIFT_CHUNK) {
    const chunk = truth.goods.slice(from, from + DRIFT_CHUNK);
    const pipeline = redis.pipeline();
    for (const g of chunk) {
      pipeline.hget(stockKeys.goods(g.id), 'left').hgetall(stockKeys.goodsUsers(g.id));
    }
    const replies = (await pipeline.exec()) ?? [];
    chunk.forEach((g, i) => {
      const [leftError, left] = replies[2 * i] ?? [];
      const [usersError, users] = replies[2 * i + 1] ?? [];
      const error = leftError ?? usersError;
      if (error) {
        throw error instanceof Error ? error : new Error(String(error));
      }
      drift.push(...goodsDrift(g, left as string | null, users as Record<string, string>, truth));
    });
  }
  return drift;
}

const driftKey = (d: Drift) => `${d.goodsId}:${d.what}:${d.userId ?? ''}`;

/** Traffic moves both sides: a drift counts only if every one of `attempts` readings shows it. */
async function persistentDrift(
  db: Pool,
  redis: ScriptedRedis,
  attempts: number,
  goodsIds?: number[],
): Promise<Drift[]> {
  let drift = await findDrift(redis, await readTruth(db, redis, goodsIds));
  for (let i = 1; i < attempts && drift.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const seen = new Set(
      (await findDrift(redis, await readTruth(db, redis, goodsIds))).map(driftKey),
    );
    drift = drift.filter((d) => seen.has(driftKey(d)));
  }
  return drift;
}

/**
 * Load the goods whose sale has not ended and whose Redis state is missing (all of them into
 * an empty Redis, none after a restart from the AOF): one EXISTS each, pipelined, then the
 * history of only those goods.
 */
async function loadMissing(db: Pool, redis: ScriptedRedis): Promise<ReconcileReport> {
  const candidates = await new StockRepository(Sql.onPool(db)).unendedIds();
  const pipeline = redis.pipeline();
  candidates.forEach((id) => pipeline.exists(stockKeys.goods(id)));
  const exists = ((await pipeline.exec()) ?? []).map(([, n]) => n === 1);
  const missing = candidates.filter((_, i) => !exists[i]);
  if (missing.length === 0) {
    return { goods: candidates.length, loaded: [], drift: [] };
  }
  const truth = await readTruth(db, redis, missing);
  const stock = new RedisStock(redis);
  const loaded: number[] = [];
  for (const g of truth.goods) {
    const held = truth.held.get(g.id) ?? new Map<number, number>();
    if (await stock.load(g, held, truth.pending.get(g.id) ?? 0)) {
      loaded.push(g.id);
    }
  }
  return { goods: candidates.length, loaded, drift: [] };
}

/**
 * Rebuild Redis booking state from PostgreSQL for goods whose keys are missing (on start, and
 * `npm run reconcile`), or with `check` only report drift, changing nothing.
 */
export async function reconcile(
  db: Pool,
  redis: ScriptedRedis,
  options: { check: boolean; attempts?: number; goodsIds?: number[] } = { check: false },
): Promise<ReconcileReport> {
  if (!options.check) {
    return loadMissing(db, redis);
  }
  const drift = await persistentDrift(db, redis, options.attempts ?? 3, options.goodsIds);
  const goods = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM goods')).rows[0].n;
  return { goods, loaded: [], drift };
}
