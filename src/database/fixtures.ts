import { randomBytes } from 'node:crypto';

import type { Pool, PoolClient } from 'pg';

import type { Queryable } from './sql';
import { BookingStatus, sqlStatus } from '../booking/lifecycle';

/**
 * Users and goods made straight in PostgreSQL, many in one statement: for the tests, the
 * benchmark and whoever needs rows without the API's checks. The one home of these INSERTs;
 * the API's own (signup, goods create) live in their repositories.
 */
export interface UserFixture {
  /** Default 'user'. */
  role?: 'user' | 'host' | 'admin';
  /** Default one no password verifies against: the rows are for signed tokens, not logins. */
  passwordHash?: string;
  /** Default a random tag; emails are `<prefix><i>-<tag>@<domain>`. */
  tag?: string;
  prefix?: string;
  domain?: string;
}

export interface GoodsFixture {
  title?: string;
  bookingLimit?: number;
  bookingCount?: number;
  maxPerUser?: number;
  price?: number;
  saleStartsAt?: Date | null;
  saleEndsAt?: Date | null;
}

/** `count` users; their ids in order. */
export async function insertUsers(
  db: Queryable,
  count: number,
  {
    role = 'user',
    passwordHash = 'not-a-login-account',
    tag = randomBytes(4).toString('hex'),
    prefix = 'u',
    domain = 'test.example',
  }: UserFixture = {},
): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO users (email, nickname, password_hash, role)
     SELECT $3 || i || '-' || $2 || '@' || $4, $3 || i || '-' || $2, $5, $6
     FROM generate_series(1, $1::int) AS i ORDER BY i RETURNING id`,
    [count, tag, prefix, domain, passwordHash, role],
  );
  return rows.map((r) => r.id);
}

/** One host; its id. */
export async function insertHost(db: Queryable, fixture: UserFixture = {}): Promise<number> {
  const [id] = await insertUsers(db, 1, { prefix: 'host', ...fixture, role: 'host' });
  return id;
}

/** `count` goods of one host, on sale now unless the fixture says otherwise; their ids. */
export async function insertGoods(
  db: Queryable,
  hostId: number,
  fixture: GoodsFixture = {},
  count = 1,
): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO goods (title, content, price, img_url, show_date, booking_limit, booking_count,
                        max_per_user, sale_starts_at, sale_ends_at, host_id)
     SELECT $1 || CASE WHEN $9::int > 1 THEN ' #' || i ELSE '' END, 'A show made for a test.', $2,
            'https://img.example.com/a.png', now() + interval '30 days', $3, $4, $5, $6, $7, $8
     FROM generate_series(1, $9::int) AS i ORDER BY i RETURNING id`,
    [
      fixture.title ?? 'Test show',
      fixture.price ?? 1000,
      fixture.bookingLimit ?? 100,
      fixture.bookingCount ?? 0,
      fixture.maxPerUser ?? 1,
      fixture.saleStartsAt ?? null,
      fixture.saleEndsAt ?? null,
      hostId,
      count,
    ],
  );
  return rows.map((r) => r.id);
}

/**
 * A past: `users` users and `bookings` CONFIRMED bookings of theirs on goods whose sales have
 * ended (`seatsPerGoods` each, sold out but the last), all by SQL in a few statements (the
 * benchmark's `--preload-*`: a service judged with years of history behind it). Foreign keys
 * are not checked row by row while it writes (every id it uses is one it just made); the
 * tables are analysed afterwards, as a database that old would be.
 */
export async function insertHistory(
  pool: Pool,
  {
    users,
    bookings,
    seatsPerGoods = 1000,
  }: { users: number; bookings: number; seatsPerGoods?: number },
): Promise<{ goods: number }> {
  if (users < seatsPerGoods && bookings > 0) {
    throw new Error(
      `a history of bookings needs at least ${seatsPerGoods} users (one seat each per goods)`,
    );
  }
  const tag = randomBytes(4).toString('hex');
  // One connection: the bookings' transaction and its SET LOCAL must share it.
  const db = await pool.connect();
  try {
    return await writeHistory(db, { users, bookings, seatsPerGoods, tag });
  } finally {
    db.release();
  }
}

async function writeHistory(
  db: PoolClient,
  {
    users,
    bookings,
    seatsPerGoods,
    tag,
  }: { users: number; bookings: number; seatsPerGoods: number; tag: string },
): Promise<{ goods: number }> {
  const host = await insertHost(db);
  const { rows: range } = await db.query<{ first: number; last: number }>(
    `WITH made AS (
       INSERT INTO users (email, nickname, password_hash, role)
       SELECT 'h' || i || '-' || $2 || '@history.example', 'h' || i || '-' || $2, 'not-a-login-account', 'user'
       FROM generate_series(1, $1::int) AS i RETURNING id)
     SELECT min(id)::int AS first, max(id)::int AS last FROM made`,
    [users, tag],
  );
  const goodsCount = Math.ceil(bookings / seatsPerGoods);
  if (goodsCount === 0) {
    return { goods: 0 };
  }
  const past = new Date(Date.now() - 30 * 86_400_000);
  const goodsIds = await insertGoods(
    db,
    host,
    {
      title: 'A past show',
      bookingLimit: seatsPerGoods,
      saleStartsAt: new Date(past.getTime() - 86_400_000),
      saleEndsAt: past,
    },
    goodsCount,
  );
  await db.query('BEGIN');
  try {
    await db.query('SET LOCAL session_replication_role = replica');
    await db.query(
      `INSERT INTO bookings (id, goods_id, user_id, quantity, status, requested_at, decided_at)
       SELECT gen_random_uuid(), ($2::int[])[1 + i / $3::int], $4::int + (i % ($5::int - $4::int + 1)), 1, ${sqlStatus(BookingStatus.Confirmed)}, $6::timestamptz, $6::timestamptz
       FROM generate_series(0, $1::int - 1) AS i`,
      [bookings, goodsIds, seatsPerGoods, range[0].first, range[0].last, past],
    );
    await db.query(
      `UPDATE goods g SET booking_count = c.n
       FROM (SELECT goods_id, count(*)::int AS n FROM bookings WHERE goods_id = ANY($1::int[]) GROUP BY goods_id) c
       WHERE g.id = c.goods_id`,
      [goodsIds],
    );
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  }
  await db.query('VACUUM ANALYZE users, goods, bookings');
  return { goods: goodsCount };
}
