import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';

import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { io, type Socket } from 'socket.io-client';

import { insertGoods, insertHost } from '../../src/database/fixtures';
import { freshDatabaseUrl, freshRedisPrefix, testEnv } from '../support/env';
import { startMain } from '../support/main-process';
import { freePortSync } from '../support/ports';

/**
 * Generated hostile input on the realtime surface, against the real entry point in a process of
 * its own: handshakes on both transports with malformed cookies, headers, auth payloads and
 * query strings, then malformed events and raw packets on live connections. After every batch
 * the process must still be running and answering, and a good client must still connect. (A
 * single `Authorization=%` cookie used to end the process: issue 23, H1.)
 */
const SECRET = 'realtime-hostile-secret-0123456789abcdef';
const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

/** Escapes no decoder accepts, and the characters a cookie parser splits on. */
const fragment = fc.oneof(
  fc.constantFrom('%', '%E0%A4%A', '%zz', '%C0%AF', '%00', '%%', '%u0041', '%FF%FE', '%2'),
  fc.constantFrom(';', '=', ' ', ',', '"', '\\', 'Authorization', 'Bearer ', '\t'),
  fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) }),
);
const headerValue = fc
  .array(fragment, { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join('').trim())
  .filter((v) => v.length > 0);
const cookieHeader = fc.oneof(
  headerValue.map((v) => `Authorization=${v}`),
  fc.tuple(headerValue, headerValue).map(([a, b]) => `${a}=${b}; Authorization=${b}`),
  headerValue,
);
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.integer(),
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('%', '%E0%A4%A', 'Bearer ', 'Bearer %', '\u0000', '\ud800', 'x'.repeat(5000)),
  fc.array(fc.oneof(fc.integer(), fc.string()), { maxLength: 4 }),
  fc.object({ maxDepth: 3 }),
  fc.dictionary(fc.constantFrom('goodsId', 'token', '__proto__', 'constructor'), fc.jsonValue()),
);
/** Raw Socket.IO packets (type, namespace, ack id, payload) a client may write on a session. */
const rawPacket = fc.oneof(
  fc.string({ maxLength: 200 }).map((s) => `4${s}`),
  fc.jsonValue().map((v) => `42/realtime,${JSON.stringify(v)}`),
  fc
    .tuple(fc.constantFrom('goods.watch', 'goods.unwatch', 'x'), fc.jsonValue())
    .map(([e, v]) => `42/realtime,99999999999999999999${JSON.stringify([e, v])}`),
  fc.constantFrom(
    '42/realtime,["goods.watch"',
    '42/realtime,{"goods.watch":1}',
    '42/realtime,[]',
    '42/realtime,[null]',
    '42/realtime,[{}]',
    '42/realtime,[1,2,3]',
    '451-/realtime,["goods.watch",{"_placeholder":true,"num":7}]',
    '451-/realtime,["goods.watch",{"_placeholder":true,"num":0}]',
    '43/realtime,1[{"ok":true}]',
    '41/realtime,',
    '40/realtime,{"token":{"a":1}}',
    '40/nope,',
    '40/,',
    '42/admin,["x"]',
    '49',
    '4',
    '2probe',
    '6',
  ),
);
const queryString = fc.oneof(
  fc
    .dictionary(
      fc.constantFrom('EIO', 'transport', 'sid', 't', 'b64', 'j', '%', 'x%zz'),
      headerValue,
      { maxKeys: 4 },
    )
    .map((q) =>
      Object.entries(q)
        .map(([k, v]) => `${k}=${v}`)
        .join('&'),
    ),
  headerValue.map((v) => `EIO=4&transport=polling&${v}`),
);

