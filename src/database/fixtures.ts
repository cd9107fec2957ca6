import { randomBytes } from 'node:crypto';

import type { Queryable } from './sql';

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
