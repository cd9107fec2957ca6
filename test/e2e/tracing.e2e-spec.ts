import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { insertGoods, insertHost } from '../../src/database/fixtures';
import { TEST_JWT_SECRET } from '../support/app';
import { bulkUsers, postBooking } from '../support/load';
import { apiEnv, startMain } from '../support/main-process';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  links?: { traceId: string; spanId: string }[];
  attributes?: { key: string; value: Record<string, unknown> }[];
}

interface OtlpBody {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

/** A local OTLP/HTTP collector: every span posted to /v1/traces, with its service name. */
function receiver(): Promise<{
  server: Server;
  url: string;
  spans: (OtlpSpan & { service?: string })[];
}> {
  const spans: (OtlpSpan & { service?: string })[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.url === '/v1/traces') {
        const parsed = JSON.parse(body) as OtlpBody;
        for (const rs of parsed.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value
            .stringValue;
          rs.scopeSpans.forEach((ss) => ss.spans.forEach((s) => spans.push({ ...s, service })));
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${port}`, spans });
    }),
  );
}

async function until<T>(what: string, probe: () => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} within ${ms / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('OpenTelemetry tracing (OTEL_EXPORTER_OTLP_ENDPOINT) on the real entry point', () => {
  const children: ChildProcess[] = [];
  let collector: Awaited<ReturnType<typeof receiver>>;
  let url: string;
  let db: pg.Pool;
  before(async () => {
    collector = await receiver();
    const env = await apiEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: 'ticketnest-test',
    });
    db = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2 });
    const port = Number(env.PORT);
    await startMain(env, 'listening on', children);
    url = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    children.forEach((c) => c.kill('SIGKILL'));
    collector.server.close();
    await db.end();
  });

  it('sends the request, its admission and the batch that persisted it, linked, to the collector', async () => {
    const [goodsId] = await insertGoods(db, await insertHost(db), { bookingLimit: 5 });
    const [user] = await bulkUsers(db, 1, TEST_JWT_SECRET);
    // The caller's own trace: the server span continues it.
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const booked = await postBooking(`${url}/api/goods/${goodsId}/bookings`, user.token, {
      prefer: 'wait=5',
      traceparent: `00-${callerTrace}-00f067aa0ba902b7-01`,
    });
    assert.equal(booked.status, 201, JSON.stringify(booked));

    const server = await until('the HTTP server span', () =>
      collector.spans.find(
        (s) => s.name === 'POST /api/goods/:goodsId/bookings' && s.traceId === callerTrace,
      ),
    );
    assert.equal(server.kind, 2, 'SPAN_KIND_SERVER');
    assert.equal(server.parentSpanId, '00f067aa0ba902b7');
    assert.equal(server.service, 'ticketnest-test');
    const admit = await until('the admission span, a child of it', () =>
      collector.spans.find((s) => s.name === 'booking.admit' && s.parentSpanId === server.spanId),
    );
    assert.equal(admit.traceId, callerTrace);

    // The writer thread's batch: a trace of its own, linked to the admission that logged it.
    const batch = await until('the writer batch linked to the request', () =>
      collector.spans.find(
        (s) =>
          s.name === 'booking.batch' &&
          (s.links ?? []).some((l) => l.traceId === callerTrace && l.spanId === admit.spanId),
      ),
    );
    const steps = collector.spans.filter((s) => s.parentSpanId === batch.spanId);
    assert.deepEqual(steps.map((s) => s.name).sort(), ['booking.batch.write', 'booking.log.read']);
    assert.ok(steps.every((s) => s.traceId === batch.traceId));
  });
});
