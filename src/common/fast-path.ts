import { Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';

import { registry } from '../telemetry/metrics';
import { replyWithError } from './http-exception.filter';

/** A fast handler's "not mine": the request goes on to its Nest controller. */
export const DECLINE = Symbol('decline');

/**
 * Answers one route's plain case, or DECLINEs. It sets the status on `reply` and returns the
 * body; a thrown AppError becomes the same error body the global filter would send.
 */
export type FastHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * A fast handler and the controller route's guards it does the work of: a guard, interceptor
 * or role added to that route and not listed here fails fast-path.e2e-spec.ts, so the two
 * paths cannot come to disagree on who may do what.
 */
export interface FastRoute {
  answer: FastHandler;
  covers: readonly (abstract new (...args: never[]) => unknown)[];
}

/** Routes by `METHOD /url/:pattern`, exactly as Fastify reports `routeOptions.url`. */
export type FastRoutes = Record<string, FastRoute>;

const served = new Counter({
  name: 'http_fast_path_requests_total',
  help: 'Requests answered by a fast path, before the Nest pipeline, by route and outcome',
  labelNames: ['route', 'outcome'],
  registers: [registry],
});

/**
 * Fast paths for the requests a rush is made of. Nest's per-request pipeline (router context,
 * guards, pipes, class-validator and class-transformer) measured about a third of a booking's
 * CPU, so the plain, well-formed case of a hot route is answered from a Fastify preHandler
 * hook with the same services the controller calls. Anything else (a cookie instead of a
 * bearer token, an unexpected body, an odd id) is DECLINEd and goes on to the controller,
 * which stays the one full definition of the route (its validation messages, its OpenAPI).
 * The hook runs after every other hook (request id, hostile-input checks, metrics).
 */
export function registerFastPaths(fastify: FastifyInstance, routes: FastRoutes): void {
  const logger = new Logger('FastPath');
  fastify.addHook('preHandler', (request, reply, done) => {
    const route = `${request.method} ${request.routeOptions.url}`;
    const handler = routes[route];
    if (handler === undefined) {
      done();
      return;
    }
    handler.answer(request, reply).then(
      (body) => {
        if (body === DECLINE) {
          served.inc({ route, outcome: 'declined' });
          done();
          return;
        }
        served.inc({ route, outcome: 'answered' });
        void reply.send(body);
      },
      (error: unknown) => {
        served.inc({ route, outcome: 'answered' });
        replyWithError(logger, request, reply, error);
      },
    );
  });
}
