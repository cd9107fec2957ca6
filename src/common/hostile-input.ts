import type { FastifyInstance } from 'fastify';

import { AppError } from './app-error';
import { isUnsafeMethod } from './http-methods';
import { ErrorCode } from './error-codes';

const MAX_DEPTH = 32;

/** True when a NUL character hides anywhere in the value (PostgreSQL text refuses it). */
export function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') {
    return value.includes('\u0000');
  }
  if (depth > MAX_DEPTH) {
    return true;
  }
  if (Array.isArray(value)) {
    return value.some((v) => containsNul(v, depth + 1));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).some(
      ([k, v]) => k.includes('\u0000') || containsNul(v, depth + 1),
    );
  }
  return false;
}

const hasBody = (headers: Record<string, string | string[] | undefined>): boolean =>
  (headers['content-length'] !== undefined && headers['content-length'] !== '0') ||
  headers['transfer-encoding'] !== undefined;

/** application/json, with or without parameters; the API speaks nothing else. */
function isJson(contentType: string | undefined): boolean {
  return contentType?.split(';')[0].trim().toLowerCase() === 'application/json';
}

/**
 * Refuse, before any handler runs, input no handler should have to think about: no Host, NUL
 * characters (PostgreSQL cannot store them), absurdly deep nesting, and bodies that are not JSON.
 */
export function refuseHostileInput(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    // HTTP/1.1 requires Host (RFC 9112 §3.2); Node would refuse it with an empty body.
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      done(new AppError(ErrorCode.MalformedRequest, 'A Host header is required.'));
      return;
    }
    // A write declaring a type that is not JSON is refused even with no body: an HTML form
    // posting no fields sends exactly that (application/x-www-form-urlencoded, empty).
    const type = request.headers['content-type'];
    const declared = type !== undefined && isUnsafeMethod(request.method);
    if ((hasBody(request.headers) || declared) && !isJson(type)) {
      done(new AppError(ErrorCode.UnsupportedMediaType));
      return;
    }
    done();
  });
  fastify.addHook('preHandler', (request, _reply, done) => {
    if (containsNul(request.body) || containsNul(request.query) || containsNul(request.params)) {
      done(
        new AppError(
          ErrorCode.ValidationFailed,
          'Text must not contain NUL characters or deep nesting.',
        ),
      );
      return;
    }
    done();
  });
}
