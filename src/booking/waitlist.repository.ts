import { Injectable } from '@nestjs/common';

import { Sql } from '../database/sql';

/** The waitlist of a sold-out goods: first come, first promoted (cancellation.repository.ts). */
@Injectable()
export class WaitlistRepository {
  constructor(private readonly sql: Sql) {}

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

  /** How many wait for each of these goods (0 when none). */
  async waitingFor(goodsIds: number[]): Promise<Map<number, number>> {
    const rows = await this.sql.rows<{ goodsId: number; waiting: number }>(
      `SELECT goods_id AS "goodsId", count(*)::int AS waiting FROM waitlist
       WHERE goods_id = ANY($1::int[]) GROUP BY goods_id`,
      [goodsIds],
    );
    return new Map(rows.map((r) => [r.goodsId, r.waiting]));
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