describe('generated hostile input on the realtime surface (a process of its own)', () => {
  const children: ChildProcess[] = [];
  let base: string;
  let child: ChildProcess;
  let goodsId: number;
  let db: pg.Pool;
  const token = (sub: number) =>
    jwt.sign({ sub: String(sub), role: 'user' }, SECRET, { algorithm: 'HS256', expiresIn: 600 });

  before(async () => {
    const databaseUrl = await freshDatabaseUrl();
    const port = freePortSync();
    ({ child } = await startMain(
      {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        DATABASE_URL: databaseUrl,
        REDIS_URL: testEnv('REDIS_URL'),
        REDIS_KEY_PREFIX: freshRedisPrefix(),
        JWT_SECRET: SECRET,
        PORT: String(port),
        HOST: '127.0.0.1',
      },
      'listening on',
      children,
    ));
    base = `http://127.0.0.1:${port}`;
    db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    [goodsId] = await insertGoods(db, await insertHost(db));
  });
  after(async () => {
    children.forEach((c) => c.kill('SIGKILL'));
    await db?.end();
  });

  /** The process runs, answers HTTP, and a good client still connects and watches. */
  async function assertAlive(batch: string): Promise<void> {
    assert.equal(child.exitCode, null, `the process ended during ${batch}`);
    assert.equal(child.signalCode, null, `the process ended during ${batch}`);
    const live = await fetch(`${base}/health/live`, { signal: AbortSignal.timeout(3000) });
    assert.equal(live.status, 200, `not answering after ${batch}`);
    const socket = await open({ auth: { token: token(1) } });
    try {
      const ack = (await socket.timeout(3000).emitWithAck('goods.watch', { goodsId })) as {
        ok: boolean;
      };
      assert.deepEqual(ack, { ok: true }, `a good client after ${batch}`);
    } finally {
      socket.close();
    }
  }

  /** A /realtime connection over WebSocket; resolved once connected, rejected on refusal. */
  function open(options: {
    auth?: Record<string, unknown>;
    headers?: Record<string, string>;
    query?: string;
  }): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = io(`${base}/realtime`, {
        auth: options.auth ?? {},
        extraHeaders: options.headers ?? {},
        transports: ['websocket'],
        reconnection: false,
        timeout: 3000,
        path: `/socket.io/`,
        query: options.query ? Object.fromEntries(new URLSearchParams(options.query)) : {},
      });
      const hung = setTimeout(() => {
        socket.close();
        reject(Object.assign(new Error('no answer to the handshake within 5 s'), { hung: true }));
      }, 5000);
      socket.once('connect', () => {
        clearTimeout(hung);
        resolve(socket);
      });
      socket.once('connect_error', (error) => {
        clearTimeout(hung);
        socket.close();
        reject(error);
      });
    });
  }

  /**
   * A polling session opened with `headers`, one raw packet posted to it, and what the server
   * answers within a second (a packet that needs no answer leaves the poll waiting: '').
   */
  async function pollingExchange(
    headers: Record<string, string>,
    packet: string,
    query = 'EIO=4&transport=polling',
  ): Promise<{ opened: number; answer: string }> {
    const opened = await fetch(`${base}/socket.io/?${query}`, {
      headers,
      signal: AbortSignal.timeout(3000),
    });
    const text = await opened.text();
    if (opened.status !== 200 || !text.startsWith('0{')) {
      return { opened: opened.status, answer: text };
    }
    const sid = (JSON.parse(text.slice(1)) as { sid: string }).sid;
    const url = `${base}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    const post = (body: string) =>
      fetch(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'text/plain;charset=UTF-8' },
        body,
        signal: AbortSignal.timeout(3000),
      });
    const posted = await post(packet);
    const said = await posted.text();
    if (posted.status !== 200) {
      return { opened: posted.status, answer: said };
    }
    const answer = await fetch(url, { headers, signal: AbortSignal.timeout(1000) }).then(
      (read) => read.text(),
      () => '',
    );
    await post('1').then(
      (r) => r.text(),
      () => '',
    ); // close the session
    return { opened: 200, answer };
  }

  it('polling handshakes with malformed cookies and auth payloads are refused, never fatal', async () => {
    // The two the review found first, then generated ones.
    for (const cookie of ['Authorization=%', 'Authorization=%E0%A4%A']) {
      const { answer } = await pollingExchange({ cookie }, '40/realtime,');
      assert.match(answer, /44\/realtime,.*"code":"UNAUTHORIZED"/, answer);
    }
    await assertAlive('the known cookies');
    await fc.assert(
      fc.asyncProperty(
        cookieHeader,
        fc.oneof(
          fc.constant(''),
          hostileJson.map((token) => JSON.stringify({ token }) ?? ''),
          fc.string({ maxLength: 60 }),
        ),
        async (cookie, auth) => {
          const { opened, answer } = await pollingExchange({ cookie }, `40/realtime,${auth}`);
          assert.ok(opened < 500, `handshake answered ${opened}: ${answer}`);
          assert.doesNotMatch(answer, /"sid":"[^"]+"}$/, 'no connection without a credential');
        },
      ),
      { numRuns: RUNS, seed },
    );
    await assertAlive('generated polling handshakes');
  });

  it('websocket handshakes with malformed cookies, headers, auth and query strings are refused, never fatal', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          cookie: fc.option(cookieHeader, { nil: undefined }),
          origin: fc.option(fc.oneof(headerValue, fc.constant('null')), { nil: undefined }),
          site: fc.option(headerValue, { nil: undefined }),
          forwarded: fc.option(headerValue, { nil: undefined }),
          // Under the 4 KB message limit: a larger handshake is closed, not refused with a code
          // (the polling batch sends those).
          auth: fc.option(
            hostileJson.filter((v) => (JSON.stringify(v) ?? '').length < 3500),
            { nil: undefined },
          ),
          query: fc.option(queryString, { nil: undefined }),
        }),
        async (c) => {
          const headers: Record<string, string> = {};
          if (c.cookie !== undefined) {
            headers.cookie = c.cookie;
          }
          if (c.origin !== undefined) {
            headers.origin = c.origin;
          }
          if (c.site !== undefined) {
            headers['sec-fetch-site'] = c.site;
          }
          if (c.forwarded !== undefined) {
            headers['x-forwarded-for'] = c.forwarded;
          }
          const refused = await open({
            headers,
            auth: c.auth === undefined ? {} : { token: c.auth },
            query: c.query,
          }).then(
            (socket) => {
              socket.close();
              return undefined;
            },
            (error: Error) => error,
          );
          assert.ok(refused, `connected with ${JSON.stringify(c)}`);
          // Refused by our middleware with a code, or by the transport before it (a bad query).
          assert.match(
            refused.message,
            /^(UNAUTHORIZED|ORIGIN_NOT_ALLOWED|websocket error|timeout)$/,
            `${refused.message}: ${JSON.stringify(c)}`,
          );
        },
      ),
      { numRuns: RUNS, seed },
    );
    await assertAlive('generated websocket handshakes');
  });

  it('polling sessions with hostile query strings and raw packets are refused, never fatal', async () => {
    await fc.assert(
      fc.asyncProperty(queryString, rawPacket, async (query, packet) => {
        const { opened } = await pollingExchange({}, packet, query);
        assert.ok(opened < 500, `${query} answered ${opened}`);
      }),
      { numRuns: RUNS, seed },
    );
    await assertAlive('generated polling queries and packets');
  });

  it('malformed events and raw packets on a live connection are answered or dropped, never fatal', async () => {
    let socket = await open({ auth: { token: token(2) } });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc
              .tuple(
                fc.oneof(
                  fc.constantFrom('goods.watch', 'goods.unwatch', 'connect', 'disconnect'),
                  fc.string(),
                ),
                hostileJson,
              )
              .map(([event, body]) => ({ event, body })),
            rawPacket.map((raw) => ({ raw })),
          ),
          async (step) => {
            if (!socket.connected) {
              socket.close();
              socket = await open({ auth: { token: token(2) } });
            }
            if ('raw' in step) {
              // Straight onto the engine: bytes the client library would never frame itself.
              (socket.io.engine as unknown as { write(s: string): void }).write(step.raw);
              return;
            }
            const reserved = ['connect', 'disconnect', 'connect_error', 'disconnecting'];
            if (reserved.includes(step.event) || step.event === 'newListener') {
              return; // the client library refuses to emit these itself
            }
            const known = ['goods.watch', 'goods.unwatch'].includes(step.event);
            const ack = (await socket
              .timeout(known ? 2000 : 200)
              .emitWithAck(step.event, step.body)
              .catch(() => undefined)) as { ok?: boolean; code?: string } | undefined;
            if (known) {
              // (A raw packet before it may have made the server close this connection.)
              assert.ok(ack !== undefined || !socket.connected, `no answer to ${step.event}`);
              if (ack !== undefined) {
                assert.ok(ack.ok === true || typeof ack.code === 'string', JSON.stringify(ack));
              }
            }
          },
        ),
        { numRuns: RUNS * 2, seed },
      );
    } finally {
      socket.close();
    }
    await assertAlive('generated events and raw packets');
  });
});
