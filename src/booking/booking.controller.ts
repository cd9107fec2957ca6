import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
  applyDecorators,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import { Auth, AuthUser, Authenticated } from '../auth/auth-user';
import { AppError } from '../common/app-error';
import { ErrorBodyDto } from '../common/error-body.dto';
import { ErrorCode } from '../common/error-codes';
import { GoodsIdParam } from '../goods/goods.dto';
import {
  BookingDto,
  BookingIdParam,
  BookingPageDto,
  BookRequestDto,
  ListBookingsQuery,
  WaitlistPositionDto,
} from './booking.dto';
import type { BookingOptions } from './booking-answers';
import { BookingService } from './booking.service';

const MAX_WAIT_SECONDS = 10;

/** No body, or `{}`. */
const isEmptyBody = (body: unknown): boolean =>
  body === undefined ||
  body === null ||
  (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);

/** `Idempotency-Key` (1–255 printable ASCII) and `Prefer: wait=N` (RFC 7240), N capped at 10 s. */
export function bookingOptions(
  idempotencyKey: string | undefined,
  prefer: string | undefined,
): BookingOptions {
  if (idempotencyKey !== undefined && !/^[\x20-\x7e]{1,255}$/.test(idempotencyKey)) {
    throw new AppError(
      ErrorCode.ValidationFailed,
      'Idempotency-Key must be 1 to 255 printable characters.',
    );
  }
  const wait = /(?:^|[;,\s])wait=(\d{1,6})(?:$|[;,\s])/i.exec(prefer ?? '');
  const seconds = wait ? Math.min(Number(wait[1]), MAX_WAIT_SECONDS) : 0;
  return { idempotencyKey, waitMs: seconds * 1000 };
}

const BookingDocs = () =>
  applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'same key + same request = same booking, for 24 h',
      example: 'c0ffee-42',
    }),
    ApiHeader({
      name: 'Prefer',
      required: false,
      description: 'wait=N (≤ 10): wait up to N s for CONFIRMED',
      example: 'wait=5',
    }),
    ApiCreatedResponse({ type: BookingDto, description: 'CONFIRMED (durable in PostgreSQL)' }),
    ApiAcceptedResponse({
      type: BookingDto,
      description: 'PENDING: admitted, being written; poll or listen for the outcome',
    }),
    ApiConflictResponse({
      type: ErrorBodyDto,
      description: 'SOLD_OUT, SALE_NOT_OPEN, SALE_CLOSED, LIMIT_EXCEEDED, ALREADY_BOOKED',
    }),
    ApiUnprocessableEntityResponse({ type: ErrorBodyDto, description: 'IDEMPOTENCY_KEY_REUSED' }),
    ApiTooManyRequestsResponse({
      type: ErrorBodyDto,
      description: 'RATE_LIMITED, with Retry-After',
    }),
    ApiServiceUnavailableResponse({
      type: ErrorBodyDto,
      description: 'BOOKING_UNAVAILABLE or BOOKING_BUSY, with Retry-After',
    }),
  );

@ApiTags('bookings')
@Controller('api')
export class BookingController {
  constructor(private readonly bookings: BookingService) {}

