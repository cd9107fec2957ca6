import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';

import { failureKind } from '../database/failure-kind';
import { Queryable, Sql } from '../database/sql';
import { statement } from '../database/statements';
import { StockRepository } from '../stock/stock.repository';
import { Refusal } from './booking-rules';
import type { BookingOutcome, LoggedBooking } from './booking.types';
import { Decision, decide } from './decide';
import { BookingStatus, holdsSeat, sqlStatus } from './lifecycle';

/**
 * What a batch transaction does with its BEGIN, in the same round trip:
 * - plans made for each batch's own arrays, never a generic plan. A generic plan is cached after
 *   five executions and kept until the table is next analysed; made while `bookings` was nearly
 *   empty (a first sale), it was a sequential scan for `id = ANY(..)`, and as the table grew
 *   the writer fell seconds behind (seen in one bench run in four).
 * - ROW EXCLUSIVE on bookings first, since the batch inserts bookings for users it has only
 *   read: a user's delete trigger takes SHARE (migration 1764200000000), so it waits for these
 *   and they for it.
 */
const BATCH_BEGIN = `SET LOCAL plan_cache_mode = force_custom_plan; LOCK TABLE bookings IN ROW EXCLUSIVE MODE`;

const STORED = statement(
  'booking',
  'batch-stored',
  `SELECT id, goods_id AS "goodsId", user_id AS "userId", quantity, status, reason
FROM bookings WHERE id = ANY($1::uuid[])`,
);

/**
 * Only the (goods, user) pairs of a batch, one index probe each. `goods_id = ANY(..) AND
 * user_id = ANY(..)` probed every goods × user combination (20 goods × 500 users: 10,000
 * descents a batch), and a plain join over unnest() hash-joins a
 * sequential scan while the table's statistics are young (a first sale). The aggregate keeps
 * the LATERAL subquery a per-pair index scan.
 */
const HELD = statement(
  'booking',
  'batch-active',
  `SELECT p.goods_id AS "goodsId", p.user_id AS "userId", held.quantity
FROM unnest($1::int[], $2::int[]) AS p(goods_id, user_id),
LATERAL (SELECT sum(b.quantity)::int AS quantity FROM bookings b
         WHERE b.goods_id = p.goods_id AND b.user_id = p.user_id AND ${holdsSeat('b.status')}) held
WHERE held.quantity IS NOT NULL`,
);

const KNOWN_USERS = statement(
  'booking',
  'batch-users',
  `SELECT id FROM users WHERE id = ANY($1::int[])`,
);

const INSERT = statement(
  'booking',
  'batch-insert',
  `INSERT INTO bookings (id, goods_id, user_id, quantity, status, reason, idempotency_key, requested_at)
SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[],
                     $8::timestamptz[])
ON CONFLICT DO NOTHING
RETURNING id`,
);

/** The booking writer's SQL: a batch in one transaction, and what a dead letter leaves. */
@Injectable()
export class BookingWriterRepository {
  constructor(
    private readonly sql: Sql,
    private readonly stock: StockRepository,
  ) {}

  /** The stored outcome of each of `ids` that is in the table. */
  storedOutcomes(ids: string[], tx: Queryable = this.sql.pool): Promise<BookingOutcome[]> {
    return this.sql.prepared<BookingOutcome>(STORED, [ids], tx);
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
      const goodsIds = [...new Set(entries.map((e) => e.goodsId))];
      // Entries read for the first time are not stored yet (a batch is stored and then
      // acknowledged; what failed in between comes back claimed, as redelivered), unless another
      // writer claimed them from this one meanwhile: the insert finds those (below).
      const stored = redelivered ? await this.storedOutcomes(ids, tx) : [];
      const goods = await this.stock.lockMany(goodsIds, tx);
      // (HELD says why it asks per pair.)
      const pairs = [...new Set(entries.map((e) => `${e.goodsId}:${e.userId}`))].map((k) =>
        k.split(':'),
      );
      const active = await this.sql.prepared<{ goodsId: number; userId: number; quantity: number }>(
        HELD,
        [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
        tx,
      );
      // A request whose user has no row (a restore, a purge) is refused alone. Users deleted
      // meanwhile cannot slip in: their delete trigger waits for this transaction's lock.
      const userIds = [...new Set(entries.map((e) => e.userId))];
      const known = await this.sql.prepared<{ id: number }>(KNOWN_USERS, [userIds], tx);
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
        if (d.status === BookingStatus.Confirmed && inserted.has(d.id)) {
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
            status: BookingStatus.Rejected,
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
      INSERT,
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
           VALUES ($1, $2, $3, $4, ${sqlStatus(BookingStatus.Rejected)}, $5, $6) ON CONFLICT DO NOTHING`,
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
      `DELETE FROM bookings WHERE id = $1 AND status = ${sqlStatus(BookingStatus.Rejected)} AND reason = $2`,
      [id, Refusal.Unprocessable],
    );
    return {
      stored: (await this.sql.one(`SELECT 1 FROM bookings WHERE id = $1`, [id])) !== undefined,
    };
  }
}
