/**
 * Every machine code a client can see. Stable: clients switch on these, never on messages.
 * Messages live in one table keyed by code (pretix's `error_messages`).
 */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  MalformedJson = 'MALFORMED_JSON',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UriTooLong = 'URI_TOO_LONG',
  Unauthorized = 'UNAUTHORIZED',
  InvalidCredentials = 'INVALID_CREDENTIALS',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  RouteNotFound = 'ROUTE_NOT_FOUND',
  MethodNotAllowed = 'METHOD_NOT_ALLOWED',
  RateLimited = 'RATE_LIMITED',
  EmailTaken = 'EMAIL_TAKEN',
  NicknameTaken = 'NICKNAME_TAKEN',
  BookingLimitBelowBooked = 'BOOKING_LIMIT_BELOW_BOOKED',
  GoodsHasBookings = 'GOODS_HAS_BOOKINGS',
  Conflict = 'CONFLICT',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
  InternalError = 'INTERNAL_ERROR',
}

export const errorMessages: Record<ErrorCode, string> = {
  [ErrorCode.ValidationFailed]: 'The request is not valid.',
  [ErrorCode.MalformedJson]: 'The request body is not valid JSON.',
  [ErrorCode.UnsupportedMediaType]: 'Send the body as application/json.',
  [ErrorCode.PayloadTooLarge]: 'The request body is too large.',
  [ErrorCode.UriTooLong]: 'A part of the address is too long.',
  [ErrorCode.Unauthorized]: 'Log in to do this.',
  [ErrorCode.InvalidCredentials]: 'The email or password is wrong.',
  [ErrorCode.Forbidden]: 'You are not allowed to do this.',
  [ErrorCode.NotFound]: 'Not found.',
  [ErrorCode.RouteNotFound]: 'There is no such route.',
  [ErrorCode.MethodNotAllowed]: 'This method is not allowed here.',
  [ErrorCode.RateLimited]: 'Too many requests; try again later.',
  [ErrorCode.EmailTaken]: 'This email is already registered.',
  [ErrorCode.NicknameTaken]: 'This nickname is already taken.',
  [ErrorCode.BookingLimitBelowBooked]:
    'bookingLimit cannot be lower than the tickets already booked.',
  [ErrorCode.GoodsHasBookings]: 'Goods with booked tickets cannot be deleted.',
  [ErrorCode.Conflict]: 'The request conflicts with the current state.',
  [ErrorCode.ServiceUnavailable]: 'The service is temporarily unavailable; try again shortly.',
  [ErrorCode.InternalError]: 'Something went wrong on our side.',
};

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  details?: string[];
}
