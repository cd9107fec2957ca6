import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Role } from '../../src/users/user.entity';
import { TestApp, TEST_PASSWORD } from '../support/app';

/** Headers every answer carries (issue 14 point 9), Helmet's, in the set for its kind. */
function assertHardened(headers: Headers, what: string): void {
  assert.equal(headers.get('x-content-type-options'), 'nosniff', what);
  assert.match(headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, what);
}

/** A page's: its own scripts only, no plugins, no framing by old browsers either. */
function assertHardenedPage(headers: Headers, what: string): void {
  assertHardened(headers, what);
  assert.equal(headers.get('referrer-policy'), 'no-referrer', what);
  const csp = headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'(;|$)/, what);
  assert.match(csp, /object-src 'none'/, what);
  assert.equal(headers.get('x-frame-options'), 'DENY', what);
}

describe('security headers and API docs', () => {
  describe('outside production', () => {
    let t: TestApp;
    before(async () => {
      t = await TestApp.start();
    });
    after(() => t.close());

    it('hardens every answer, the docs page, errors and fast paths included, with no HSTS over http', async () => {
      const host = await t.newUser(Role.Host);
      const goods = await t.newGoods(host);
      for (const path of ['/api/docs', '/api/docs/swagger-ui-init.js']) {
        assertHardenedPage((await t.request('GET', path)).headers, path);
      }
      for (const path of [
        '/api/docs',
        '/api/docs-json',
        '/api/goods',
        `/api/goods/${goods.id}`,
        '/api/nope',
        '/health/live',
        '/metrics',
      ]) {
        const reply = await t.request('GET', path);
        assertHardened(reply.headers, path);
        assert.equal(reply.headers.get('strict-transport-security'), null, path);
        if (!path.startsWith('/api/docs')) {
          // A JSON answer is no page: the short set.
          assert.equal(
            reply.headers.get('content-security-policy'),
            "default-src 'none';frame-ancestors 'none'",
            path,
          );
        }
        assert.doesNotMatch(reply.headers.get('content-security-policy')!, /upgrade-insecure/);
      }
      // Swagger UI's page runs under that policy: only scripts from its own files.
      const page = await t.request('GET', '/api/docs');
      assert.equal(page.status, 200);
      for (const [, attributes, inline] of page.text.matchAll(
        /<script([^>]*)>([\s\S]*?)<\/script>/g,
      )) {
        assert.match(
          attributes,
          /src=/,
          `inline script under a self-only CSP: ${inline.slice(0, 80)}`,
        );
      }
    });

    it('serves the API docs to anyone by default', async () => {
      assert.equal((await t.request('GET', '/api/docs-json')).status, 200);
    });
  });

  describe('API_DOCS=admin', () => {
    let t: TestApp;
    before(async () => {
      t = await TestApp.start({ API_DOCS: 'admin' });
    });
    after(() => t.close());

    it('serves the docs to an admin only, by token or cookie', async () => {
      const admin = await t.newUser(Role.Admin);
      const user = await t.newUser();
      for (const path of ['/api/docs', '/api/docs-json', '/api/docs/swagger-ui-init.js']) {
        const anonymous = await t.request('GET', path);
        assert.deepEqual([anonymous.status, anonymous.body.code], [401, 'UNAUTHORIZED'], path);
        const plain = await t.request('GET', path, { token: user.token });
        assert.deepEqual([plain.status, plain.body.code], [403, 'FORBIDDEN'], path);
        assert.equal((await t.request('GET', path, { token: admin.token })).status, 200, path);
        const cookie = await t.request('GET', path, {
          headers: { cookie: `Authorization=${admin.token}` },
        });
        assert.equal(cookie.status, 200, path);
      }
      // The rest of the API is untouched by the docs' guard.
      assert.equal((await t.request('GET', '/api/goods')).status, 200);
    });

    it('guards the route the router chose, however its path is spelled (issue 23, M2)', async () => {
      const user = await t.newUser();
      for (const path of [
        '/api/%64ocs-json',
        '/api/%64ocs',
        '/%61pi/docs-json',
        '/api/docs%2Djson',
        '/api/%64ocs/swagger-ui-init.js',
      ]) {
        const anonymous = await t.request('GET', path);
        assert.notEqual(anonymous.status, 200, path);
        assert.doesNotMatch(anonymous.text, /"openapi"|swagger/i, path);
        const plain = await t.request('GET', path, { token: user.token });
        assert.notEqual(plain.status, 200, path);
        assert.doesNotMatch(plain.text, /"openapi"|swagger/i, path);
      }
    });
  });

  describe('in production', () => {
    let t: TestApp;
    before(async () => {
      t = await TestApp.start({ NODE_ENV: 'production' });
    });
    after(() => t.close());

    it('has no API docs unless API_DOCS says so, and sends HSTS', async () => {
      for (const path of ['/api/docs', '/api/docs-json']) {
        const reply = await t.request('GET', path);
        assert.deepEqual([reply.status, reply.body.code], [404, 'ROUTE_NOT_FOUND'], path);
      }
      const reply = await t.request('GET', '/api/goods');
      assertHardened(reply.headers, 'production');
      assert.match(reply.headers.get('strict-transport-security') ?? '', /max-age=31536000/);
    });

    it('names the session cookie __Host-Authorization (Secure, Path=/, no Domain) and reads no other', async () => {
      const user = await t.newUser();
      const login = await t.request('POST', '/api/auth/login', {
        body: { email: user.email, password: TEST_PASSWORD },
      });
      assert.equal(login.status, 200);
      const session = login.headers
        .getSetCookie()
        .find((c) => c.startsWith('__Host-Authorization='));
      assert.ok(session, login.headers.getSetCookie().join(' | '));
      assert.match(session, /; Secure/i);
      assert.match(session, /; Path=\/(;|$)/);
      assert.doesNotMatch(session, /Domain=/i);
      assert.match(session, /HttpOnly/i);
      const me = (cookie: string) =>
        t.request('GET', '/api/auth/me', { headers: { cookie, 'sec-fetch-site': 'same-origin' } });
      assert.equal((await me(session.split(';')[0])).status, 200);
      // A cookie without the prefix (planted by a sibling subdomain or over plain HTTP) is
      // not a session here.
      assert.equal((await me(`Authorization=${login.body.accessToken}`)).status, 401);
      const out = await t.request('POST', '/api/auth/logout', {
        headers: { cookie: session.split(';')[0], 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(out.status, 204);
      assert.match(out.headers.getSetCookie().join(' | '), /__Host-Authorization=;.*Secure/i);
    });

    it('with API_DOCS=public, serves the docs page with HSTS and upgrade-insecure-requests', async () => {
      const docs = await TestApp.start({ NODE_ENV: 'production', API_DOCS: 'public' });
      try {
        const page = await docs.request('GET', '/api/docs');
        assert.equal(page.status, 200);
        assertHardenedPage(page.headers, 'production page');
        assert.match(page.headers.get('content-security-policy')!, /upgrade-insecure-requests/);
        assert.match(page.headers.get('strict-transport-security') ?? '', /includeSubDomains/);
      } finally {
        await docs.close();
      }
    });
  });
});

describe('cross-site requests with the cookie (CSRF)', () => {
  let t: TestApp;
  before(async () => {
    t = await TestApp.start();
  });
  after(() => t.close());

  it("refuses a cookie-carried write from another site's page; the same write from ours, or with a bearer token, goes through", async () => {
    const host = await t.newUser(Role.Host);
    const goods = await t.newGoods(host, { bookingLimit: 10 });
    const user = await t.newUser();
    const cookie = `Authorization=${user.token}`;
    const own = new URL(t.url).origin;
    const book = (headers: Record<string, string>) =>
      t.request('POST', `/api/booking/${goods.id}`, { headers: { cookie, ...headers } });
    // What an HTML form on evil.test posting no fields sends, from an older or a newer browser.
    for (const headers of [
      { origin: 'https://evil.test' } as Record<string, string>,
      { origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' },
      { origin: 'null', 'sec-fetch-site': 'cross-site' },
      { origin: `${own}.evil.test`, 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ]) {
      const reply = await book(headers);
      assert.deepEqual(
        [reply.status, reply.body.code],
        [403, 'ORIGIN_NOT_ALLOWED'],
        JSON.stringify(headers),
      );
    }
    // The form's own content type is refused whatever the origin: the API reads only JSON.
    const form = await book({
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-site': 'same-origin',
    });
    assert.deepEqual([form.status, form.body.code], [415, 'UNSUPPORTED_MEDIA_TYPE']);
    // A read declaring some type with no body is no form post: it is answered.
    const read0 = await t.request('GET', `/api/goods/${goods.id}`, {
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(read0.status, 200);
    // Live stock (Redis, taken at admission): not one ticket went.
    assert.equal((await t.request('GET', `/api/goods/${goods.id}`)).body.remaining, 10);

    // Our own pages: the browser says same-origin, or names our origin.
    assert.equal((await book({ 'sec-fetch-site': 'same-origin', origin: own })).status, 202);
    const other = await t.newUser();
    const ours = await t.request('POST', `/api/booking/${goods.id}`, {
      headers: { cookie: `Authorization=${other.token}`, origin: own },
    });
    assert.equal(ours.status, 202, ours.text);
    // A bearer token cannot be sent by another site's page: no origin check.
    const third = await t.newUser();
    const bearer = await t.request('POST', `/api/booking/${goods.id}`, {
      token: third.token,
      headers: { origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(bearer.status, 202, bearer.text);
    // Reads with the cookie from anywhere are fine: the browser keeps the answer from the page.
    const read = await t.request('GET', '/api/me/bookings', {
      headers: { cookie, origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(read.status, 200);
  });

  it('with PUBLIC_ORIGIN, exactly those origins may use the cookie', async () => {
    const app = await TestApp.start({
      PUBLIC_ORIGIN: 'https://tickets.example, http://localhost:5173',
    });
    try {
      const host = await app.newUser(Role.Host);
      const goods = await app.newGoods(host, { bookingLimit: 10 });
      for (const [origin, status] of [
        ['https://tickets.example', 202],
        ['http://localhost:5173', 202],
        ['https://tickets.example:8443', 403],
        ['http://tickets.example', 403],
      ] as const) {
        const user = await app.newUser();
        const reply = await app.request('POST', `/api/booking/${goods.id}`, {
          headers: {
            cookie: `Authorization=${user.token}`,
            origin,
            'sec-fetch-site': 'cross-site',
          },
        });
        assert.equal(reply.status, status, `${origin}: ${reply.text}`);
      }
    } finally {
      await app.close();
    }
  });
});
