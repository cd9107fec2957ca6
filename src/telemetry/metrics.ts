import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { context, SpanStatusCode, type Span } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';

import { tracing } from './tracing';

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
  if (tracing.enabled) {
    traceHttp(fastify);
  }
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
}

const spans = new WeakMap<object, Span>();

/**
 * A server span per request (only when tracing is on: the hooks are not even added otherwise).
 * The rest of the request runs inside its context, so the booking's spans are its children.
 */
function traceHttp(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    const started = tracing.startServerSpan(`${request.method}`, request.headers, {
      'http.request.method': request.method,
      'url.path': request.url.split('?')[0],
    });
    if (!started) {
      done();
      return;
    }
    spans.set(request, started.span);
    context.with(started.context, done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      const route = request.routeOptions.url ?? 'unmatched';
      span.updateName(`${request.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': reply.statusCode });
      if (reply.statusCode >= 500) {
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }
    done();
  });
}
