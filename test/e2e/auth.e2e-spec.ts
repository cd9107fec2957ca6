import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import jwt from 'jsonwebtoken';
import { io, Socket } from 'socket.io-client';

import { Role } from '../../src/users/user.entity';
import { snapshot, TestApp, TEST_PASSWORD, TEST_JWT_SECRET } from '../support/app';

const signup = (n: string, extra: Record<string, unknown> = {}) => ({
  email: `${n}@example.com`,
  password: 'Sup3r$ecret',
  confirm: 'Sup3r$ecret',
  nickname: n,
  ...extra,
});

describe('auth', () => {
  let t: TestApp;
  before(async () => {
    t = await TestApp.start();
  });
  after(() => t.close());

  describe('POST /api/auth/signup', () => {
    it('refuses nicknames with invisible or direction-changing characters, and spells each name one way (NFC)', async () => {
      for (const [i, nickname] of [
        'ab\u202Ecd',
        'ab\u200Bcd',
        '\u2066x\u2069',
        'a\uFEFF',
      ].entries()) {
        const reply = await t.request('POST', '/api/auth/signup', {
          body: signup(`bidi${i}`, { nickname }),
        });
        assert.deepEqual([reply.status, reply.body.code], [400, 'VALIDATION_FAILED'], nickname);
        assert.ok(
          (reply.body.details as string[]).some((d) => /invisible or direction-changing/.test(d)),
          reply.text,
        );
      }
      const composed = await t.request('POST', '/api/auth/signup', {
        body: signup('nfc1', { nickname: 'caf\u00e9' }),
      });
      assert.equal(composed.status, 201);
      const decomposed = await t.request('POST', '/api/auth/signup', {
        body: signup('nfc2', { nickname: 'cafe\u0301' }),
      });
      assert.deepEqual([decomposed.status, decomposed.body.code], [409, 'NICKNAME_TAKEN']);
    });

    it('creates a user and never returns the password or its hash', async () => {
      const reply = await t.request('POST', '/api/auth/signup', {
        body: signup('alice', { email: 'Alice@Example.COM' }),
      });
      assert.equal(reply.status, 201);
      assert.deepEqual(Object.keys(reply.body).sort(), [
        'createdAt',
        'email',
        'id',
        'nickname',
        'role',
      ]);
      assert.equal(reply.body.email, 'alice@example.com');
      assert.equal(reply.body.role, 'user');
      assert.ok(!reply.text.includes('Sup3r') && !reply.text.includes('argon2'));
      const { rows } = await t.db.query('SELECT password_hash FROM users WHERE id = $1', [
        reply.body.id,
      ]);
      assert.match(rows[0].password_hash, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    });

    it('refuses a taken email (any case) and a taken nickname with 409', async () => {
      await t.request('POST', '/api/auth/signup', { body: signup('bob') });
      const email = await t.request('POST', '/api/auth/signup', {
        body: signup('bob2', { email: 'BOB@example.com' }),
      });
      assert.equal(email.status, 409);
      assert.equal(email.body.code, 'EMAIL_TAKEN');
      const nick = await t.request('POST', '/api/auth/signup', {
        body: signup('bob', { email: 'other@example.com' }),
      });
      assert.equal(nick.status, 409);
      assert.equal(nick.body.code, 'NICKNAME_TAKEN');
    });

    it('judges passwords by length and the common-password list, never by composition (ASVS 6.2)', async () => {
      const passphrase = 'correct horse battery staple is long';
      const accepted = await t.request('POST', '/api/auth/signup', {
        body: signup('phrase', { password: passphrase, confirm: passphrase }),
      });
      assert.equal(accepted.status, 201, accepted.text);
      const before = await snapshot(t.db);
      for (const [password, code] of [
        ['Password1!', 'PASSWORD_TOO_COMMON'],
        ['P@ssw0rd', 'PASSWORD_TOO_COMMON'],
        ['Qwerty1!', 'PASSWORD_TOO_COMMON'],
        ['seven77', 'PASSWORD_TOO_SHORT'],
        ['p'.repeat(129), 'PASSWORD_TOO_LONG'],
        ['weak-nick-strong', 'PASSWORD_CONTAINS_IDENTITY'],
      ]) {
        const reply = await t.request('POST', '/api/auth/signup', {
          body: signup('nick', { email: 'pw@example.com', password, confirm: password }),
        });
        assert.deepEqual([reply.status, reply.body.code], [400, 'VALIDATION_FAILED'], password);
        // The field and the reason by code, for the web app to place and word.
        assert.deepEqual(
          (reply.body.fields as { field: string; code: string }[]).map((f) => [f.field, f.code]),
          [['password', code]],
          reply.text,
        );
        assert.doesNotMatch(reply.body.message as string, new RegExp(password.slice(0, 8)));
      }
      assert.equal(await snapshot(t.db), before);
    });

    it('refuses each broken rule with 400 VALIDATION_FAILED and stores nothing', async () => {
      const before = await snapshot(t.db);
      const cases: Record<string, unknown>[] = [
        signup('c1', { email: 'nope' }),
        signup('c2', { password: 'short1!A', confirm: 'short1!' }),
        signup('c3', { password: 'Password1!', confirm: 'Password1!' }),
        signup('c7', { password: 'Aa1!', confirm: 'Aa1!' }),
        signup('c8', { nickname: 'two words' }),
        signup('c9', { nickname: 'elevenchars' }),
        signup('c10', { nickname: '' }),
        { email: 'x@example.com', password: 'Sup3r$ecret', confirm: 'Sup3r$ecret' },
        {},
      ];
      for (const body of cases) {
        const reply = await t.request('POST', '/api/auth/signup', { body });
        assert.equal(reply.status, 400, JSON.stringify(body));
        assert.equal(reply.body.code, 'VALIDATION_FAILED');
        assert.equal(typeof reply.body.message, 'string');
      }
      assert.equal(await snapshot(t.db), before);
    });

    it('refuses mass assignment of role and id', async () => {
      for (const extra of [{ role: 'admin' }, { id: 1 }, { passwordHash: 'x' }]) {
        const reply = await t.request('POST', '/api/auth/signup', { body: signup('mass', extra) });
        assert.equal(reply.status, 400);
        assert.match(reply.body.message, /is not an accepted field/);
      }
      const { rowCount } = await t.db.query(`SELECT 1 FROM users WHERE nickname = 'mass'`);
      assert.equal(rowCount, 0);
    });
  });

  describe('login, me, logout', () => {
    it("keeps the token and the caller's data out of every cache (Cache-Control: no-store)", async () => {
      const user = await t.newUser();
      const login = await t.request('POST', '/api/auth/login', {
        body: { email: user.email, password: TEST_PASSWORD },
      });
      assert.equal(login.status, 200);
      assert.equal(login.headers.get('cache-control'), 'no-store');
      for (const path of ['/api/auth/me', '/api/me/bookings']) {
        const reply = await t.request('GET', path, { token: user.token });
        assert.equal(reply.status, 200, path);
        assert.equal(reply.headers.get('cache-control'), 'no-store', path);
      }
    });

    it('every answer to a request with a credential is no-store, writes and errors included (L8)', async () => {
      const host = await t.newUser(Role.Host);
      const user = await t.newUser();
      const admin = await t.newUser(Role.Admin);
      const goods = await t.newGoods(host, { bookingLimit: 5, maxPerUser: 2 });
      const cookie = { cookie: `Authorization=${user.token}`, 'sec-fetch-site': 'same-origin' };
      const asked: [string, string, Parameters<TestApp['request']>[2]][] = [
        // The booking fast path, the controller behind it, and the original's routes.
        ['POST', `/api/goods/${goods.id}/bookings`, { token: user.token }],
        ['POST', `/api/goods/${goods.id}/bookings`, { headers: cookie }],
        ['POST', `/api/booking/${goods.id}`, { token: user.token }],
        ['DELETE', `/api/booking/${goods.id}`, { token: user.token }],
        ['PATCH', `/api/users/${user.id}/role`, { token: admin.token, body: { role: 'user' } }],
        ['GET', '/api/goods', { token: user.token }],
        ['GET', '/api/goods/999999', { headers: cookie }],
        ['GET', '/api/me/sales', { token: host.token }],
      ];
      for (const [method, path, options] of asked) {
        const reply = await t.request(method, path, options);
        assert.equal(
          reply.headers.get('cache-control'),
          'no-store',
          `${method} ${path} → ${reply.status}`,
        );
      }
      const signup = await t.request('POST', '/api/auth/signup', {
        body: {
          email: 'fresh-l8@example.com',
          password: TEST_PASSWORD,
          confirm: TEST_PASSWORD,
          nickname: 'fresh-l8',
        },
      });
      assert.equal(signup.status, 201, signup.text);
      assert.equal(signup.headers.get('cache-control'), 'no-store', 'signup');
      // Public data to the anonymous stays cacheable as before.
      const open = await t.request('GET', '/api/goods');
      assert.notEqual(open.headers.get('cache-control'), 'no-store');
    });

    it('GET /api/auth/session says who is logged in, or null, always 200', async () => {
      const user = await t.newUser();
      const anonymous = await t.request('GET', '/api/auth/session');
      assert.deepEqual([anonymous.status, anonymous.body], [200, { user: null }]);
      assert.equal(anonymous.headers.get('cache-control'), 'no-store');
      const forged = await t.request('GET', '/api/auth/session', { token: 'a.b.c' });
      assert.deepEqual([forged.status, forged.body], [200, { user: null }]);
      const cookie = await t.request('GET', '/api/auth/session', {
        headers: { cookie: `Authorization=${user.token}` },
      });
      assert.deepEqual(
        [cookie.status, cookie.body.user.id, cookie.body.user.email],
        [200, user.id, user.email],
      );
      assert.equal(cookie.body.user.passwordHash, undefined);
    });

    it('logs in with a token and an httpOnly SameSite cookie, usable by /me', async () => {
      await t.request('POST', '/api/auth/signup', { body: signup('carol') });
      const reply = await t.request('POST', '/api/auth/login', {
        body: { email: 'CAROL@example.com', password: 'Sup3r$ecret' },
      });
      assert.equal(reply.status, 200);
      assert.equal(typeof reply.body.accessToken, 'string');
      const cookie = reply.headers.get('set-cookie') ?? '';
      assert.match(cookie, /^Authorization=[\w-]+\.[\w-]+\.[\w-]+;/);
      assert.match(cookie, /HttpOnly/i);
      assert.match(cookie, /SameSite=Lax/i);

      const viaBearer = await t.request('GET', '/api/auth/me', { token: reply.body.accessToken });
      assert.equal(viaBearer.status, 200);
      assert.equal(viaBearer.body.nickname, 'carol');
      const viaCookie = await t.request('GET', '/api/auth/me', {
        headers: { cookie: cookie.split(';')[0] },
      });
      assert.equal(viaCookie.status, 200);
      assert.equal(viaCookie.body.email, 'carol@example.com');

      const logout = await t.request('POST', '/api/auth/logout', {
        headers: { cookie: cookie.split(';')[0] },
      });
      assert.equal(logout.status, 204);
      assert.match(
        logout.headers.get('set-cookie') ?? '',
        /Authorization=;.*(Expires=Thu, 01 Jan 1970|Max-Age=0)/i,
      );
    });

    it('answers a wrong password and an unknown email identically, in similar time', async () => {
      await t.request('POST', '/api/auth/signup', { body: signup('dave') });
      const timed = async (email: string) => {
        const start = process.hrtime.bigint();
        const reply = await t.request('POST', '/api/auth/login', {
          body: { email, password: 'Wr0ng$pass' },
        });
        return { reply, ms: Number(process.hrtime.bigint() - start) / 1e6 };
      };
      const wrong: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 5; i++) {
        const a = await timed('dave@example.com');
        const b = await timed(`ghost${i}@example.com`);
        assert.equal(a.reply.status, 401);
        assert.deepEqual(a.reply.body, b.reply.body);
        assert.equal(a.reply.body.code, 'INVALID_CREDENTIALS');
        wrong.push(a.ms);
        unknown.push(b.ms);
      }
      const median = (xs: number[]) => xs.sort((x, y) => x - y)[2];
      // An unknown email still pays for one argon2 verification (no fast path to probe).
      assert.ok(
        median(unknown) > median(wrong) * 0.4,
        `unknown ${median(unknown)} ms vs wrong ${median(wrong)} ms`,
      );
    });

    it('refuses /me without a token, with a forged, alg none, expired or other-algorithm token', async () => {
      const user = await t.newUser();
      const secret = TEST_JWT_SECRET;
      const now = Math.floor(Date.now() / 1000);
      const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const tokens = [
        undefined,
        'garbage',
        jwt.sign({ sub: String(user.id), role: 'user' }, 'not-the-secret', { algorithm: 'HS256' }),
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: String(user.id), role: 'user', exp: now + 60 })}.`,
        jwt.sign({ sub: String(user.id), role: 'user', exp: now - 1 }, secret, {
          algorithm: 'HS256',
        }),
        jwt.sign({ sub: String(user.id), role: 'user' }, secret, { algorithm: 'HS384' }),
      ];
      for (const token of tokens) {
        const reply = await t.request('GET', '/api/auth/me', { token });
        assert.equal(reply.status, 401, String(token));
        assert.equal(reply.body.code, 'UNAUTHORIZED');
      }
      const ok = await t.request('GET', '/api/auth/me', { token: user.token });
      assert.equal(ok.status, 200);
    });

    it('refuses malformed login bodies with 400', async () => {
      for (const body of [
        {},
        { email: 'a@b.co' },
        { email: 1, password: 2 },
        { email: 'a@b.co', password: 'x', extra: 1 },
      ]) {
        const reply = await t.request('POST', '/api/auth/login', { body });
        assert.equal(reply.status, 400, JSON.stringify(body));
        assert.equal(reply.body.code, 'VALIDATION_FAILED');
      }
    });
  });

  describe('admin-only role change', () => {
    it('lets an admin promote a user to host, and nobody else', async () => {
      const admin = await t.newUser(Role.Admin);
      const host = await t.newUser(Role.Host);
      const user = await t.newUser();
      for (const who of [user, host]) {
        const reply = await t.request('PATCH', `/api/users/${user.id}/role`, {
          token: who.token,
          body: { role: 'admin' },
        });
        assert.equal(reply.status, 403);
        assert.equal(reply.body.code, 'FORBIDDEN');
      }
      const anonymous = await t.request('PATCH', `/api/users/${user.id}/role`, {
        body: { role: 'host' },
      });
      assert.equal(anonymous.status, 401);

      const promoted = await t.request('PATCH', `/api/users/${user.id}/role`, {
        token: admin.token,
        body: { role: 'host' },
      });
      assert.equal(promoted.status, 200);
      assert.equal(promoted.body.role, 'host');
      // A role change ends the user's sessions: the old token (which says "user") is refused,
      // and the next login carries the new role.
      const goods = {
        title: 't',
        content: 'c',
        price: 1,
        imgUrl: 'https://x.io/a.png',
        showDate: '2027-01-01T00:00:00Z',
        bookingLimit: 1,
      };
      const stale = await t.request('POST', '/api/goods', { token: user.token, body: goods });
      assert.deepEqual([stale.status, stale.body.code], [401, 'UNAUTHORIZED']);
      const login = await t.request('POST', '/api/auth/login', {
        body: { email: user.email, password: TEST_PASSWORD },
      });
      const create = await t.request('POST', '/api/goods', {
        token: login.body.accessToken,
        body: goods,
      });
      assert.equal(create.status, 201);
    });

    it("refuses bad ids, unknown users, bad roles and changing one's own role", async () => {
      const admin = await t.newUser(Role.Admin);
      const cases: [string, unknown, number, string][] = [
        ['abc', { role: 'host' }, 400, 'VALIDATION_FAILED'],
        ['0', { role: 'host' }, 400, 'VALIDATION_FAILED'],
        ['99999999999', { role: 'host' }, 400, 'VALIDATION_FAILED'],
        ['999999', { role: 'host' }, 404, 'NOT_FOUND'],
        [String(admin.id), { role: 'user' }, 409, 'CONFLICT'],
        ['1', { role: 'superuser' }, 400, 'VALIDATION_FAILED'],
        ['1', { role: 'host', id: 5 }, 400, 'VALIDATION_FAILED'],
      ];
      for (const [id, body, status, code] of cases) {
        const reply = await t.request('PATCH', `/api/users/${id}/role`, {
          token: admin.token,
          body,
        });
        assert.equal(reply.status, status, `${id} ${JSON.stringify(body)}: ${reply.text}`);
        assert.equal(reply.body.code, code);
      }
    });
  });

  it('the test password works for factory users (login path covers real hashes)', async () => {
    const user = await t.newUser();
    const reply = await t.request('POST', '/api/auth/login', {
      body: { email: user.email, password: TEST_PASSWORD },
    });
    assert.equal(reply.status, 200);
  });
});

describe('revocable sessions (logout, password change) across instances', () => {
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    a = await TestApp.start();
    b = await a.peer();
  });
  after(async () => {
    await b.close({ purge: false });
    await a.close();
  });

  const login = async (app: TestApp, email: string, password = TEST_PASSWORD) => {
    const reply = await app.request('POST', '/api/auth/login', { body: { email, password } });
    assert.equal(reply.status, 200, reply.text);
    return reply.body.accessToken as string;
  };
  const me = (app: TestApp, token: string, how: 'bearer' | 'cookie' = 'bearer') =>
    app
      .request(
        'GET',
        '/api/auth/me',
        how === 'bearer' ? { token } : { headers: { cookie: `Authorization=${token}` } },
      )
      .then((r) => r.status);

  it('logout ends that token on every instance, as bearer and as cookie, and on live sockets; other sessions stay', async () => {
    const user = await a.newUser();
    const [laptop, phone] = [await login(a, user.email), await login(b, user.email)];
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = io(`${b.url}/realtime`, {
        auth: { token: laptop },
        transports: ['websocket'],
        reconnection: false,
      });
      s.once('connect', () => resolve(s));
      s.once('connect_error', reject);
    });
    const closed = new Promise<{ code: string }>((resolve) =>
      socket.once('connection.closed', resolve),
    );
    try {
      assert.deepEqual(await Promise.all([me(a, laptop), me(b, laptop, 'cookie')]), [200, 200]);
      const out = await a.request('POST', '/api/auth/logout', { token: laptop });
      assert.equal(out.status, 204);
      assert.match(out.headers.get('set-cookie') ?? '', /Authorization=;/);
      // b heard it from Redis within milliseconds: allow it a moment.
      await new Promise((r) => setTimeout(r, 100));
      for (const [app, how] of [
        [a, 'bearer'],
        [a, 'cookie'],
        [b, 'bearer'],
        [b, 'cookie'],
      ] as const) {
        assert.equal(await me(app, laptop, how), 401, `${how} on ${app === a ? 'a' : 'b'}`);
      }
      // The booking fast path checks the same way.
      const host = await a.newUser(Role.Host);
      const goods = await a.newGoods(host);
      const booking = await b.request('POST', `/api/goods/${goods.id}/bookings`, {
        token: laptop,
        body: {},
      });
      assert.equal(booking.status, 401);
      assert.equal((await closed).code, 'UNAUTHORIZED');
      assert.deepEqual(await Promise.all([me(a, phone), me(b, phone)]), [200, 200]);
      // An instance started later loads what was revoked before it.
      const c = await a.peer();
      try {
        assert.deepEqual(await Promise.all([me(c, laptop), me(c, phone)]), [401, 200]);
      } finally {
        await c.close({ purge: false });
      }
    } finally {
      socket.close();
    }
  });

  it("refuses a cookie logout from another site's page, and leaves that session alone", async () => {
    const user = await a.newUser();
    const token = await login(a, user.email);
    const forced = await a.request('POST', '/api/auth/logout', {
      headers: { cookie: `Authorization=${token}`, origin: 'https://evil.test' },
    });
    assert.deepEqual([forced.status, forced.body.code], [403, 'ORIGIN_NOT_ALLOWED']);
    assert.equal(await me(a, token), 200);
    // Logging out without a session, or twice, is fine.
    assert.equal((await a.request('POST', '/api/auth/logout')).status, 204);
  });

  it('a password change checks the old password and the rules, then ends every other session', async () => {
    const user = await a.newUser();
    const [one, two] = [await login(a, user.email), await login(b, user.email)];
    const change = (body: Record<string, unknown>) =>
      a.request('POST', '/api/auth/password', { token: one, body });
    const wrong = await change({
      currentPassword: 'not my password',
      newPassword: 'a brand new phrase',
    });
    assert.deepEqual(
      [wrong.status, wrong.body.fields?.[0]?.field, wrong.body.fields?.[0]?.code],
      [400, 'currentPassword', 'INVALID_CREDENTIALS'],
    );
    for (const [newPassword, code] of [
      ['Password1!', 'PASSWORD_TOO_COMMON'],
      ['short', 'PASSWORD_TOO_SHORT'],
      [`my ${user.nickname} phrase`, 'PASSWORD_CONTAINS_IDENTITY'],
    ]) {
      const refused = await change({ currentPassword: TEST_PASSWORD, newPassword });
      assert.deepEqual(
        [refused.status, refused.body.fields?.[0]?.code],
        [400, code],
        `${newPassword}: ${refused.text}`,
      );
    }
    assert.deepEqual(
      await Promise.all([me(a, one), me(b, two)]),
      [200, 200],
      'nothing changed yet',
    );

    const changed = await change({
      currentPassword: TEST_PASSWORD,
      newPassword: 'a brand new phrase',
    });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.headers.get('cache-control'), 'no-store');
    const fresh = changed.body.accessToken as string;
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      await Promise.all([me(a, one), me(b, two), me(a, fresh), me(b, fresh)]),
      [401, 401, 200, 200],
    );
    const old = await a.request('POST', '/api/auth/login', {
      body: { email: user.email, password: TEST_PASSWORD },
    });
    assert.equal(old.status, 401);
    const again = await login(b, user.email, 'a brand new phrase');
    assert.deepEqual(await Promise.all([me(a, again), me(b, again)]), [200, 200]);
  });
});
