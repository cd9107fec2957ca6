import { ArgumentsHost, Catch, Logger, WsExceptionFilter } from '@nestjs/common';
import type { Socket } from 'socket.io';

import { AppError } from '../common/app-error';
import { ErrorCode, errorMessages } from '../common/error-codes';

/** What every realtime event's acknowledgement carries. */
export type Ack = { ok: true } | { ok: false; code: ErrorCode; message: string };

export const refusal = (code: ErrorCode, message = errorMessages[code]): Ack => ({
  ok: false,
  code,
  message,
});

/** A refused handshake: `connect_error` carries the code as its message and `{code, message}`. */
export function handshakeError(code: ErrorCode): Error {
  return Object.assign(new Error(code), { data: { code, message: errorMessages[code] } });
}

const logger = new Logger('Realtime');

/** Answer the event's acknowledgement, when the client asked for one. */
function answer(args: unknown[], ack: Ack): void {
  const callback = args.at(-1);
  if (typeof callback === 'function') {
    (callback as (a: Ack) => void)(ack);
  }
}

/**
 * Socket.IO calls namespace middleware (the handshake) and packet middleware outside any
 * try/catch: one throw there is an uncaught exception, and Node ends the process with every
 * socket on it. Every middleware of ours goes through one of these two, so a bug in one answers
 * that client INTERNAL_ERROR instead.
 */
export function guardHandshake(
  middleware: (socket: Socket, next: (error?: Error) => void) => void,
): (socket: Socket, next: (error?: Error) => void) => void {
  return (socket, next) => {
    try {
      middleware(socket, next);
    } catch (error) {
      logger.error(`realtime handshake failed: ${(error as Error).stack ?? String(error)}`);
      next(handshakeError(ErrorCode.InternalError));
    }
  };
}

export function guardPackets(
  middleware: (packet: unknown[], next: (error?: Error) => void) => void,
): (packet: unknown[], next: (error?: Error) => void) => void {
  return (packet, next) => {
    try {
      middleware(packet, next);
    } catch (error) {
      logger.error(`realtime event failed: ${(error as Error).stack ?? String(error)}`);
      answer(packet.slice(1), refusal(ErrorCode.InternalError));
    }
  };
}

/**
 * A handler's error (Nest already catches those) answers the acknowledgement with a code, as an
 * HTTP error answers with a body: an AppError with its own code, anything else INTERNAL_ERROR,
 * logged once. Nest's default would emit a bare `exception` event and leave the ack unanswered.
 */
@Catch()
export class RealtimeExceptionFilter implements WsExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const ack =
      exception instanceof AppError
        ? refusal(exception.code, exception.message)
        : refusal(ErrorCode.InternalError);
    if (!(exception instanceof AppError)) {
      logger.error(
        `realtime ${String(host.getArgByIndex(3))} failed: ${(exception as Error)?.stack ?? String(exception)}`,
      );
    }
    // Nest's handler arguments: the socket, the data, the acknowledgement when asked, the event.
    answer(host.getArgs().slice(0, -1), ack);
  }
}
