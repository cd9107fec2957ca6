import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';

import { AppError } from './app-error';
import { ErrorCode, errorMessages } from './error-codes';
import { toErrorBody } from './http-exception.filter';

describe('toErrorBody', () => {
  it('passes an AppError through with its headers', () => {
    const { body, headers } = toErrorBody(AppError.rateLimited(2.2));
    assert.deepEqual(body, {
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: 'Too many requests; try again later.',
    });
    assert.deepEqual(headers, { 'Retry-After': '3' });
  });

  it('maps Fastify parse errors wrapped by Nest', () => {
    const tooLarge = new HttpException('too large', 413, {
      cause: Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }),
    });
    assert.equal(toErrorBody(tooLarge).body.code, ErrorCode.PayloadTooLarge);
    const badJson = new HttpException('bad', 400, {
      cause: Object.assign(new SyntaxError('x'), { code: 'FST_ERR_CTP_INVALID_JSON_BODY' }),
    });
    assert.equal(toErrorBody(badJson).body.code, ErrorCode.MalformedJson);
  });

  it('turns an unknown route into ROUTE_NOT_FOUND and other statuses into stable codes', () => {
    assert.equal(
      toErrorBody(new NotFoundException('Cannot GET /x')).body.code,
      ErrorCode.RouteNotFound,
    );
    assert.equal(
      toErrorBody(new BadRequestException('anything')).body.code,
      ErrorCode.ValidationFailed,
    );
    assert.equal(toErrorBody(new ThrottlerException()).body.code, ErrorCode.RateLimited);
  });

  it('answers 400 for a date PostgreSQL cannot read or hold (SQLSTATE 22007, 22008), not 500', () => {
    for (const code of ['22007', '22008']) {
      const refused = Object.assign(new Error('date/time field value out of range'), { code });
      assert.deepEqual(toErrorBody(refused).body, {
        statusCode: 400,
        code: 'VALIDATION_FAILED',
        message: errorMessages[ErrorCode.ValidationFailed],
      });
    }
  });

  it('never leaks an unknown error', () => {
    const { body } = toErrorBody(new Error('connect ECONNREFUSED /srv/secret/path.ts:12'));
    assert.deepEqual(body, {
      statusCode: 500,
      code: 'INTERNAL_ERROR',
      message: 'Something went wrong on our side.',
    });
  });
});
