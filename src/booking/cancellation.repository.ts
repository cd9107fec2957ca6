import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';

import { Sql } from '../database/sql';
import { StockRepository } from '../stock/stock.repository';
import type { StockState } from '../stock/stock.types';
import { BOOKING_COLUMNS, BookingRepository, BookingRow } from './booking.repository';
import { BookingStatus, sqlStatus } from './lifecycle';

/** A cancellation and the waitlist promotions it makes, in one transaction. */
@Injectable()
export class CancellationRepository {
  constructor(
    private readonly sql: Sql,
    private readonly stock: StockRepository,
    private readonly bookings: BookingRepository,
  ) {}

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
        `UPDATE bookings b SET status = ${sqlStatus(BookingStatus.Cancelled)}, cancelled_at = now()
         WHERE b.id = $1 AND b.status = ${sqlStatus(BookingStatus.Confirmed)} RETURNING ${BOOKING_COLUMNS}`,
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
      for (const [userId, quantity] of await this.bookings.heldBy(goods.id, unknown, tx)) {
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
         SELECT id, $3, user_id, 1, ${sqlStatus(BookingStatus.Confirmed)}, now(), true FROM unnest($1::uuid[], $2::int[]) AS p(id, user_id)`,
        [promoted.map((p) => p.bookingId), promoted.map((p) => p.userId), goods.id],
      );
    }
    return promoted;
  }
}
