import { Injectable } from '@nestjs/common';

import { pgError, PG_FOREIGN_KEY_VIOLATION, Queryable, Sql } from '../database/sql';
import { GoodsDto } from './goods.dto';

export interface GoodsFields {
  title: string;
  content: string;
  price: number;
  imgUrl: string;
  showDate: string;
  bookingLimit: number;
  saleStartsAt: string | null;
  saleEndsAt: string | null;
  maxPerUser: number;
}

/** timestamptz → '2026-11-24T10:00:00.000Z', the same string JSON.stringify(Date) gives. */
const iso = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Columns → GoodsDto, with dates as ISO strings so rows can be cached as JSON unchanged. */
const GOODS_COLUMNS = `
  id, title, content, price, img_url AS "imgUrl",
  ${iso('show_date')} AS "showDate",
  booking_limit AS "bookingLimit", booking_count AS "bookingCount",
  booking_limit - booking_count AS remaining,
  ${iso('sale_starts_at')} AS "saleStartsAt",
  ${iso('sale_ends_at')} AS "saleEndsAt",
  max_per_user AS "maxPerUser", host_id AS "hostId",
  ${iso('created_at')} AS "createdAt",
  ${iso('updated_at')} AS "updatedAt"`;

const columnOf: Record<keyof GoodsFields, string> = {
  title: 'title',
  content: 'content',
  price: 'price',
  imgUrl: 'img_url',
  showDate: 'show_date',
  bookingLimit: 'booking_limit',
  saleStartsAt: 'sale_starts_at',
  saleEndsAt: 'sale_ends_at',
  maxPerUser: 'max_per_user',
};

@Injectable()
export class GoodsRepository {
  constructor(private readonly sql: Sql) {}

  /** `on`: a connection of the read path (GoodsCache); else the primary. */
  getById(id: number, on?: Queryable): Promise<GoodsDto | undefined> {
    return this.sql.one<GoodsDto>(`SELECT ${GOODS_COLUMNS} FROM goods WHERE id = $1`, [id], on);
  }

  /** Newest first, with the total count. */
  async getPage(
    page: number,
    limit: number,
    on?: Queryable,
  ): Promise<{ items: GoodsDto[]; total: number }> {
    const [items, count] = await Promise.all([
      this.sql.rows<GoodsDto>(
        `SELECT ${GOODS_COLUMNS} FROM goods ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`,
        [limit, (page - 1) * limit],
        on,
      ),
      this.sql.one<{ total: number }>(`SELECT count(*)::int AS total FROM goods`, [], on),
    ]);
    return { items, total: count?.total ?? 0 };
  }

  /** One host's goods (every goods when `hostId` is undefined: an admin), newest first. */
  async getPageOfHost(
    hostId: number | undefined,
    page: number,
    limit: number,
  ): Promise<{ items: GoodsDto[]; total: number }> {
    const [items, count] = await Promise.all([
      this.sql.rows<GoodsDto>(
        `SELECT ${GOODS_COLUMNS} FROM goods WHERE $3::int IS NULL OR host_id = $3
         ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`,
        [limit, (page - 1) * limit, hostId ?? null],
      ),
      this.sql.one<{ total: number }>(
        `SELECT count(*)::int AS total FROM goods WHERE $1::int IS NULL OR host_id = $1`,
        [hostId ?? null],
      ),
    ]);
    return { items, total: count?.total ?? 0 };
  }

  async create(hostId: number, fields: GoodsFields): Promise<GoodsDto> {
    const row = await this.sql.one<GoodsDto>(
      `INSERT INTO goods (title, content, price, img_url, show_date, booking_limit,
                          sale_starts_at, sale_ends_at, max_per_user, host_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${GOODS_COLUMNS}`,
      [
        fields.title,
        fields.content,
        fields.price,
        fields.imgUrl,
        fields.showDate,
        fields.bookingLimit,
        fields.saleStartsAt,
        fields.saleEndsAt,
        fields.maxPerUser,
        hostId,
      ],
    );
    return row!;
  }

  /**
   * Apply the given fields in one statement. The CHECK constraints refuse a bookingLimit
   * below booking_count or a sale window that ends before it starts, even under races.
   */
  update(id: number, fields: Partial<GoodsFields>): Promise<GoodsDto | undefined> {
    const names = (Object.keys(fields) as (keyof GoodsFields)[]).filter(
      (k) => fields[k] !== undefined,
    );
    const sets = names.map((name, i) => `${columnOf[name]} = $${i + 2}`);
    return this.sql.one<GoodsDto>(
      `UPDATE goods SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING ${GOODS_COLUMNS}`,
      [id, ...names.map((name) => fields[name])],
    );
  }

  /**
   * Deletes only while nothing is booked and no booking ever referred to it (cancelled and
   * refused bookings stay as their users' history); says which way it went.
   */
  async deleteUnbooked(id: number): Promise<'deleted' | 'booked' | 'history' | 'missing'> {
    let row: { deleted: boolean } | undefined;
    try {
      row = await this.sql.one<{ deleted: boolean }>(
        `WITH d AS (DELETE FROM goods WHERE id = $1 AND booking_count = 0 RETURNING id)
         SELECT EXISTS (SELECT 1 FROM d) AS deleted`,
        [id],
      );
    } catch (error) {
      // bookings_goods_id_fkey, raised by the goods delete trigger (migration 1764200000000):
      // bookings refer to it, whatever their status.
      if (pgError(error).code === PG_FOREIGN_KEY_VIOLATION) {
        return 'history';
      }
      throw error;
    }
    if (row?.deleted) {
      return 'deleted';
    }
    return (await this.sql.one(`SELECT 1 FROM goods WHERE id = $1`, [id])) ? 'booked' : 'missing';
  }
}
