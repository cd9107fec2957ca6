import { Injectable } from '@nestjs/common';
import type { StockState } from '../stock/stock.types';
import type { PoolClient } from 'pg';

import { failureKind } from '../database/failure-kind';
import { Queryable, Sql } from '../database/sql';
import { StockRepository } from '../stock/stock.repository';
import { Refusal, refusalFor, saleTerms } from './booking-rules';
import type { BookingOutcome, BookingStatus, LoggedBooking } from './booking.types';

export interface BookingRow {
  id: string;
  goodsId: number;
  userId: number;
  quantity: number;
  status: BookingStatus;
  reason: string | null;
  requestedAt: string;
  goodsTitle?: string;
}

const BOOKING_COLUMNS = `b.id, b.goods_id AS "goodsId", b.user_id AS "userId", b.quantity, b.status, b.reason,
  to_char(b.requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "requestedAt"`;

/**
 * What a batch transaction does with its BEGIN, in the same round trip:
 * - plans made for each batch's own arrays, never a generic plan. A generic plan is cached after
 *   five executions and kept until the table is next analysed; made while `bookings` was nearly
 *   empty (a first sale), it was a sequential scan for `id = ANY(..)`, and as the table grew
 *   PostgreSQL went to 75 % CPU and the commit lag to 10-15 s (seen in one bench run in four).
 * - ROW EXCLUSIVE on bookings first, since the batch inserts bookings for users it has only
 *   read: a user's delete trigger takes SHARE (migration 1764200000000), so it waits for these
 *   and they for it.
 */
const BATCH_BEGIN = `SET LOCAL plan_cache_mode = force_custom_plan; LOCK TABLE bookings IN ROW EXCLUSIVE MODE`;

type Decision = BookingOutcome & { requestedAtMs: number; idempotencyKey: string | null };

@Injectable()
export class BookingRepository {
  constructor(
    private readonly sql: Sql,
    private readonly stock: StockRepository,
  ) {}

  getGoodsState(goodsId: number): Promise<StockState | undefined> {
    return this.stock.get(goodsId);
  }

  /** Each user's confirmed quantity of one goods: every holder's, or only `userIds`'. */
  async heldBy(goodsId: number, userIds?: number[], on?: PoolClient): Promise<Map<number, number>> {
    const rows = await this.sql.rows<{ userId: number; quantity: number }>(
      `SELECT user_id AS "userId", sum(quantity)::int AS quantity FROM bookings
       WHERE goods_id = $1 AND status = 'CONFIRMED'${userIds ? ' AND user_id = ANY($2::int[])' : ''}
       GROUP BY user_id`,
      userIds ? [goodsId, userIds] : [goodsId],
      on,
    );
    return new Map(rows.map((r) => [r.userId, r.quantity]));
  }

  /** The stored outcome of each of `ids` that is in the table. */
  storedOutcomes(ids: string[], tx: Queryable = this.sql.pool): Promise<BookingOutcome[]> {
    return this.sql.prepared<BookingOutcome>(
      'batch-stored',
      `SELECT id, goods_id AS "goodsId", user_id AS "userId", quantity, status, reason
       FROM bookings WHERE id = ANY($1::uuid[])`,
      [ids],
      tx,
    );
  }

