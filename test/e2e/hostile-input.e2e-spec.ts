import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { Role } from '../../src/users/user.entity';
import { goodsBody, snapshot, TestApp, TestUser } from '../support/app';

describe('hostile input', () => {
  let t: TestApp;
  let host: TestUser;
  let goodsId: number;
  let before0: string;
  before(async () => {
    t = await TestApp.start({ BODY_LIMIT_BYTES: '65536', REQUEST_TIMEOUT: '2s' });
    host = await t.newUser(Role.Host);
    goodsId = (await t.newGoods(host)).id;
    before0 = await snapshot(t.db);
  });
  after(async () => {
    assert.equal(await snapshot(t.db), before0, 'nothing stored was changed');
    await t.close();
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
