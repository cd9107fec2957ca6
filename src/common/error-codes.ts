/**
 * Every machine code a client can see. Stable: clients switch on these, never on messages.
 * Messages live in one table keyed by code (pretix's `error_messages`).
 */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  MalformedJson = 'MALFORMED_JSON',
  MalformedRequest = 'MALFORMED_REQUEST',
  HeadersTooLarge = 'HEADERS_TOO_LARGE',
  ExpectationFailed = 'EXPECTATION_FAILED',
  RequestTimeout = 'REQUEST_TIMEOUT',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UriTooLong = 'URI_TOO_LONG',
  Unauthorized = 'UNAUTHORIZED',
  InvalidCredentials = 'INVALID_CREDENTIALS',
  Forbidden = 'FORBIDDEN',
  OriginNotAllowed = 'ORIGIN_NOT_ALLOWED',
  NotFound = 'NOT_FOUND',
  RouteNotFound = 'ROUTE_NOT_FOUND',
  MethodNotAllowed = 'METHOD_NOT_ALLOWED',
  RateLimited = 'RATE_LIMITED',
  WatchLimit = 'WATCH_LIMIT',
  ConnectionLimit = 'CONNECTION_LIMIT',
  EmailTaken = 'EMAIL_TAKEN',
  NicknameTaken = 'NICKNAME_TAKEN',
  BookingLimitBelowBooked = 'BOOKING_LIMIT_BELOW_BOOKED',
  GoodsHasBookings = 'GOODS_HAS_BOOKINGS',
  Conflict = 'CONFLICT',
  SoldOut = 'SOLD_OUT',
  SaleNotOpen = 'SALE_NOT_OPEN',
  SaleClosed = 'SALE_CLOSED',
  LimitExceeded = 'LIMIT_EXCEEDED',
  AlreadyBooked = 'ALREADY_BOOKED',
  IdempotencyKeyReused = 'IDEMPOTENCY_KEY_REUSED',
  BookingUnavailable = 'BOOKING_UNAVAILABLE',
  BookingBusy = 'BOOKING_BUSY',
  BookingPending = 'BOOKING_PENDING',
  BookingFailed = 'BOOKING_FAILED',
  AlreadyCancelled = 'ALREADY_CANCELLED',
  NotCancellable = 'NOT_CANCELLABLE',
  NotSoldOut = 'NOT_SOLD_OUT',
  AlreadyWaitlisted = 'ALREADY_WAITLISTED',
  NotWaitlisted = 'NOT_WAITLISTED',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
  InternalError = 'INTERNAL_ERROR',
}

export const errorMessages: Record<ErrorCode, string> = {
  [ErrorCode.ValidationFailed]: 'The request is not valid.',
  [ErrorCode.MalformedJson]: 'The request body is not valid JSON.',
  [ErrorCode.MalformedRequest]: 'The request is not well-formed HTTP.',
  [ErrorCode.HeadersTooLarge]: 'The request headers are too large.',
  [ErrorCode.ExpectationFailed]: 'The only Expect this server meets is 100-continue.',
  [ErrorCode.RequestTimeout]: 'The request took too long to arrive.',
  [ErrorCode.UnsupportedMediaType]: 'Send the body as application/json.',
  [ErrorCode.PayloadTooLarge]: 'The request body is too large.',
  [ErrorCode.UriTooLong]: 'A part of the address is too long.',
  [ErrorCode.Unauthorized]: 'Log in to do this.',
  [ErrorCode.InvalidCredentials]: 'The email or password is wrong.',
  [ErrorCode.Forbidden]: 'You are not allowed to do this.',
  [ErrorCode.OriginNotAllowed]:
    'This request came from a page of another site; the session cookie is not accepted from there.',
  [ErrorCode.NotFound]: 'Not found.',
  [ErrorCode.RouteNotFound]: 'There is no such route.',
  [ErrorCode.MethodNotAllowed]: 'This method is not allowed here.',
  [ErrorCode.RateLimited]: 'Too many requests; try again later.',
  [ErrorCode.WatchLimit]: 'This connection watches as many goods as it may; unwatch one first.',
  [ErrorCode.ConnectionLimit]:
    'You opened more live connections than one account may hold; this, the oldest, was closed.',
  [ErrorCode.EmailTaken]: 'This email is already registered.',
  [ErrorCode.NicknameTaken]: 'This nickname is already taken.',
  [ErrorCode.BookingLimitBelowBooked]:
    'bookingLimit cannot be lower than the tickets already booked.',
  [ErrorCode.GoodsHasBookings]: 'Goods with booked tickets cannot be deleted.',
  [ErrorCode.Conflict]: 'The request conflicts with the current state.',
  [ErrorCode.SoldOut]: 'Sold out. You can join the waitlist.',
  [ErrorCode.SaleNotOpen]: 'The sale has not opened yet.',
  [ErrorCode.SaleClosed]: 'The sale has closed.',
  [ErrorCode.LimitExceeded]: 'This would take you over the tickets allowed per person.',
  [ErrorCode.AlreadyBooked]: 'You already have a ticket for this show.',
  [ErrorCode.IdempotencyKeyReused]: 'This Idempotency-Key was used for a different request.',
  [ErrorCode.BookingUnavailable]: 'Booking is temporarily unavailable; try again shortly.',
  [ErrorCode.BookingBusy]: 'Too many people are booking this show right now; try again.',
  [ErrorCode.BookingPending]: 'This booking is still being confirmed; try again in a moment.',
  [ErrorCode.BookingFailed]:
    'Your booking could not be recorded, so it was not made and its ticket went back on sale; try again.',
  [ErrorCode.AlreadyCancelled]: 'This booking is already cancelled.',
  [ErrorCode.NotCancellable]: 'Only a confirmed booking can be cancelled.',
  [ErrorCode.NotSoldOut]: 'Tickets are still available: book instead of joining the waitlist.',
  [ErrorCode.AlreadyWaitlisted]: 'You are already on the waitlist for this show.',
  [ErrorCode.NotWaitlisted]: 'You are not on the waitlist for this show.',
  [ErrorCode.ServiceUnavailable]: 'The service is temporarily unavailable; try again shortly.',
  [ErrorCode.InternalError]: 'Something went wrong on our side.',
};

/** One field's problem in a VALIDATION_FAILED answer: clients place `message` by `field`, switch on `code`. */
export interface FieldError {
  field: string;
  code: string;
  message: string;
}

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  details?: string[];
  fields?: FieldError[];
}