  /**
   * Persist one batch of admitted requests in one transaction, in a fixed number of
   * statements whatever the batch size: read what is already stored (redelivery), lock the
   * goods rows in id order, read current per-user quantities, find users without an account,
   * decide each request in log order, insert all rows with one multi-row INSERT, move
   * booking_count with one UPDATE (each a named prepared statement).
   * The goods row locks serialise this with cancellations and the pg-lock strategy, so the
   * per-user and stock checks here are a guarded write; the CHECK constraint is the last guard.
   */
  async persistBatch(
    entries: LoggedBooking[],
    { redelivered }: { redelivered: boolean },
  ): Promise<BookingOutcome[]> {
    return this.sql.transaction(async (tx) => {
      const ids = entries.map((e) => e.id);
      const goodsIds = [...new Set(entries.map((e) => e.goodsId))].sort((a, b) => a - b);
      // Entries read for the first time are not stored yet (a batch is stored and then
      // acknowledged; what failed in between comes back claimed, as redelivered), unless another
      // writer claimed them from this one meanwhile: the insert finds those (below).
      const stored = redelivered ? await this.storedOutcomes(ids, tx) : [];
      const goods = await this.stock.lockMany(goodsIds, tx);
      // Only the (goods, user) pairs of this batch, one index probe each. `goods_id = ANY(..)
      // AND user_id = ANY(..)` probed every goods × user combination (20 goods × 500 users:
      // 10,000 descents, 2 → 12 ms a batch as the table grew), and a plain join over unnest()
      // hash-joins a sequential scan while the table's statistics are young (a first sale).
      // The aggregate keeps the LATERAL subquery a per-pair index scan.
      const pairs = [...new Set(entries.map((e) => `${e.goodsId}:${e.userId}`))].map((k) =>
        k.split(':'),
      );
      const active = await this.sql.prepared<{ goodsId: number; userId: number; quantity: number }>(
        'batch-active',
        `SELECT p.goods_id AS "goodsId", p.user_id AS "userId", held.quantity
         FROM unnest($1::int[], $2::int[]) AS p(goods_id, user_id),
         LATERAL (SELECT sum(b.quantity)::int AS quantity FROM bookings b
                  WHERE b.goods_id = p.goods_id AND b.user_id = p.user_id AND b.status = 'CONFIRMED') held
         WHERE held.quantity IS NOT NULL`,
        [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
        tx,
      );
      // A request whose user has no row (a restore, a purge) is refused alone. Users deleted
      // meanwhile cannot slip in: their delete trigger waits for this transaction's lock.
      const userIds = [...new Set(entries.map((e) => e.userId))];
      const known = await this.sql.prepared<{ id: number }>(
        'batch-users',
        `SELECT id FROM users WHERE id = ANY($1::int[])`,
        [userIds],
        tx,
      );
      const knownIds = new Set(known.map((u) => u.id));
      const missingUsers = new Set(userIds.filter((id) => !knownIds.has(id)));
      const decisions = decide(entries, stored, goods, active, missingUsers);
      const storedIds = new Set(stored.map((x) => x.id));
      const unstorable = new Set<string>([Refusal.GoodsRemoved, Refusal.UserRemoved]);
      const fresh = decisions.filter(
        (d) => !storedIds.has(d.id) && !unstorable.has(d.reason ?? ''),
      );
      const freshIds = new Set(fresh.map((d) => d.id));
      const inserted = await this.insert(tx, fresh);
      const deltas = new Map<number, number>();
      for (const d of fresh) {
        if (d.status === 'CONFIRMED' && inserted.has(d.id)) {
          deltas.set(d.goodsId, (deltas.get(d.goodsId) ?? 0) + d.quantity);
        }
      }
      await this.stock.addBooked(deltas, tx);
      // A row not inserted is already there under its id (another writer stored the same entry:
      // it claimed them from this one, thinking it dead), or was refused by the idempotency index
      // (it duplicates an earlier request: Redis lost the key). Rare: looked up only then.
      const notInserted = [...freshIds].filter((id) => !inserted.has(id));
      const storedMeanwhile = new Map(
        notInserted.length === 0
          ? []
          : (await this.storedOutcomes(notInserted, tx)).map((row) => [row.id, row]),
      );
      return decisions.map((d): BookingOutcome => {
        const { requestedAtMs: _t, idempotencyKey: _k, ...outcome } = d;
        if (!freshIds.has(d.id) || inserted.has(d.id)) {
          return outcome;
        }
        return (
          storedMeanwhile.get(d.id) ?? {
            ...outcome,
            status: 'REJECTED',
            reason: Refusal.DuplicateRequest,
          }
        );
      });
    }, BATCH_BEGIN);
  }

  private async insert(tx: PoolClient, rows: Decision[]): Promise<Set<string>> {
    if (rows.length === 0) {
      return new Set();
    }
    const inserted = await this.sql.prepared<{ id: string }>(
      'batch-insert',
      `INSERT INTO bookings (id, goods_id, user_id, quantity, status, reason, idempotency_key, requested_at)
       SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[],
                            $8::timestamptz[])
       ON CONFLICT DO NOTHING
       RETURNING id`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.goodsId),
        rows.map((r) => r.userId),
        rows.map((r) => r.quantity),
        rows.map((r) => r.status),
        rows.map((r) => r.reason),
        rows.map((r) => r.idempotencyKey),
        rows.map((r) => new Date(r.requestedAtMs)),
      ],
      tx,
    );
    return new Set(inserted.map((r) => r.id));
  }

  /**
   * Store bookings the writer could not write as REJECTED UNPROCESSABLE, each in a statement
   * of its own (one that fails again, as the same trigger or constraint may make it, is left
   * unstored: its outcome is still told and settled). Returns the ids stored.
   */
  async storeUnprocessable(
    rows: {
      id: string;
      goodsId: number;
      userId: number;
      quantity: number;
      requestedAtMs: number;
    }[],
  ): Promise<Set<string>> {
    const stored = new Set<string>();
    for (const r of rows) {
      try {
        await this.sql.rows(
          `INSERT INTO bookings (id, goods_id, user_id, quantity, status, reason, requested_at)
           VALUES ($1, $2, $3, $4, 'REJECTED', $5, $6) ON CONFLICT DO NOTHING`,
          [r.id, r.goodsId, r.userId, r.quantity, Refusal.Unprocessable, new Date(r.requestedAtMs)],
        );
        stored.add(r.id);
      } catch (error) {
        if (failureKind(error) === 'retryable') {
          throw error;
        }
      }
    }
    return stored;
  }

  /** Before a dead letter goes back on the log: its UNPROCESSABLE row goes, so it is decided again. */
  async forgetUnprocessable(id: string): Promise<{ stored: boolean }> {
    await this.sql.rows(
      `DELETE FROM bookings WHERE id = $1 AND status = 'REJECTED' AND reason = $2`,
      [id, Refusal.Unprocessable],
    );
    return {
      stored: (await this.sql.one(`SELECT 1 FROM bookings WHERE id = $1`, [id])) !== undefined,
    };
  }

  getById(id: string): Promise<BookingRow | undefined> {
    return this.sql.one<BookingRow>(`SELECT ${BOOKING_COLUMNS} FROM bookings b WHERE b.id = $1`, [
      id,
    ]);
  }

  async listByUser(
    userId: number,
    page: number,
    limit: number,
  ): Promise<{ items: BookingRow[]; total: number }> {
    const [items, count] = await Promise.all([
      this.sql.rows<BookingRow>(
        `SELECT ${BOOKING_COLUMNS}, g.title AS "goodsTitle" FROM bookings b JOIN goods g ON g.id = b.goods_id
         WHERE b.user_id = $1 ORDER BY b.requested_at DESC, b.id DESC LIMIT $2 OFFSET $3`,
        [userId, limit, (page - 1) * limit],
      ),
      this.sql.one<{ total: number }>(
        `SELECT count(*)::int AS total FROM bookings WHERE user_id = $1`,
        [userId],
      ),
    ]);
    return { items, total: count?.total ?? 0 };
  }

  /**
   * Cancel a confirmed booking and hand each returned seat to the next waitlisted user (first
   * come, first served, skipping anyone who would go over the per-user limit), in one
   * transaction under the goods row lock, so racing cancellations promote distinct users in order.
   */
  async cancel(
    bookingId: string,
    ownerId: number,
    newBookingIds: () => string,
  ): Promise<
    | {
        outcome: 'cancelled';
        booking: BookingRow;
        promoted: { userId: number; bookingId: string }[];
      }
    | { outcome: 'missing' }
    | { outcome: 'not-confirmed'; status: BookingStatus }
  > {
    return this.sql.transaction(async (tx) => {
      const found = await this.sql.one<BookingRow>(
        `SELECT ${BOOKING_COLUMNS} FROM bookings b WHERE b.id = $1 AND b.user_id = $2`,
        [bookingId, ownerId],
        tx,
      );
      if (!found) {
        return { outcome: 'missing' as const };
      }
      const goods = (await this.stock.lock(found.goodsId, tx))!;
      const cancelled = await this.sql.one<BookingRow>(
        `UPDATE bookings b SET status = 'CANCELLED', cancelled_at = now()
         WHERE b.id = $1 AND b.status = 'CONFIRMED' RETURNING ${BOOKING_COLUMNS}`,
        [bookingId],
        tx,
      );
      if (!cancelled) {
        const current = await this.sql.one<{ status: BookingStatus }>(
          `SELECT status FROM bookings WHERE id = $1`,
          [bookingId],
          tx,
        );
        return { outcome: 'not-confirmed' as const, status: current!.status };
      }
      const promoted = await this.promote(tx, goods, cancelled.quantity, newBookingIds);
      await this.stock.moveBooked(goods.id, promoted.length - cancelled.quantity, tx);
      return { outcome: 'cancelled' as const, booking: cancelled, promoted };
    });
  }

  private async promote(
    tx: PoolClient,
    goods: StockState,
    seats: number,
    newBookingId: () => string,
  ): Promise<{ userId: number; bookingId: string }[]> {
    const promoted: { userId: number; bookingId: string }[] = [];
    // What the users taken off the waitlist hold, read for them only (a goods' every holder
    // was read per cancellation: a thousand rows for one seat).
    const active = new Map<number, number>();
    while (promoted.length < seats) {
      const next = await this.sql.rows<{ userId: number }>(
        `DELETE FROM waitlist WHERE id IN (
           SELECT id FROM waitlist WHERE goods_id = $1 ORDER BY id LIMIT $2)
         RETURNING user_id AS "userId", id`,
        [goods.id, seats - promoted.length],
        tx,
      );
      if (next.length === 0) {
        break;
      }
      const unknown = next.map((n) => n.userId).filter((id) => !active.has(id));
      for (const [userId, quantity] of await this.heldBy(goods.id, unknown, tx)) {
        active.set(userId, quantity);
      }
      for (const { userId } of next.sort(
        (a, b) => Number((a as { id?: string }).id) - Number((b as { id?: string }).id),
      )) {
        if ((active.get(userId) ?? 0) + 1 > goods.maxPerUser) {
          continue; // can't hold another ticket: leaves the waitlist, seat goes to the next
        }
        active.set(userId, (active.get(userId) ?? 0) + 1);
        promoted.push({ userId, bookingId: newBookingId() });
      }
    }
    if (promoted.length > 0) {
      await tx.query(
        `INSERT INTO bookings (id, goods_id, user_id, quantity, status, requested_at, promoted)
         SELECT id, $3, user_id, 1, 'CONFIRMED', now(), true FROM unnest($1::uuid[], $2::int[]) AS p(id, user_id)`,
        [promoted.map((p) => p.bookingId), promoted.map((p) => p.userId), goods.id],
      );
    }
    return promoted;
  }

  /**
   * The pg-lock strategy: one transaction with the goods row locked (lock_timeout bounded),
   * checks, insert, increment. Returns the stored booking, or why not.
   */
  async bookWithRowLock(request: {
    bookingId: string;
    goodsId: number;
    userId: number;
    quantity: number;
    idempotencyKey: string | null;
    lockTimeoutMs: number;
    now: Date;
  }): Promise<
    | { outcome: 'confirmed' | 'replay'; booking: BookingRow }
    | { outcome: 'refused'; refusal: Refusal; maxPerUser?: number }
  > {
    return this.sql.transaction(async (tx) => {
      await tx.query(`SELECT set_config('lock_timeout', $1, true)`, [`${request.lockTimeoutMs}ms`]);
      const goods = await this.stock.lock(request.goodsId, tx);
      if (!goods) {
        return { outcome: 'refused' as const, refusal: Refusal.NoSuchGoods };
      }
      if (request.idempotencyKey !== null) {
        const earlier = await this.sql.one<BookingRow>(
          `SELECT ${BOOKING_COLUMNS} FROM bookings b WHERE b.user_id = $1 AND b.idempotency_key = $2`,
          [request.userId, request.idempotencyKey],
          tx,
        );
        if (earlier) {
          const same = earlier.goodsId === request.goodsId && earlier.quantity === request.quantity;
          return same
            ? { outcome: 'replay' as const, booking: earlier }
            : { outcome: 'refused' as const, refusal: Refusal.KeyReused };
        }
      }
      const held = await this.sql.one<{ n: number }>(
        `SELECT coalesce(sum(quantity), 0)::int AS n FROM bookings WHERE goods_id = $1 AND user_id = $2 AND status = 'CONFIRMED'`,
        [goods.id, request.userId],
        tx,
      );
      const refusal = refusalFor(
        saleTerms(goods),
        held?.n ?? 0,
        request.quantity,
        request.now.getTime(),
      );
      if (refusal) {
        return { outcome: 'refused' as const, refusal, maxPerUser: goods.maxPerUser };
      }
      // Only for a user who still has an account, whose row stays locked until the commit (a
      // delete waits, then its trigger sees this booking: migration 1764200000000).
      const booking = await this.sql.one<BookingRow>(
        `INSERT INTO bookings AS b (id, goods_id, user_id, quantity, status, idempotency_key, requested_at)
         SELECT $1, $2, $3, $4, 'CONFIRMED', $5, $6
         WHERE EXISTS (SELECT 1 FROM users WHERE id = $3 FOR KEY SHARE)
         RETURNING ${BOOKING_COLUMNS}`,
        [
          request.bookingId,
          goods.id,
          request.userId,
          request.quantity,
          request.idempotencyKey,
          request.now,
        ],
        tx,
      );
      if (!booking) {
        return { outcome: 'refused' as const, refusal: Refusal.UserRemoved };
      }
      await this.stock.moveBooked(goods.id, request.quantity, tx);
      return { outcome: 'confirmed' as const, booking };
    });
  }

  async latestConfirmedId(userId: number, goodsId: number): Promise<string | undefined> {
    const row = await this.sql.one<{ id: string }>(
      `SELECT id FROM bookings WHERE user_id = $1 AND goods_id = $2 AND status = 'CONFIRMED'
       ORDER BY requested_at DESC, id DESC LIMIT 1`,
      [userId, goodsId],
    );
    return row?.id;
  }

  async joinWaitlist(goodsId: number, userId: number): Promise<'joined' | 'already'> {
    const row = await this.sql.one(
      `INSERT INTO waitlist (goods_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id`,
      [goodsId, userId],
    );
    return row ? 'joined' : 'already';
  }

  async leaveWaitlist(goodsId: number, userId: number): Promise<boolean> {
    return (
      (await this.sql.one(
        `DELETE FROM waitlist WHERE goods_id = $1 AND user_id = $2 RETURNING id`,
        [goodsId, userId],
      )) !== undefined
    );
  }

  /** 1-based position, or undefined when not waiting. */
  async waitlistPosition(
    goodsId: number,
    userId: number,
  ): Promise<{ position: number; waiting: number } | undefined> {
    return this.sql.one<{ position: number; waiting: number }>(
      `SELECT (SELECT count(*)::int FROM waitlist w2 WHERE w2.goods_id = w.goods_id AND w2.id <= w.id) AS position,
              (SELECT count(*)::int FROM waitlist w3 WHERE w3.goods_id = w.goods_id) AS waiting
       FROM waitlist w WHERE w.goods_id = $1 AND w.user_id = $2`,
      [goodsId, userId],
    );
  }
}

