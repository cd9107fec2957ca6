import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
} from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';

import { fastRoutesOf } from '../../src/app.factory';
import { ROLES_KEY } from '../../src/auth/jwt-auth.guard';
import { RateLimitGuard } from '../../src/rate-limit/rate-limit.guard';
import { Role } from '../../src/users/user.entity';
import { Reply, TestApp, TestUser } from '../support/app';

type Step = (t: TestApp, s: Setup) => Promise<Reply>;
interface Setup {
  goods: { id: number };
  users: TestUser[];
}

const book = (user: number, body: unknown, headers: Record<string, string> = {}): Step => {
  return (t, s) =>
    t.request('POST', `/api/goods/${s.goods.id}/bookings`, {
      token: s.users[user].token,
      body,
      headers,
    });
};

/**
 * One conversation with the booking and goods routes: the plain cases a fast path answers and
 * the odd ones it must decline to the Nest controller. Run against FAST_PATH on and off, the
 * answers must be the same.
 */
const steps: [string, Step][] = [
  ['plain booking', book(0, {})],
  ['booking with a key', book(1, { quantity: 1 }, { 'idempotency-key': 'k-1' })],
  ['replay of that key', book(1, { quantity: 1 }, { 'idempotency-key': 'k-1' })],
  ['the key with another request', book(1, { quantity: 2 }, { 'idempotency-key': 'k-1' })],
  ['over the per-user limit', book(0, { quantity: 2 })],
  ['quantity above maxPerUser', book(2, { quantity: 3 })],
  ['quantity 0', book(2, { quantity: 0 })],
  ['quantity as a string', book(2, { quantity: '1' })],
  ['quantity 101', book(2, { quantity: 101 })],
  ['an unknown field', book(2, { seats: 1 })],
  ['an array body', book(2, [1])],
  ['a key too long', book(2, {}, { 'idempotency-key': 'x'.repeat(256) })],
  ['no token', (t, s) => t.request('POST', `/api/goods/${s.goods.id}/bookings`, { body: {} })],
  [
    'a forged token',
    (t, s) =>
      t.request('POST', `/api/goods/${s.goods.id}/bookings`, {
        body: {},
        headers: { authorization: `Bearer ${s.users[2].token.slice(0, -3)}xyz` },
      }),
  ],
  [
    'a lower-case bearer',
    (t, s) =>
      t.request('POST', `/api/goods/${s.goods.id}/bookings`, {
        body: {},
        headers: { authorization: `bearer ${s.users[2].token}` },
      }),
  ],
  [
    'the token in a cookie',
    (t, s) =>
      t.request('POST', `/api/goods/${s.goods.id}/bookings`, {
        body: {},
        headers: { cookie: `Authorization=${s.users[3].token}` },
      }),
  ],
  [
    'goods id not a number',
    (t, s) => t.request('POST', '/api/goods/abc/bookings', { token: s.users[2].token, body: {} }),
  ],
  [
    'goods id 012',
    (t, s) => t.request('POST', '/api/goods/012/bookings', { token: s.users[2].token, body: {} }),
  ],
  [
    'no such goods',
    (t, s) =>
      t.request('POST', '/api/goods/999999/bookings', { token: s.users[2].token, body: {} }),
  ],
  ['waiting for the outcome', book(4, {}, { prefer: 'wait=5' })],
  ['sold out', book(5, {})],
  ['goods detail', (t, s) => t.request('GET', `/api/goods/${s.goods.id}`)],
  ['goods detail, odd id', (t) => t.request('GET', '/api/goods/1e3')],
  ['goods list', (t) => t.request('GET', '/api/goods')],
  ['goods list, a page', (t) => t.request('GET', '/api/goods?page=1&limit=5')],
  ['goods list, limit 0', (t) => t.request('GET', '/api/goods?limit=0')],
  ['goods list, limit 101', (t) => t.request('GET', '/api/goods?limit=101')],
  ['goods list, page abc', (t) => t.request('GET', '/api/goods?page=abc')],
  ['goods list, an unknown parameter', (t) => t.request('GET', '/api/goods?page=1&sort=x')],
  ['goods detail, no such goods', (t) => t.request('GET', '/api/goods/999999')],
];

const ID = /^[0-9a-f-]{36}$/;
const VOLATILE = new Set(['id', 'hostId', 'createdAt', 'updatedAt', 'requestedAt', 'decidedAt']);

/** A value without what differs between two databases (ids, times), at any depth. */
function scrub(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(scrub);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        VOLATILE.has(k) || (typeof v === 'string' && ID.test(v)) ? '…' : scrub(v),
      ]),
    );
  }
  return value;
}

