import type { Pool } from 'pg';

import type { ScriptedRedis } from '../redis/scripts';
import { bookingKeys } from './booking.keys';
import { reconcile } from './reconcile';
import { holdsSeat } from './lifecycle';

export interface AuditReport {
  ok: boolean;
  problems: string[];
  confirmedQuantity: number;
  bookingCount: number;
  bookingLimit: number;
  statuses: Record<string, number>;
}

/**
 * Wait until the booking log is empty: every admitted request written and settled (a batch a
 * dead writer held is claimed after WRITER_CLAIM_IDLE). Resolves with the time it was seen
 * empty, or throws after `timeoutMs`.
 */
export async function waitForLogDrained(redis: ScriptedRedis, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while ((await redis.xlen(bookingKeys.log)) > 0) {
    if (Date.now() > deadline) {
      throw new Error(`the booking log did not drain in ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now();
}

/**
 * Wait until every accepted booking id has left PENDING (is written to PostgreSQL).
 * Resolves with the time the last one was seen written, or throws after `timeoutMs`.
 */
export async function waitForWritten(db: Pool, ids: string[], timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM bookings WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    if (rows[0].n >= new Set(ids).size) {
      return Date.now();
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${new Set(ids).size - rows[0].n} accepted booking(s) still not written after ${timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Check goods after a run, against PostgreSQL and Redis directly: no oversell, nobody over
 * maxPerUser, booking_count equal to the confirmed quantity, every accepted booking written
 * with a final status, and Redis in agreement with PostgreSQL. Problems name the goods when
 * there are several.
 */
export async function auditRun(
  db: Pool,
  redis: ScriptedRedis | undefined,
  goodsIds: number[],
  acceptedIds: string[],
): Promise<AuditReport> {
  const problems: string[] = [];
  const totals = { confirmedQuantity: 0, bookingCount: 0, bookingLimit: 0 };
  for (const goodsId of goodsIds) {
    const name = goodsIds.length > 1 ? `goods ${goodsId}: ` : '';
    const one = await auditStock(db, goodsId);
    one.problems.forEach((p) => problems.push(name + p));
    totals.confirmedQuantity += one.confirmed;
    totals.bookingCount += one.count;
    totals.bookingLimit += one.limit;
  }
  const statuses = await auditAccepted(db, acceptedIds, problems);
  if (redis) {
    const audited = new Set(goodsIds);
    const { drift } = await reconcile(db, redis, { check: true, goodsIds });
    drift
      .filter((d) => audited.has(d.goodsId))
      .forEach((d) =>
        problems.push(
          `redis ${d.what} of goods ${d.goodsId}${d.userId ? ` user ${d.userId}` : ''}: ${d.redis} ≠ ${d.expected}`,
        ),
      );
    const pending = await redis.xlen(bookingKeys.log);
    if (pending > 0) {
      problems.push(`${pending} entries still in the booking log`);
    }
  }
  return { ok: problems.length === 0, problems, ...totals, statuses };
}

/** One goods' audit (see auditRun). */
export function auditGoods(
  db: Pool,
  redis: ScriptedRedis | undefined,
  goodsId: number,
  acceptedIds: string[],
): Promise<AuditReport> {
  return auditRun(db, redis, [goodsId], acceptedIds);
}

/** Stock, booking_count and per-user limits of one goods, from PostgreSQL. */
async function auditStock(
  db: Pool,
  goodsId: number,
): Promise<{ problems: string[]; confirmed: number; count: number; limit: number }> {
  const problems: string[] = [];
  const goods = (
    await db.query<{ limit: number; count: number; max: number }>(
      `SELECT booking_limit AS limit, booking_count AS count, max_per_user AS max FROM goods WHERE id = $1`,
      [goodsId],
    )
  ).rows[0];
  const confirmed = (
    await db.query<{ q: number }>(
      `SELECT coalesce(sum(quantity), 0)::int AS q FROM bookings WHERE goods_id = $1 AND ${holdsSeat()}`,
      [goodsId],
    )
  ).rows[0].q;
  if (confirmed > goods.limit) {
    problems.push(`oversold: ${confirmed} confirmed for ${goods.limit} seats`);
  }
  if (confirmed !== goods.count) {
    problems.push(`booking_count ${goods.count} but ${confirmed} confirmed`);
  }
  const over = await db.query(
    `SELECT user_id, sum(quantity)::int AS q FROM bookings WHERE goods_id = $1 AND ${holdsSeat()}
     GROUP BY user_id HAVING sum(quantity) > $2`,
    [goodsId, goods.max],
  );
  if (over.rowCount) {
    problems.push(`${over.rowCount} user(s) above maxPerUser ${goods.max}`);
  }
  return { problems, confirmed, count: goods.count, limit: goods.limit };
}

/** Every accepted (201/202) booking is in PostgreSQL; its final statuses, counted. */
async function auditAccepted(
  db: Pool,
  acceptedIds: string[],
  problems: string[],
): Promise<Record<string, number>> {
  const unique = [...new Set(acceptedIds)];
  const written = await db.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM bookings WHERE id = ANY($1::uuid[]) GROUP BY status`,
    [unique],
  );
  const statuses: Record<string, number> = {};
  written.rows.forEach((r) => (statuses[r.status] = r.n));
  const found = written.rows.reduce((n, r) => n + r.n, 0);
  if (found !== unique.length) {
    problems.push(`${unique.length - found} accepted booking(s) missing from PostgreSQL`);
  }
  return statuses;
}