/**
 * Decide each logged request in log order against the locked goods rows (pure). `missingUsers`:
 * users with no account (a valid token outlived it); their requests are refused, not stored.
 */
export function decide(
  entries: LoggedBooking[],
  stored: BookingOutcome[],
  goods: StockState[],
  active: { goodsId: number; userId: number; quantity: number }[],
  missingUsers: ReadonlySet<number> = new Set(),
): Decision[] {
  const storedById = new Map(stored.map((s) => [s.id, s]));
  const left = new Map(goods.map((g) => [g.id, g.bookingLimit - g.bookingCount]));
  const max = new Map(goods.map((g) => [g.id, g.maxPerUser]));
  const held = new Map(active.map((a) => [`${a.goodsId}:${a.userId}`, a.quantity]));
  return entries.map((e): Decision => {
    const base = {
      id: e.id,
      goodsId: e.goodsId,
      userId: e.userId,
      quantity: e.quantity,
      requestedAtMs: e.requestedAtMs,
      idempotencyKey: e.idempotencyKey,
    };
    const already = storedById.get(e.id);
    if (already) {
      return { ...base, status: already.status, reason: already.reason };
    }
    const stock = left.get(e.goodsId);
    if (stock === undefined) {
      return { ...base, status: 'REJECTED', reason: Refusal.GoodsRemoved };
    }
    if (missingUsers.has(e.userId)) {
      return { ...base, status: 'REJECTED', reason: Refusal.UserRemoved };
    }
    const key = `${e.goodsId}:${e.userId}`;
    const terms = { left: stock, maxPerUser: max.get(e.goodsId)!, startsAtMs: 0, endsAtMs: 0 };
    const refusal = refusalFor(terms, held.get(key) ?? 0, e.quantity);
    if (refusal) {
      // A quantity above a limit lowered since admission is, once admitted, over the limit.
      const reason = refusal === Refusal.QuantityAboveMax ? Refusal.LimitExceeded : refusal;
      return { ...base, status: 'REJECTED', reason };
    }
    left.set(e.goodsId, stock - e.quantity);
    held.set(key, (held.get(key) ?? 0) + e.quantity);
    return { ...base, status: 'CONFIRMED', reason: null };
  });
}
