import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import type { FastifyInstance } from 'fastify';

import { AppError } from './app-error';
import { ErrorBody, ErrorCode } from './error-codes';

/** What Node's HTTP parser says went wrong, as our code. */
const codeOf = (error: NodeJS.ErrnoException): ErrorCode =>
  error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? ErrorCode.RequestTimeout
    : error.code === 'HPE_HEADER_OVERFLOW'
      ? ErrorCode.HeadersTooLarge
      : ErrorCode.MalformedRequest;

/**
 * An `Expect` other than 100-continue: Node answers a bare 417 unless someone listens for
 * `checkExpectation`. We answer it in the error contract and close (issue 23, also seen).
 */
export function refuseExpectation(_request: IncomingMessage, response: ServerResponse): void {
  const body = new AppError(ErrorCode.ExpectationFailed).getResponse() as ErrorBody;
  const text = JSON.stringify(body);
  response
    .writeHead(body.statusCode, {
      connection: 'close',
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-content-type-options': 'nosniff',
    })
    .end(text);
}

/**
 * Node's parser refused the bytes before there was a request (a bad header line, two
 * Content-Lengths, headers over the limit, headers or body too slow): answer in the same
 * `{statusCode, code, message}` as every other error and close. Fastify's own handler
 * answers `{error, message, statusCode}`. A client's mistake is logged at debug, not as an
 * error: anyone could flood the error log with them.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  error: NodeJS.ErrnoException,
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) {
    return; // the client went away: there is nobody to answer
  }
  this.log.debug({ err: { code: error.code, message: error.message } }, 'client error');
  const body = new AppError(codeOf(error)).getResponse() as ErrorBody;
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${body.statusCode} ${STATUS_CODES[body.statusCode]}\r\n` +
        'Connection: close\r\n' +
        'Content-Type: application/json; charset=utf-8\r\n' +
        'X-Content-Type-Options: nosniff\r\n' +
        `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
  }
  socket.destroy();
}
