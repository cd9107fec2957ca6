import { LoggerService } from '@nestjs/common';
import pino, { Logger as Pino } from 'pino';

/**
 * One pino instance for the whole process: Fastify logs each request through it (with the
 * request id), and Nest's Logger writes to it too, so every line is one JSON object.
 */
/** The service's logger; `destination` (default stdout) lets a test read what it wrote. */
export function createPino(level: string, destination?: pino.DestinationStream): Pino {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
        remove: true,
      },
    },
    destination,
  );
}

export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Pino) {}

  log(message: unknown, context?: string): void {
    this.write('info', message, context);
  }
  error(message: unknown, ...rest: unknown[]): void {
    // Nest passes (message, stack?, context?); keep the stack in the log, never in a reply.
    const context = typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    const stack = rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    this.write('error', message, context, stack);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }

  private write(level: pino.Level, message: unknown, context?: string, stack?: string): void {
    if (typeof message === 'object' && message !== null && !(message instanceof Error)) {
      const { msg, ...fields } = message as Record<string, unknown>;
      this.pino[level]({ context, ...fields, stack }, typeof msg === 'string' ? msg : '');
    } else if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
    } else {
      this.pino[level]({ context, stack }, String(message));
    }
  }
}
