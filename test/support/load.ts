import jwt from 'jsonwebtoken';
import type pg from 'pg';

import { insertUsers } from '../../src/database/fixtures';

export interface BulkUser {
  id: number;
  token: string;
}

/** Many users in one INSERT, with tokens signed by the service's secret (no login per user). */
export async function bulkUsers(db: pg.Pool, count: number, secret: string): Promise<BulkUser[]> {
  const rows = (await insertUsers(db, count, { prefix: 'bulk' })).map((id) => ({ id }));
  return rows.map(({ id }) => ({
    id,
    token: jwt.sign({ sub: String(id), role: 'user' }, secret, {
      algorithm: 'HS256',
      expiresIn: 3600,
    }),
  }));
}

/** Run jobs with at most `concurrency` in flight; results in job order. */
export async function fire<T>(jobs: (() => Promise<T>)[], concurrency: number): Promise<T[]> {
  const results = new Array<T>(jobs.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, jobs.length) }, async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  });
  await Promise.all(lanes);
  return results;
}

export interface Answer {
  status: number;
  id?: string;
  code?: string;
  bookingStatus?: string;
}

export async function postBooking(
  url: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: '{}',
  });
  const body = (await response.json()) as { id?: string; code?: string; status?: string };
  return { status: response.status, id: body.id, code: body.code, bookingStatus: body.status };
}
