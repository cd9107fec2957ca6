import { Injectable } from '@nestjs/common';

import { Sql } from '../database/sql';
import { StockRepository } from '../stock/stock.repository';
import { Refusal, refusalFor, saleTerms } from './booking-rules';
import { BOOKING_COLUMNS, BookingRow } from './booking.repository';
import { BookingStatus, holdsSeat, sqlStatus } from './lifecycle';

/** The pg-lock strategy's one transaction. */
@Injectable()
export class RowLockRepository {
  constructor(
    private readonly sql: Sql,
    private readonly stock: StockRepository,
  ) {}

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
        `SELECT coalesce(sum(quantity), 0)::int AS n FROM bookings WHERE goods_id = $1 AND user_id = $2 AND ${holdsSeat()}`,
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
         SELECT $1, $2, $3, $4, ${sqlStatus(BookingStatus.Confirmed)}, $5, $6
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
}
