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
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(took < 5000, `closed after ${took} ms`);
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
    await expect4xx('GET', '/../../etc/passwd', {}, 404, 'ROUTE_NOT_FOUND');
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
