import { HttpException, HttpStatus } from '@nestjs/common';

import { ErrorBody, ErrorCode, errorMessages, FieldError } from './error-codes';

const statusOf: Record<ErrorCode, HttpStatus> = {
  [ErrorCode.ValidationFailed]: HttpStatus.BAD_REQUEST,
  [ErrorCode.MalformedJson]: HttpStatus.BAD_REQUEST,
  [ErrorCode.MalformedRequest]: HttpStatus.BAD_REQUEST,
  // 431 Request Header Fields Too Large (RFC 6585), which Nest's HttpStatus lacks.
  [ErrorCode.HeadersTooLarge]: 431 as HttpStatus,
  [ErrorCode.ExpectationFailed]: HttpStatus.EXPECTATION_FAILED,
  [ErrorCode.RequestTimeout]: HttpStatus.REQUEST_TIMEOUT,
  [ErrorCode.UnsupportedMediaType]: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  [ErrorCode.PayloadTooLarge]: HttpStatus.PAYLOAD_TOO_LARGE,
  [ErrorCode.UriTooLong]: HttpStatus.URI_TOO_LONG,
  [ErrorCode.Unauthorized]: HttpStatus.UNAUTHORIZED,
  [ErrorCode.InvalidCredentials]: HttpStatus.UNAUTHORIZED,
  [ErrorCode.Forbidden]: HttpStatus.FORBIDDEN,
  [ErrorCode.OriginNotAllowed]: HttpStatus.FORBIDDEN,
  [ErrorCode.NotFound]: HttpStatus.NOT_FOUND,
  [ErrorCode.RouteNotFound]: HttpStatus.NOT_FOUND,
  [ErrorCode.MethodNotAllowed]: HttpStatus.METHOD_NOT_ALLOWED,
  [ErrorCode.RateLimited]: HttpStatus.TOO_MANY_REQUESTS,
  // Realtime only (acks and connection.closed); the statuses are the nearest HTTP meaning.
  [ErrorCode.WatchLimit]: HttpStatus.TOO_MANY_REQUESTS,
  [ErrorCode.ConnectionLimit]: HttpStatus.TOO_MANY_REQUESTS,
  [ErrorCode.EmailTaken]: HttpStatus.CONFLICT,
  [ErrorCode.NicknameTaken]: HttpStatus.CONFLICT,
  [ErrorCode.BookingLimitBelowBooked]: HttpStatus.CONFLICT,
  [ErrorCode.GoodsHasBookings]: HttpStatus.CONFLICT,
  [ErrorCode.Conflict]: HttpStatus.CONFLICT,
  [ErrorCode.SoldOut]: HttpStatus.CONFLICT,
  [ErrorCode.SaleNotOpen]: HttpStatus.CONFLICT,
  [ErrorCode.SaleClosed]: HttpStatus.CONFLICT,
  [ErrorCode.LimitExceeded]: HttpStatus.CONFLICT,
  [ErrorCode.AlreadyBooked]: HttpStatus.CONFLICT,
  [ErrorCode.IdempotencyKeyReused]: HttpStatus.UNPROCESSABLE_ENTITY,
  [ErrorCode.BookingUnavailable]: HttpStatus.SERVICE_UNAVAILABLE,
  [ErrorCode.BookingBusy]: HttpStatus.SERVICE_UNAVAILABLE,
  [ErrorCode.BookingPending]: HttpStatus.CONFLICT,
  [ErrorCode.BookingFailed]: HttpStatus.SERVICE_UNAVAILABLE,
  [ErrorCode.AlreadyCancelled]: HttpStatus.CONFLICT,
  [ErrorCode.NotCancellable]: HttpStatus.CONFLICT,
  [ErrorCode.NotSoldOut]: HttpStatus.CONFLICT,
  [ErrorCode.AlreadyWaitlisted]: HttpStatus.CONFLICT,
  [ErrorCode.NotWaitlisted]: HttpStatus.NOT_FOUND,
  [ErrorCode.ServiceUnavailable]: HttpStatus.SERVICE_UNAVAILABLE,
  [ErrorCode.InternalError]: HttpStatus.INTERNAL_SERVER_ERROR,
};

/**
 * The one error type services throw. It already knows its HTTP status, so the filter at the
 * edge only serialises it; `headers` carries e.g. Retry-After.
 */
export class AppError extends HttpException {
  override name = 'AppError';

  constructor(
    readonly code: ErrorCode,
    message: string = errorMessages[code],
    readonly headers: Record<string, string> = {},
    readonly details?: string[],
  ) {
    const body: ErrorBody = { statusCode: statusOf[code], code, message };
    if (details) {
      body.details = details;
    }
    // An AppError is an answer, not a fault: nobody reads its stack, and capturing one was a
    // visible share of a rush's CPU (most of a rush's answers are 409 SOLD_OUT).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(body, statusOf[code]);
    Error.stackTraceLimit = limit;
  }

  /**
   * Redis, which the limits live in, is away: 503 with Retry-After, never a 500. The auth
   * routes fail closed (a limit that cannot be counted does not let guesses through).
   */
  /** 400 VALIDATION_FAILED naming each field's problem; the first one is the message. */
  static invalid(fields: FieldError[]): AppError {
    const error = new AppError(
      ErrorCode.ValidationFailed,
      fields[0]?.message,
      {},
      fields.map((f) => f.message),
    );
    (error.getResponse() as ErrorBody).fields = fields;
    return error;
  }

  static limitsUnavailable(): AppError {
    return new AppError(ErrorCode.ServiceUnavailable, undefined, { 'Retry-After': '1' });
  }

  static rateLimited(retryAfterSeconds: number): AppError {
    return new AppError(ErrorCode.RateLimited, undefined, {
      'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    });
  }
}