  @Post('goods/:goodsId/bookings')
  @Authenticated()
  @ApiOperation({ summary: 'Book tickets (the user comes from the token)' })
  @BookingDocs()
  async book(
    @Auth() who: AuthUser,
    @Param() { goodsId }: GoodsIdParam,
    @Body() dto: BookRequestDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BookingDto> {
    const answer = await this.bookings.book(
      who,
      goodsId,
      dto,
      bookingOptions(idempotencyKey, prefer),
    );
    void reply.status(answer.httpStatus);
    return answer.booking;
  }

  @Get('bookings/:bookingId')
  @Authenticated()
  @ApiOperation({ summary: 'One of my bookings (others answer 404)' })
  @ApiOkResponse({ type: BookingDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto })
  get(@Auth() who: AuthUser, @Param() { bookingId }: BookingIdParam): Promise<BookingDto> {
    return this.bookings.findOwned(who, bookingId);
  }

  @Delete('bookings/:bookingId')
  @HttpCode(200)
  @Authenticated()
  @ApiOperation({
    summary: 'Cancel my confirmed booking; the seat goes to the first on the waitlist',
  })
  @ApiOkResponse({ type: BookingDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto })
  @ApiConflictResponse({
    type: ErrorBodyDto,
    description: 'ALREADY_CANCELLED, NOT_CANCELLABLE, BOOKING_PENDING',
  })
  cancel(@Auth() who: AuthUser, @Param() { bookingId }: BookingIdParam): Promise<BookingDto> {
    return this.bookings.cancel(who, bookingId);
  }

  @Get('me/bookings')
  @Authenticated()
  @ApiOperation({ summary: 'My bookings, newest first, with goods title and status' })
  @ApiOkResponse({ type: BookingPageDto })
  mine(@Auth() who: AuthUser, @Query() query: ListBookingsQuery): Promise<BookingPageDto> {
    return this.bookings.listMine(who, query);
  }

  @Post('goods/:goodsId/waitlist')
  @HttpCode(201)
  @Authenticated()
  @ApiOperation({ summary: 'Join the waitlist (only when sold out, once)' })
  @ApiCreatedResponse({ type: WaitlistPositionDto })
  @ApiConflictResponse({
    type: ErrorBodyDto,
    description: 'NOT_SOLD_OUT, ALREADY_WAITLISTED, ALREADY_BOOKED',
  })
  joinWaitlist(
    @Auth() who: AuthUser,
    @Param() { goodsId }: GoodsIdParam,
  ): Promise<WaitlistPositionDto> {
    return this.bookings.joinWaitlist(who, goodsId);
  }

  @Get('goods/:goodsId/waitlist')
  @Authenticated()
  @ApiOperation({ summary: 'My position on the waitlist' })
  @ApiOkResponse({ type: WaitlistPositionDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: 'NOT_WAITLISTED' })
  waitlistPosition(
    @Auth() who: AuthUser,
    @Param() { goodsId }: GoodsIdParam,
  ): Promise<WaitlistPositionDto> {
    return this.bookings.waitlistPosition(who, goodsId);
  }

  @Delete('goods/:goodsId/waitlist')
  @HttpCode(204)
  @Authenticated()
  @ApiOperation({ summary: 'Leave the waitlist' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: 'NOT_WAITLISTED' })
  leaveWaitlist(@Auth() who: AuthUser, @Param() { goodsId }: GoodsIdParam): Promise<void> {
    return this.bookings.leaveWaitlist(who, goodsId);
  }

  @Post('booking/:goodsId')
  @Authenticated()
  @ApiOperation({
    summary: 'The original API: book one ticket (alias of POST /api/goods/:goodsId/bookings)',
  })
  @BookingDocs()
  async bookOne(
    @Auth() who: AuthUser,
    @Param() { goodsId }: GoodsIdParam,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BookingDto> {
    // One ticket, the caller's: `{"quantity": 100, "userId": 1}` is refused, not ignored.
    if (!isEmptyBody(body)) {
      throw new AppError(
        ErrorCode.ValidationFailed,
        'This route books one ticket and takes no fields: send no body, or {}.',
      );
    }
    return this.book(who, { goodsId }, { quantity: 1 }, idempotencyKey, prefer, reply);
  }

  @Delete('booking/:goodsId')
  @HttpCode(200)
  @Authenticated()
  @ApiOperation({ summary: 'The original API: cancel my booking of this goods' })
  @ApiOkResponse({ type: BookingDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto })
  cancelByGoods(@Auth() who: AuthUser, @Param() { goodsId }: GoodsIdParam): Promise<BookingDto> {
    return this.bookings.cancelByGoods(who, goodsId);
  }
}
