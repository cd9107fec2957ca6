import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';

/** The process's Prometheus registry; modules add their own metrics to it. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/**
 * Every series of this process carries `instance_id` (INSTANCE_ID: api-1, writer-2…), so one
 * Prometheus tells the instances of a cluster apart whatever address it scraped them at.
 */
export function labelInstance(instanceId: string): void {
  registry.setDefaultLabels({ instance_id: instanceId });
}

export const httpDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request duration by method, route pattern and status',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

/** Observe every reply by its route pattern (`/api/goods/:goodsId`), never the raw URL. */
export function instrumentHttp(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
}
