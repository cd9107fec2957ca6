import { Injectable } from '@nestjs/common';

import { Queryable, Sql } from '../database/sql';
import { statement } from '../database/statements';
import type { StockState } from './stock.types';

const STOCK_STATE = `id, booking_limit AS "bookingLimit", booking_count AS "bookingCount",
  max_per_user AS "maxPerUser", sale_starts_at AS "saleStartsAt", sale_ends_at AS "saleEndsAt"`;

/** The batch writer's: its goods rows, locked in id order. */
const LOCK_MANY = statement(
  'stock',
  'batch-goods',
  `SELECT ${STOCK_STATE} FROM goods WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE`,
);

/** The batch writer's one UPDATE of booked counts. */
const ADD_BOOKED = statement(
  'stock',
  'batch-count',
  `UPDATE goods g SET booking_count = g.booking_count + d.n, updated_at = now()
FROM unnest($1::int[], $2::int[]) AS d(id, n) WHERE g.id = d.id`,
);

/**
 * The stock columns of goods in PostgreSQL: booking reads and moves them only through here,
 * inside its own transactions (`tx`). The goods row lock serialises every change of a goods'
 * stock (the batch writer, cancellations, the pg-lock strategy); the CHECK
 * `booking_count <= booking_limit` is the last guard.
 */
@Injectable()
export class StockRepository {
  constructor(private readonly sql: Sql) {}

  get(goodsId: number, on?: Queryable): Promise<StockState | undefined> {
    return this.sql.one<StockState>(
      `SELECT ${STOCK_STATE} FROM goods WHERE id = $1`,
      [goodsId],
      on,
    );
  }

  /** Every goods (reconcile --check). */
  all(on?: Queryable): Promise<StockState[]> {
    return this.sql.rows<StockState>(`SELECT ${STOCK_STATE} FROM goods ORDER BY id`, [], on);
  }

  /** These goods (reconcile of some). */
  byIds(goodsIds: number[], on?: Queryable): Promise<StockState[]> {
    return this.sql.rows<StockState>(
      `SELECT ${STOCK_STATE} FROM goods WHERE id = ANY($1::int[]) ORDER BY id`,
      [goodsIds],
      on,
    );
  }

  /**
   * The ids of goods whose sale has not ended: the ones a writer's start loads into Redis
   * ahead of their rush (an ended sale refuses every booking; any other loads when first asked).
   */
  async unendedIds(on?: Queryable): Promise<number[]> {
    const rows = await this.sql.rows<{ id: number }>(
      `SELECT id FROM goods WHERE sale_ends_at IS NULL OR sale_ends_at > now() ORDER BY id`,
      [],
      on,
    );
    return rows.map((r) => r.id);
  }

  /** One goods, its row locked until `tx` ends. */
  lock(goodsId: number, tx: Queryable): Promise<StockState | undefined> {
    return this.sql.one<StockState>(
      `SELECT ${STOCK_STATE} FROM goods WHERE id = $1 FOR UPDATE`,
      [goodsId],
      tx,
    );
  }

  /** Several goods, locked in id order (so two batches never wait on each other in a cycle). */
  lockMany(goodsIds: number[], tx: Queryable): Promise<StockState[]> {
    return this.sql.prepared<StockState>(LOCK_MANY, [[...goodsIds].sort((a, b) => a - b)], tx);
  }

  /** Move several goods' booked counts at once (the batch writer's one UPDATE). */
  async addBooked(deltas: Map<number, number>, tx: Queryable): Promise<void> {
    if (deltas.size === 0) {
      return;
    }
    await this.sql.prepared(ADD_BOOKED, [[...deltas.keys()], [...deltas.values()]], tx);
  }

  /** Move one goods' booked count (a booking, a cancellation and its promotions). */
  async moveBooked(goodsId: number, delta: number, tx: Queryable): Promise<void> {
    await this.sql.rows(
      `UPDATE goods SET booking_count = booking_count + $2, updated_at = now() WHERE id = $1`,
      [goodsId, delta],
      tx,
    );
  }
}
