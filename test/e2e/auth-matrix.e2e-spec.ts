import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import jwt from 'jsonwebtoken';

import { Role } from '../../src/users/user.entity';
import { goodsBody, snapshot, TestApp, TestUser, TEST_JWT_SECRET } from '../support/app';

/** Every authenticated route × every kind of bad credential → 401 UNAUTHORIZED, nothing changed. */
describe('authentication on every protected route', () => {
  let t: TestApp;
  let admin: TestUser;
  let host: TestUser;
  let goodsId: number;
  before(async () => {
    t = await TestApp.start();
    admin = await t.newUser(Role.Admin);
    host = await t.newUser(Role.Host);
    goodsId = (await t.newGoods(host)).id;
  });
  after(() => t.close());

  const routes = (): [string, string, unknown][] => [
    ['GET', '/api/auth/me', undefined],
    ['PATCH', `/api/users/${host.id}/role`, { role: 'admin' }],
    ['POST', '/api/goods', goodsBody()],
    ['PATCH', `/api/goods/${goodsId}`, { title: 'stolen' }],
    ['DELETE', `/api/goods/${goodsId}`, undefined],
  ];

  const badCredentials = (): [string, Record<string, string>][] => {
    const secret = TEST_JWT_SECRET;
    const now = Math.floor(Date.now() / 1000);
    const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const claims = { sub: String(admin.id), role: 'admin' };
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    return [
      ['no credentials', {}],
      ['forged signature', bearer(jwt.sign(claims, 'guessed-secret', { algorithm: 'HS256' }))],
      [
        "alg 'none'",
        bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: now + 600 })}.`),
      ],
      ['expired', bearer(jwt.sign({ ...claims, exp: now - 5 }, secret, { algorithm: 'HS256' }))],
      ['HS512 with the right secret', bearer(jwt.sign(claims, secret, { algorithm: 'HS512' }))],
      [
        'forged cookie',
        { cookie: `Authorization=${jwt.sign(claims, 'x', { algorithm: 'HS256' })}` },
      ],
      [
        'token for a user that does not exist',
        bearer(
          jwt.sign({ sub: '999999', role: 'admin' }, secret, {
            algorithm: 'HS256',
            expiresIn: 600,
          }),
        ),
      ],
    ];
  };

  it('answers 401 UNAUTHORIZED and changes nothing', async () => {
    const before0 = await snapshot(t.db);
    for (const [method, path, body] of routes()) {
      for (const [why, headers] of badCredentials()) {
        const reply = await t.request(method, path, { body, headers });
        // A valid token for a deleted user on a route without a role check still finds no user.
        assert.equal(
          reply.status,
          401,
          `${method} ${path} with ${why}: ${reply.status} ${reply.text}`,
        );
        assert.equal(reply.body.code, 'UNAUTHORIZED');
      }
    }
    assert.equal(await snapshot(t.db), before0);
  });

  it('the same routes work with a valid token (the matrix is not vacuous)', async () => {
    for (const [method, path, body] of routes()) {
      const reply = await t.request(method, path, { body, token: admin.token });
      assert.ok(reply.status < 300, `${method} ${path}: ${reply.status} ${reply.text}`);
    }
  });
});