const normal = (reply: Reply): unknown => ({
  status: reply.status,
  type: reply.headers.get('content-type'),
  body: scrub(reply.body),
});

async function converse(fastPath: boolean): Promise<{ answers: Reply[]; app: TestApp }> {
  const t = await TestApp.start({ FAST_PATH: String(fastPath) });
  const host = await t.newUser(Role.Host);
  const goods = await t.newGoods(host, { bookingLimit: 5, maxPerUser: 2 });
  const users = [];
  for (let i = 0; i < 6; i++) {
    users.push(await t.newUser());
  }
  const answers = [];
  for (const [, step] of steps) {
    answers.push(await step(t, { goods, users }));
  }
  return { answers, app: t };
}

describe('fast paths answer exactly as the Nest controllers do', () => {
  let fast: { answers: Reply[]; app: TestApp };
  let nest: { answers: Reply[]; app: TestApp };
  before(async () => {
    fast = await converse(true);
    nest = await converse(false);
  });
  after(async () => {
    await fast.app.close();
    await nest.app.close();
  });

  it('gives the same status and body for every step', () => {
    steps.forEach(([name], i) => {
      assert.deepEqual(normal(fast.answers[i]), normal(nest.answers[i]), name);
    });
    // The conversation covers what it claims: a booking, a replay, refusals, a 401.
    const statuses = fast.answers.map((a) => a.status);
    for (const s of [200, 201, 202, 400, 401, 404, 409, 422]) {
      assert.ok(statuses.includes(s), `${s}`);
    }
    assert.equal(fast.answers[2].body.id, fast.answers[1].body.id, 'replay returns the booking');
  });

  it('really answered the plain cases on the fast path', async () => {
    const metrics = (await fast.app.request('GET', '/metrics')).text;
    const answered = (route: string): number =>
      Number(
        new RegExp(
          `http_fast_path_requests_total\\{route="${route}",outcome="answered"\\} (\\d+)`,
        ).exec(metrics)?.[1] ?? 0,
      );
    assert.ok(answered('POST /api/goods/:goodsId/bookings') >= 8);
    assert.ok(answered('GET /api/goods/:goodsId') >= 2);
    assert.ok(answered('GET /api/goods') >= 2);
  });

  it('does the work of every guard and interceptor of its controller route (no roles, nothing global)', () => {
    const t = fast.app;
    const routes = controllerRoutes(t);
    assert.ok(routes.has('GET /api/goods/:goodsId') && routes.has('POST /api/auth/login'));
    // The check sees guards: the login route's rate limit is one.
    assert.deepEqual(routes.get('POST /api/auth/login')!.guards, [RateLimitGuard]);
    for (const [route, fastRoute] of Object.entries(fastRoutesOf(t.app))) {
      const nest = routes.get(route);
      assert.ok(nest, `${route} has no controller route`);
      assert.deepEqual(nest.guards, [...fastRoute.covers], route);
      assert.deepEqual(nest.roles, [], `${route}: its fast path checks no role`);
    }
    const globals = [...t.app.get(ModulesContainer).values()].flatMap((m) =>
      [...m.providers.keys()].filter(
        (token) => typeof token === 'string' && /^APP_(GUARD|INTERCEPTOR)/.test(token),
      ),
    );
    assert.deepEqual(globals, [], 'a global guard or interceptor would skip the fast paths');
  });
});

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'ALL', 'OPTIONS', 'HEAD'];

/** Every controller route of the app as `METHOD /url/:pattern`, with what guards it. */
function controllerRoutes(t: TestApp): Map<string, { guards: unknown[]; roles: unknown[] }> {
  const routes = new Map<string, { guards: unknown[]; roles: unknown[] }>();
  for (const module of t.app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      const controller = metatype as unknown as { prototype: Record<string, unknown> };
      const base = Reflect.getMetadata(PATH_METADATA, controller) as string;
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = controller.prototype[name] as object;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        if (name === 'constructor' || path === undefined) {
          continue;
        }
        const method = HTTP_METHODS[Reflect.getMetadata(METHOD_METADATA, handler) as number];
        const url = `/${base}/${path}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
        routes.set(`${method} ${url}`, {
          guards: [
            ...((Reflect.getMetadata(GUARDS_METADATA, controller) as unknown[]) ?? []),
            ...((Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[]) ?? []),
            ...((Reflect.getMetadata(INTERCEPTORS_METADATA, controller) as unknown[]) ?? []),
            ...((Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[]) ?? []),
          ],
          roles: (Reflect.getMetadata(ROLES_KEY, handler) as unknown[]) ?? [],
        });
      }
    }
  }
  return routes;
}
