import { createHash } from 'node:crypto';

/**
 * Every Redis key of the booking path (the client adds REDIS_KEY_PREFIX); live stock's are in
 * src/stock/stock.keys.ts. Scripts that walk several bookings get the `…Prefix` forms and build
 * keys themselves, which is fine on one Redis (and would need hash tags on a cluster).
 */
export const bookingKeys = {
  /** A PENDING booking's record, 'PENDING|goodsId|userId|quantity|' (lua/admit-bookings-5.lua), gone once settled. */
  record: (bookingId: string) => `bk:r:${bookingId}`,
  recordPrefix: 'bk:r:',
  idempotencySuffix: (userId: number, key: string) =>
    `${userId}:${createHash('sha256').update(key).digest('base64url')}`,
  idempotencyPrefix: 'bk:idem:',
  /** Each user's booking requests in one epoch second (Redis strategy). */
  rateWindow: (nowMs: number) => `bk:w:${Math.floor(nowMs / 1000)}`,
  /** One user's fixed window (pg-lock strategy, lua/hit-window-1.lua). */
  rate: (userId: number) => `bk:rate:${userId}`,
  log: 'bk:log',
  /** Log entries the writer could not take, with why (lua/settle-bookings-5.lua, npm run dead-letters). */
  deadLetters: 'bk:dead',
  /** When a writer last settled a batch (ms): readiness tells a stalled writer by it. */
  lastSettled: 'bk:writer:settled',
  events: 'bk:events',
} as const;

export const WRITERS_GROUP = 'writers';
