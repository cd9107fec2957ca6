import type { FastifyRequest } from 'fastify';

import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { TokenService } from '../auth/token.service';
import { DECLINE, FastRoutes } from '../common/fast-path';
import { plainId } from '../common/ids';
import { bookingOptions } from './booking.controller';
import { BOOKING_QUANTITY } from './booking.dto';
import { BookingService } from './booking.service';

/** `{}` or `{"quantity": n}` with n an integer BookRequestDto accepts; undefined for anything else. */
function plainQuantity(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return undefined;
  }
  const keys = Object.keys(body);
  if (keys.length === 0) {
    return BOOKING_QUANTITY.default;
  }
  const quantity = (body as { quantity?: unknown }).quantity;
  return keys.length === 1 &&
    Number.isInteger(quantity) &&
    (quantity as number) >= BOOKING_QUANTITY.min &&
    (quantity as number) <= BOOKING_QUANTITY.max
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
    'POST /api/goods/:goodsId/bookings': {
      // the bearer token, verified as JwtAuthGuard does; the route has no roles
      covers: [JwtAuthGuard],
      answer: async (request, reply) => {
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
        const options = bookingOptions(
          header(request, 'idempotency-key'),
          header(request, 'prefer'),
        );
        const answer = await bookings.book(who, goodsId, { quantity }, options);
        void reply.status(answer.httpStatus);
        return answer.booking;
      },
    },
  };
}
