import type { FastifyRequest } from 'fastify';

import { TokenService } from '../auth/token.service';
import { DECLINE, FastRoutes, plainId } from '../common/fast-path';
import { bookingOptions } from './booking.controller';
import { BookingService } from './booking.service';

const MAX_QUANTITY = 100; // as BookRequestDto

/** `{}` or `{"quantity": n}` with an integer n in 1..100; undefined for anything else. */
function plainQuantity(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return undefined;
  }
  const keys = Object.keys(body);
  if (keys.length === 0) {
    return 1;
  }
  const quantity = (body as { quantity?: unknown }).quantity;
  return keys.length === 1 &&
    Number.isInteger(quantity) &&
    (quantity as number) >= 1 &&
    (quantity as number) <= MAX_QUANTITY
    ? (quantity as number)
    : undefined;
}

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/**
 * POST /api/goods/:goodsId/bookings with a bearer token and a plain body: the same
 * BookingService.book the controller calls. A cookie, a token that does not verify, or any
 * other body is declined and answered by BookingController (401, 400 with field messages).
 */
export function bookingFastPaths(bookings: BookingService, tokens: TokenService): FastRoutes {
  return {
    'POST /api/goods/:goodsId/bookings': async (request, reply) => {
      const goodsId = plainId((request.params as { goodsId?: unknown }).goodsId);
      const authorization = header(request, 'authorization');
      const quantity = plainQuantity(request.body);
      if (
        goodsId === undefined ||
        quantity === undefined ||
        !authorization?.startsWith('Bearer ')
      ) {
        return DECLINE;
      }
      const who = tokens.verify(authorization.slice(7));
      if (who === undefined) {
        return DECLINE;
      }
      const options = bookingOptions(header(request, 'idempotency-key'), header(request, 'prefer'));
      const answer = await bookings.book(who, goodsId, { quantity }, options);
      void reply.status(answer.httpStatus);
      return answer.booking;
    },
  };
}
