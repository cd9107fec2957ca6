import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { Logger } from '@nestjs/common';
import type { Socket } from 'socket.io';

import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { guardHandshake, guardPackets, RealtimeExceptionFilter } from './socket-errors';

Logger.overrideLogger(false);
const socket = {} as Socket;

describe('realtime error guards', () => {
  it('a throwing handshake middleware refuses that client with INTERNAL_ERROR', () => {
    const errors: (Error | undefined)[] = [];
    guardHandshake(() => {
      throw new URIError('URI malformed');
    })(socket, (error) => errors.push(error));
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.message, ErrorCode.InternalError);
    assert.deepEqual((errors[0] as Error & { data: unknown }).data, {
      code: ErrorCode.InternalError,
      message: 'Something went wrong on our side.',
    });
  });

  it('a throwing packet middleware answers the ack and lets nothing through', () => {
    const acks: unknown[] = [];
    let passed = false;
    guardPackets(() => {
      throw new TypeError('boom');
    })(['goods.watch', { goodsId: 1 }, (a: unknown) => acks.push(a)], () => (passed = true));
    assert.equal(passed, false);
    assert.deepEqual(acks, [
      { ok: false, code: ErrorCode.InternalError, message: 'Something went wrong on our side.' },
    ]);
    // Without an ack to answer, still no throw.
    guardPackets(() => {
      throw new TypeError('boom');
    })(['goods.watch'], () => (passed = true));
  });

  it("a handler's error answers its ack: an AppError with its code, anything else INTERNAL_ERROR", () => {
    const filter = new RealtimeExceptionFilter();
    const acks: unknown[] = [];
    const ack = (a: unknown) => acks.push(a);
    const host = (withAck: boolean) =>
      new ExecutionContextHost(
        withAck ? [socket, {}, ack, 'goods.watch'] : [socket, {}, undefined, 'goods.watch'],
      );
    filter.catch(new AppError(ErrorCode.NotFound, 'No such goods.'), host(true));
    filter.catch(new RangeError('bug'), host(true));
    filter.catch(new RangeError('bug'), host(false));
    assert.deepEqual(acks, [
      { ok: false, code: ErrorCode.NotFound, message: 'No such goods.' },
      { ok: false, code: ErrorCode.InternalError, message: 'Something went wrong on our side.' },
    ]);
  });
});
