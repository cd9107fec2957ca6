import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';

/**
 * OpenTelemetry tracing, opt-in with OTEL_EXPORTER_OTLP_ENDPOINT (any OTLP/HTTP collector:
 * Elastic APM, Jaeger, Tempo). Off, nothing of the SDK is even loaded and every call below is
 * one boolean test: the booking path pays for tracing only when it is on.
 *
 * Spans: each HTTP request (server), `booking.admit` inside it (the admission script), and per
 * writer batch `booking.log.read` and `booking.batch.write`, the latter linked to the trace of
 * every request whose booking it persisted (the log entry carries the request's traceparent).
 */
let tracer: Tracer | undefined;
let flushAndStop: (() => Promise<void>) | undefined;

export const tracing = {
  get enabled(): boolean {
    return tracer !== undefined;
  },

  /** Load the SDK and export to `endpoint` (its /v1/traces), as service `serviceName`. */
  async start(endpoint: string, serviceName: string, instanceId: string): Promise<void> {
    const [{ TracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, resources, hooks, core] =
      await Promise.all([
        import('@opentelemetry/sdk-trace'),
        import('@opentelemetry/exporter-trace-otlp-http'),
        import('@opentelemetry/resources'),
        import('@opentelemetry/context-async-hooks'),
        import('@opentelemetry/core'),
      ]);
    const provider = new TracerProvider({
      resource: resources.resourceFromAttributes({
        'service.name': serviceName,
        'service.instance.id': instanceId,
      }),
      spanProcessors: [
        // A rush makes many spans: send them in large batches, often, and drop rather than
        // hold memory when the collector is slow.
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` }),
          maxQueueSize: 16_384,
          maxExportBatchSize: 1024,
          scheduledDelayMillis: 1000,
        }),
      ],
    });
    context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    tracer = provider.getTracer('ticketnest');
    flushAndStop = () => provider.shutdown();
  },

  /** Export what is buffered and stop (at shutdown). */
  async stop(): Promise<void> {
    await flushAndStop?.();
    tracer = undefined;
    flushAndStop = undefined;
  },

  /** A server span for an incoming request, child of its `traceparent` header when given. */
  startServerSpan(
    name: string,
    headers: Record<string, unknown>,
    attributes: Attributes,
  ): { span: Span; context: Context } | undefined {
    if (!tracer) {
      return undefined;
    }
    const parent = propagation.extract(ROOT_CONTEXT, headers);
    const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    return { span, context: trace.setSpan(parent, span) };
  },

  /** `work` inside a child span of the current one; the span records a thrown error. */
  async inSpan<T>(
    name: string,
    attributes: Attributes,
    work: (span?: Span) => Promise<T>,
  ): Promise<T> {
    if (!tracer) {
      return work();
    }
    return tracer.startActiveSpan(name, { attributes }, (span) => endWhenDone(span, work));
  },

  /** A finished child span of the current one, from its times (work already done). */
  record(name: string, startMs: number, endMs: number, attributes: Attributes): void {
    tracer?.startSpan(name, { attributes, startTime: startMs }).end(endMs);
  },

  /** The current span's W3C traceparent, to carry in a booking log entry ('' when off). */
  traceparent(): string {
    if (!tracer) {
      return '';
    }
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    return carrier.traceparent ?? '';
  },

  /** A root span for work that many traces led to (a writer batch), linked to each of them. */
  async rootSpan<T>(
    name: string,
    attributes: Attributes,
    traceparents: string[],
    work: (span?: Span) => Promise<T>,
    startTime?: number,
  ): Promise<T> {
    if (!tracer) {
      return work();
    }
    const links: Link[] = [];
    for (const traceparent of new Set(traceparents)) {
      const linked = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent }));
      if (linked) {
        links.push({ context: linked });
      }
    }
    const span = tracer.startSpan(name, { attributes, links, startTime, root: true });
    return context.with(trace.setSpan(ROOT_CONTEXT, span), () => endWhenDone(span, work));
  },
};

/** `work` in `span`, which ends with it and records what it threw. */
async function endWhenDone<T>(span: Span, work: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await work(span);
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

/** A W3C traceparent: version, trace id, parent span id, flags (what a log entry may carry). */
export const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;
