import assert from 'node:assert/strict';

import jwt from 'jsonwebtoken';
import type pg from 'pg';

import { insertUsers } from '../../src/database/fixtures';

export interface BulkUser {
  id: number;
  token: string;
}

/** An access token as the service signs it, for a user made by a fixture (no login). */
export function signToken(id: number, role: 'user' | 'host' | 'admin', secret: string): string {
  return jwt.sign({ sub: String(id), role }, secret, { algorithm: 'HS256', expiresIn: 3600 });
}

/** Many users in one INSERT, with tokens signed by the service's secret (no login per user). */
export async function bulkUsers(db: pg.Pool, count: number, secret: string): Promise<BulkUser[]> {
  const ids = await insertUsers(db, count, { prefix: 'bulk' });
  return ids.map((id) => ({ id, token: signToken(id, 'user', secret) }));
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

/** A booking attempt whose connection failed (status 0): what a killed instance may cause. */
export async function postBookingOrError(
  url: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  try {
    return await postBooking(url, token, headers);
  } catch (error) {
    return {
      status: 0,
      code: (error as Error & { cause?: { code?: string } }).cause?.code ?? 'FETCH_FAILED',
    };
  }
}

/**
 * As a careful client books (the web app does): with an Idempotency-Key, and a request whose
 * connection failed is sent once more with the same key, so it cannot book twice. HAProxy
 * closes a client's kept-alive connection without an answer when the instance behind it went
 * away mid-request; this is what the client is meant to do then.
 */
export async function postBookingRetrying(
  url: string,
  token: string,
  key: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const all = { ...headers, 'idempotency-key': key };
  const first = await postBookingOrError(url, token, all);
  return first.status === 0 ? postBookingOrError(url, token, all) : first;
}

export interface Attempt {
  token: string;
  headers: Record<string, string>;
}

/**
 * `count` attempts from `users` in turn (so each user more than once when count > users),
 * shuffled; a quarter of users send all theirs with one Idempotency-Key (`keyPrefix-<id>`:
 * another prefix for another sale to the same users).
 */
export function rushAttempts(users: BulkUser[], count: number, keyPrefix = 'k'): Attempt[] {
  const list: Attempt[] = [];
  for (let i = 0; i < count; i++) {
    const user = users[i % users.length];
    list.push({
      token: user.token,
      headers: user.id % 4 === 0 ? { 'idempotency-key': `${keyPrefix}-${user.id}` } : {},
    });
  }
  return list.sort(() => Math.random() - 0.5);
}

/** Requests sent with one Idempotency-Key were answered with one booking id, even across API processes. */
export function assertOneBookingPerKey(list: Attempt[], answers: Answer[]): void {
  const idsByKey = new Map<string, Set<string>>();
  list.forEach(({ headers }, i) => {
    const key = headers['idempotency-key'];
    const id = answers[i].id;
    if (key && id && answers[i].status < 300) {
      idsByKey.set(key, (idsByKey.get(key) ?? new Set()).add(id));
    }
  });
  assert.ok(idsByKey.size > 0, 'some requests carried a key');
  for (const [key, ids] of idsByKey) {
    assert.equal(ids.size, 1, `${key} answered with ${[...ids].join(', ')}`);
  }
}

/** Answers counted by `<status> <code or booking status>`. */
export function summarise(answers: Answer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) {
    const key = `${a.status} ${a.code ?? a.bookingStatus}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** The ids of the accepted (201/202) answers. */
export function acceptedIds(answers: Answer[]): string[] {
  return answers.filter((a) => (a.status === 201 || a.status === 202) && a.id).map((a) => a.id!);
}
