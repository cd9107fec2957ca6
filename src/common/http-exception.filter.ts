import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { AppError } from './app-error';
import { databaseUnavailable, valueRefused } from '../database/failure-kind';
import { ErrorBody, ErrorCode, errorMessages } from './error-codes';

/** Fastify's own errors (raised before Nest sees the request) by their `code`. */
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ErrorCode.PayloadTooLarge,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ErrorCode.UnsupportedMediaType,
  FST_ERR_CTP_EMPTY_JSON_BODY: ErrorCode.MalformedJson,
  FST_ERR_CTP_INVALID_JSON_BODY: ErrorCode.MalformedJson,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ErrorCode.ValidationFailed,
  FST_ERR_BAD_URL: ErrorCode.ValidationFailed,
  FST_ERR_MAX_PARAM_LENGTH: ErrorCode.UriTooLong,
  // The client closed the connection while sending its body: nobody reads the answer, and
  // anyone can cause it at will, so it is a client's 400, not a fault to log loudly.
  ECONNRESET: ErrorCode.MalformedRequest,
  FST_ERR_ASYNC_CONSTRAINT: ErrorCode.ValidationFailed,
};

const codeByStatus: Partial<Record<number, ErrorCode>> = {
  400: ErrorCode.ValidationFailed,
  401: ErrorCode.Unauthorized,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  405: ErrorCode.MethodNotAllowed,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  414: ErrorCode.UriTooLong,
  415: ErrorCode.UnsupportedMediaType,
  429: ErrorCode.RateLimited,
  503: ErrorCode.ServiceUnavailable,
};

function fastifyCodeOf(error: unknown): ErrorCode | undefined {
  const code =
    typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? fastifyCodes[code] : undefined;
}

/** Turn any thrown value into `{statusCode, code, message}`; nothing else leaves the server. */
export function toErrorBody(error: unknown): { body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof AppError) {
    return { body: error.getResponse() as ErrorBody, headers: error.headers };
  }
  if (error instanceof ThrottlerException) {
    return { body: bodyFor(ErrorCode.RateLimited), headers: {} };
  }
  // Nest wraps Fastify's own 4xx errors (bad JSON, body too large) with the original as cause.
  const fastifyCode = fastifyCodeOf(error instanceof HttpException ? error.cause : error);
  if (fastifyCode !== undefined) {
    return { body: bodyFor(fastifyCode), headers: {} };
  }
  if (error instanceof HttpException) {
    // Our own failures are AppErrors; a bare 404 here is Nest's "no such route".
    const status = error.getStatus();
    const code =
      status === 404
        ? ErrorCode.RouteNotFound
        : (codeByStatus[status] ??
          (status >= 500 ? ErrorCode.InternalError : ErrorCode.ValidationFailed));
    return { body: bodyFor(code, status), headers: {} };
  }
  if (valueRefused(error)) {
    return { body: bodyFor(ErrorCode.ValidationFailed), headers: {} };
  }
  if (databaseUnavailable(error)) {
    // PostgreSQL restarting, failing over, or Pgpool-II dropping a node: try again shortly.
    return { body: bodyFor(ErrorCode.ServiceUnavailable), headers: { 'Retry-After': '1' } };
  }
  return { body: bodyFor(ErrorCode.InternalError), headers: {} };
}

function bodyFor(code: ErrorCode, statusCode?: number): ErrorBody {
  const status = statusCode ?? new AppError(code).getStatus();
  return { statusCode: status, code, message: errorMessages[code] };
}

/** Send `error` as its error body; 5xx are logged once, here, with the route. */
export function replyWithError(
  logger: Logger,
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
): void {
  const { body, headers } = toErrorBody(error);
  if (body.statusCode >= 500 && !(error instanceof AppError)) {
    // The client sees only the generic body. (An AppError of 5xx is an answer we chose:
    // BOOKING_UNAVAILABLE, SERVICE_UNAVAILABLE; its cause, if any, was logged where it arose.)
    logger.error(
      { err: error, route: request.routeOptions?.url, reqId: request.id },
      'unhandled error',
    );
  } else if (!(error instanceof AppError) && body.statusCode < 500) {
    logger.debug(
      { err: { code: (error as { code?: unknown }).code }, reqId: request.id },
      `client error ${body.code}`,
    );
  }
  if (body.statusCode === 429 && !headers['Retry-After'] && !reply.hasHeader('retry-after')) {
    headers['Retry-After'] = '1';
  }
  // JSON whatever the route would have answered (/metrics is text/plain).
  void reply
    .status(body.statusCode)
    .headers(headers)
    .type('application/json; charset=utf-8')
    .send(body);
}

@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    replyWithError(
      this.logger,
      http.getRequest<FastifyRequest>(),
      http.getResponse<FastifyReply>(),
      error,
    );
  }
}
