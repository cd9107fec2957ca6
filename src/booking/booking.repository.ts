import { Injectable } from '@nestjs/common';

import { Queryable, Sql } from '../database/sql';
import { BookingStatus, holdsSeat, sqlStatus } from './lifecycle';

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

/** A booking row as BookingRow, `b` the bookings table's alias. */
export const BOOKING_COLUMNS = `b.id, b.goods_id AS "goodsId", b.user_id AS "userId", b.quantity, b.status, b.reason,
  to_char(b.requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "requestedAt"`;

/** Reads of bookings: one booking, a user's, what users hold. Writes live by what they do. */
@Injectable()
export class BookingRepository {
  constructor(private readonly sql: Sql) {}

  /** Each user's confirmed quantity of one goods: every holder's, or only `userIds`'. */
  async heldBy(goodsId: number, userIds?: number[], on?: Queryable): Promise<Map<number, number>> {
    const rows = await this.sql.rows<{ userId: number; quantity: number }>(
      `SELECT user_id AS "userId", sum(quantity)::int AS quantity FROM bookings
       WHERE goods_id = $1 AND ${holdsSeat()}${userIds ? ' AND user_id = ANY($2::int[])' : ''}
       GROUP BY user_id`,
      userIds ? [goodsId, userIds] : [goodsId],
      on,
    );
    return new Map(rows.map((r) => [r.userId, r.quantity]));
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

  async latestConfirmedId(userId: number, goodsId: number): Promise<string | undefined> {
    const row = await this.sql.one<{ id: string }>(
      `SELECT id FROM bookings WHERE user_id = $1 AND goods_id = $2 AND status = ${sqlStatus(BookingStatus.Confirmed)}
       ORDER BY requested_at DESC, id DESC LIMIT 1`,
      [userId, goodsId],
    );
    return row?.id;
  }
}
