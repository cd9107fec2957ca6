import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';

import jwt from 'jsonwebtoken';

import { Role } from '../../src/users/user.entity';
import { goodsBody, snapshot, TEST_JWT_SECRET, TestApp, TestUser } from '../support/app';

describe('hostile input', () => {
  let t: TestApp;
  let host: TestUser;
  let goodsId: number;
  let user: TestUser;
  let before0: string;
  before(async () => {
    t = await TestApp.start({ BODY_LIMIT_BYTES: '65536', REQUEST_TIMEOUT: '2s' });
    host = await t.newUser(Role.Host);
    goodsId = (await t.newGoods(host)).id;
    user = await t.newUser();
    before0 = await snapshot(t.db);
  });
  after(async () => {
    try {
      assert.equal(await snapshot(t.db), before0, 'nothing stored was changed');
    } finally {
      await t.close();
    }
  });

  const expect4xx = async (
    method: string,
    path: string,
    options: Parameters<TestApp['request']>[2],
    status: number,
    code: string,
  ) => {
    const reply = await t.request(method, path, options);
    assert.equal(reply.status, status, `${method} ${path}: ${reply.text}`);
    assert.equal(reply.body.code, code, reply.text);
    assert.equal(typeof reply.body.message, 'string');
    assert.ok(
      !/\bat \w|\.ts:\d|node_modules|stack/i.test(reply.text),
      `no internals in ${reply.text}`,
    );
  };

  /** Bytes written to a fresh socket, then the whole answer, as the client sees it. */
  const exchange = (bytes: string, trickle?: { everyMs: number }): Promise<string> => {
    const { port } = new URL(t.url);
    return new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      const timer = trickle && setInterval(() => socket.write('x'), trickle.everyMs);
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('error', reject);
      socket.on('close', () => {
        clearInterval(timer);
        resolve(received);
      });
      socket.write(bytes);
      setTimeout(() => socket.destroy(new Error(`still open after 8 s: ${received}`)), 8000);
    });
  };

  /** The status and the JSON error body of a raw answer, which must have all three fields. */
  const errorOf = (answer: string): { status: number; code: string; message: string } => {
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1]);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(body).sort(), ['code', 'message', 'statusCode'], answer);
    assert.equal(body.statusCode, status, answer);
    assert.match(answer, /content-type: application\/json/i);
    return { status, code: body.code as string, message: body.message as string };
  };

  it('answers every request the HTTP parser refuses with {statusCode, code, message}', async () => {
    const cases: [string, string, number, string][] = [
      [
        'a bad header line',
        'GET /api/goods HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n',
        400,
        'MALFORMED_REQUEST',
      ],
      [
        'two Content-Lengths',
        'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
        400,
        'MALFORMED_REQUEST',
      ],
      [
        'headers over the limit',
        `GET /api/goods HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
        431,
        'HEADERS_TOO_LARGE',
      ],
      [
        'no Host header',
        'GET /api/goods HTTP/1.1\r\nConnection: close\r\n\r\n',
        400,
        'MALFORMED_REQUEST',
      ],
      ['not HTTP at all', 'HELLO\r\n\r\n', 400, 'MALFORMED_REQUEST'],
      [
        'an Expect nobody meets',
        'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
        417,
        'EXPECTATION_FAILED',
      ],
    ];
    for (const [what, bytes, status, code] of cases) {
      const answer = errorOf(await exchange(bytes));
      assert.deepEqual([answer.status, answer.code], [status, code], what);
    }
  });

  it('headers sent too slowly: 408 REQUEST_TIMEOUT with a body, within REQUEST_TIMEOUT', async () => {
    const started = Date.now();
    const answer = errorOf(
      await exchange('GET /api/goods HTTP/1.1\r\nHost: x\r\nX-Slow: ', { everyMs: 500 }),
    );
    assert.deepEqual([answer.status, answer.code], [408, 'REQUEST_TIMEOUT']);
    assert.ok(Date.now() - started < 5000);
  });

  it('an over-long path parameter: 414 URI_TOO_LONG, without echoing the path', async () => {
    for (const id of ['9'.repeat(120), `%3Cscript%3E${'a'.repeat(120)}`]) {
      const reply = await t.request('GET', `/api/goods/${id}`);
      assert.deepEqual([reply.status, reply.body.code], [414, 'URI_TOO_LONG'], reply.text);
      assert.doesNotMatch(reply.body.message as string, /999|script|aaa/i);
      // Refused by the router, before any hook: still hardened and traced.
      assert.equal(reply.headers.get('x-content-type-options'), 'nosniff');
      assert.ok(reply.headers.get('x-request-id'));
    }
    const badUrl = await t.request('GET', '/api/goods/%E0%A4%A');
    assert.deepEqual([badUrl.status, badUrl.body.code], [400, 'VALIDATION_FAILED'], badUrl.text);
    assert.doesNotMatch(badUrl.body.message as string, /%E0/);
  });

  it('cuts off a body sent a byte at a time: 408 and the socket closed within REQUEST_TIMEOUT', async () => {
    const { port } = new URL(t.url);
    const started = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      const timer = setInterval(() => socket.write(' '), 500);
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('error', reject);
      socket.on('close', () => {
        clearInterval(timer);
        resolve(received);
      });
      socket.write(
        `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
      );
      setTimeout(() => socket.destroy(new Error('still open after 8 s')), 8000);
    });
    const took = Date.now() - started;
    assert.deepEqual(errorOf(answer).code, 'REQUEST_TIMEOUT');
    assert.ok(took < 5000, `closed after ${took} ms`);
  });

  it("logs clients' mistakes and aborted bodies below warn, never as errors with a stack", async () => {
    const logs: Record<string, unknown>[] = [];
    const logged = await TestApp.start({ LOG_LEVEL: 'info', REQUEST_TIMEOUT: '2s' }, { logs });
    try {
      const { port } = new URL(logged.url);
      for (let i = 0; i < 20; i++) {
        await new Promise<void>((resolve) => {
          const socket = connect(Number(port), '127.0.0.1');
          socket.write(
            'POST /api/auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":',
          );
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 30);
        });
      }
      await logged.request('GET', '/api/goods/%E0%A4%A');
      await logged.request('GET', `/api/goods/${'9'.repeat(120)}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const loud = logs.filter((line) => (line.level as number) >= 40);
      assert.deepEqual(loud, [], JSON.stringify(loud).slice(0, 600));
    } finally {
      await logged.close();
    }
  });

  it('malformed JSON → 400 MALFORMED_JSON', async () => {
    for (const raw of ['{bad', '{"email":', '[1,2', '"unterminated', '{"a":1}}']) {
      await expect4xx('POST', '/api/auth/signup', { raw }, 400, 'MALFORMED_JSON');
    }
    await expect4xx(
      'PATCH',
      `/api/goods/${goodsId}`,
      { raw: '{', token: host.token },
      400,
      'MALFORMED_JSON',
    );
  });

  it('an empty body where one is required → 400', async () => {
    const reply = await t.request('POST', '/api/auth/signup', { raw: '' });
    assert.equal(reply.status, 400);
    assert.ok(['MALFORMED_JSON', 'VALIDATION_FAILED'].includes(reply.body.code));
  });

  it('a JSON value that is not an object → 400', async () => {
    for (const raw of ['null', '1', '"text"', '[]', '[{"email":"a@b.co"}]', 'true']) {
      const reply = await t.request('POST', '/api/auth/signup', { raw });
      assert.equal(reply.status, 400, raw);
      assert.ok(reply.body.code, raw);
    }
  });

  it('a body over the limit → 413 PAYLOAD_TOO_LARGE', async () => {
    await expect4xx(
      'POST',
      '/api/goods',
      { token: host.token, body: goodsBody({ content: 'x'.repeat(70_000) }) },
      413,
      'PAYLOAD_TOO_LARGE',
    );
    await expect4xx(
      'POST',
      '/api/auth/signup',
      { raw: `{"email":"${'a'.repeat(200_000)}"}` },
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  it('another content type → 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    await expect4xx(
      'POST',
      '/api/auth/login',
      { raw: 'email=a&password=b', headers: { 'content-type': 'text/plain' } },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    await expect4xx(
      'POST',
      '/api/auth/login',
      { raw: '<a/>', headers: { 'content-type': 'application/xml' } },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('parses strictly: a token whose sub is "4.0", "0x4" or " 4" is 401; page 1e1 or 0x10 is 400', async () => {
    for (const sub of [`${user.id}.0`, `0x${user.id.toString(16)}`, ` ${user.id}`, `${user.id} `]) {
      const token = jwt.sign({ sub, role: 'user' }, TEST_JWT_SECRET, {
        algorithm: 'HS256',
        expiresIn: 60,
      });
      const reply = await t.request('GET', '/api/auth/me', { token });
      assert.deepEqual([reply.status, reply.body.code], [401, 'UNAUTHORIZED'], `sub ${sub}`);
    }
    const plain = jwt.sign({ sub: String(user.id), role: 'user' }, TEST_JWT_SECRET, {
      algorithm: 'HS256',
      expiresIn: 60,
    });
    assert.equal((await t.request('GET', '/api/auth/me', { token: plain })).status, 200);
    for (const query of ['page=1e1', 'page=0x10', 'limit=1e1', 'page=+2', 'limit=05']) {
      await expect4xx('GET', `/api/goods?${query}`, {}, 400, 'VALIDATION_FAILED');
      await expect4xx(
        'GET',
        `/api/me/bookings?${query}`,
        { token: plain },
        400,
        'VALIDATION_FAILED',
      );
    }
    assert.equal((await t.request('GET', '/api/goods?page=2&limit=5')).status, 200);
  });

  it("the original's POST /api/booking/:goodsId refuses a body with fields instead of ignoring it", async () => {
    await expect4xx(
      'POST',
      `/api/booking/${goodsId}`,
      { token: user.token, body: { quantity: 100, userId: 1 } },
      400,
      'VALIDATION_FAILED',
    );
  });

  it('an unknown field with a hostile name is refused without repeating the name', async () => {
    const reply = await t.request('POST', '/api/auth/login', {
      body: { email: 'a@example.com', password: 'whatever1', '<img src=x onerror=alert(1)>': 1 },
    });
    assert.deepEqual([reply.status, reply.body.code], [400, 'VALIDATION_FAILED']);
    assert.doesNotMatch(reply.text, /<img|onerror/);
    assert.equal(reply.body.fields[0].code, 'UNKNOWN_FIELD');
  });

  it('prototype pollution attempts → 400 and no effect', async () => {
    for (const raw of [
      '{"__proto__":{"role":"admin"},"email":"p@x.io","password":"x"}',
      '{"constructor":{"prototype":{"isAdmin":true}}}',
    ]) {
      const reply = await t.request('POST', '/api/auth/login', { raw });
      assert.equal(reply.status, 400, raw);
      assert.ok(reply.body.code);
    }
    assert.equal(({} as Record<string, unknown>).role, undefined);
  });

  it('NUL characters anywhere → 400, never a database error', async () => {
    await expect4xx(
      'POST',
      '/api/goods',
      { token: host.token, body: goodsBody({ title: 'a\u0000b' }) },
      400,
      'VALIDATION_FAILED',
    );
    await expect4xx(
      'POST',
      '/api/auth/login',
      { body: { email: 'a\u0000@b.co', password: 'x' } },
      400,
      'VALIDATION_FAILED',
    );
    await expect4xx('GET', '/api/goods?page=%00', {}, 400, 'VALIDATION_FAILED');
  });

  it('nested objects and arrays where strings or numbers belong → 400', async () => {
    for (const fields of [
      { title: { $ne: null } },
      { price: [1] },
      { bookingLimit: { valueOf: 5 } },
      { showDate: ['2027-01-01'] },
    ]) {
      await expect4xx(
        'POST',
        '/api/goods',
        { token: host.token, body: goodsBody(fields) },
        400,
        'VALIDATION_FAILED',
      );
    }
    await expect4xx(
      'POST',
      '/api/auth/login',
      { body: { email: { $gt: '' }, password: { $gt: '' } } },
      400,
      'VALIDATION_FAILED',
    );
  });

  it('unknown routes and methods → 404 with a code', async () => {
    await expect4xx('GET', '/api/nothing-here', {}, 404, 'ROUTE_NOT_FOUND');
    await expect4xx('PUT', '/api/goods/1', { body: {} }, 404, 'ROUTE_NOT_FOUND');
    await expect4xx('GET', '/api/../api/nothing', {}, 404, 'ROUTE_NOT_FOUND');
    // Outside the API, an unknown path is the web app's (its own "no such page"), never a file.
    for (const path of [
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/assets/../../package.json',
    ]) {
      const reply = await t.request('GET', path);
      assert.ok(
        (reply.status === 200 && reply.headers.get('content-type')?.startsWith('text/html')) ||
          reply.status === 404,
        `${path}: ${reply.status}`,
      );
      assert.doesNotMatch(reply.text, /root:|"dependencies"/, path);
    }
  });

  it('a hostile Authorization header → 401', async () => {
    for (const authorization of [
      'Bearer',
      'Bearer a.b.c',
      'Basic YTpi',
      `Bearer ${'x'.repeat(8000)}`,
      'Bearer ../../etc',
    ]) {
      await expect4xx('GET', '/api/auth/me', { headers: { authorization } }, 401, 'UNAUTHORIZED');
    }
  });
});
