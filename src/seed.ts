import { DataSource } from 'typeorm';

import { PasswordHasher } from './auth/password-hasher';
import { dataSourceOptions } from './database/data-source';

/** Demo accounts for a first look (development only: the passwords are in the README). */
export const DEMO_ACCOUNTS = [
  { email: 'admin@ticketnest.local', nickname: 'admin', role: 'admin', password: 'Admin123!' },
  { email: 'host@ticketnest.local', nickname: 'host', role: 'host', password: 'Host1234!' },
  { email: 'user@ticketnest.local', nickname: 'user', role: 'user', password: 'User1234!' },
] as const;

const DAY = 86_400_000;

/** Seed demo accounts and a few goods, only when the database has no users at all. */
export async function seedDemoData(url: string): Promise<boolean> {
  const ds = new DataSource(dataSourceOptions(url, 1));
  await ds.initialize();
  try {
    return await ds.transaction(async (tx) => {
      // Two instances starting at once: one seeds, the other waits and sees users.
      await tx.query('SELECT pg_advisory_xact_lock(7411020002)');
      const [{ n }] = await tx.query<[{ n: number }]>('SELECT count(*)::int AS n FROM users');
      if (n > 0) {
        return false;
      }
      const hasher = new PasswordHasher();
      const ids: Record<string, number> = {};
      for (const account of DEMO_ACCOUNTS) {
        const [row] = await tx.query<[{ id: number }]>(
          `INSERT INTO users (email, nickname, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING id`,
          [account.email, account.nickname, await hasher.hash(account.password), account.role],
        );
        ids[account.role] = row.id;
      }
      const now = Date.now();
      const goods = [
        [
          'Aurora Live in Seoul',
          'Open-air night concert, 2 hours.',
          99_000,
          300,
          now + 30 * DAY,
          null,
          1,
        ],
        [
          'Hamlet — National Theater',
          'Shakespeare in a new staging.',
          55_000,
          120,
          now + 14 * DAY,
          null,
          2,
        ],
        [
          'Jazz at Midnight',
          'Trio session, standing room.',
          35_000,
          50,
          now + 7 * DAY,
          now + DAY,
          1,
        ],
      ] as const;
      for (const [title, content, price, limit, show, saleStart, maxPerUser] of goods) {
        await tx.query(
          `INSERT INTO goods (title, content, price, img_url, show_date, booking_limit, sale_starts_at, max_per_user, host_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [
            title,
            content,
            price,
            `https://picsum.photos/seed/${encodeURIComponent(title)}/640/360`,
            new Date(show),
            limit,
            saleStart === null ? null : new Date(saleStart),
            maxPerUser,
            ids.host,
          ],
        );
      }
      return true;
    });
  } finally {
    await ds.destroy();
  }
}
