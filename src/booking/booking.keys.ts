import { createHash } from 'node:crypto';

/**
 * Every Redis key of the booking path (the client adds REDIS_KEY_PREFIX). Scripts that walk
 * several goods or bookings get the `…Prefix` forms and build keys themselves, which is fine
 * on one Redis (and would need hash tags on a cluster).
 */
export const bookingKeys = {
  goods: (goodsId: number | string) => `bk:g:${goodsId}`,
  goodsUsers: (goodsId: number | string) => `bk:g:${goodsId}:u`,
  goodsPrefix: 'bk:g:',
  booking: (bookingId: string) => `bk:b:${bookingId}`,
  bookingPrefix: 'bk:b:',
  idempotency: (userId: number, key: string) =>
    `bk:idem:${userId}:${createHash('sha256').update(key).digest('base64url')}`,
  rate: (userId: number) => `bk:rate:${userId}`,
  noIdempotency: 'bk:idem:-',
  log: 'bk:log',
  events: 'bk:events',
} as const;

export const WRITERS_GROUP = 'writers';
