import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import fc from 'fast-check';

import { Role } from '../../src/users/user.entity';
import { goodsBody, Reply, snapshot, TestApp, TestUser } from '../support/app';

/**
 * Generated hostile input for every route: each request is a valid request with at least one
 * guaranteed violation (wrong type, unknown field, missing field, bad id), or random bytes.
 * Whatever comes in: no 5xx, every 4xx carries a code, and the database is unchanged.
 */
type Kind = 'string' | 'nullableString' | 'int';
type Shape = Record<string, Kind>;

const signupShape: Shape = {
  email: 'string',
  password: 'string',
  confirm: 'string',
  nickname: 'string',
};
const loginShape: Shape = { email: 'string', password: 'string' };
const goodsShape: Shape = {
  title: 'string',
  content: 'string',
  price: 'int',
  imgUrl: 'string',
  showDate: 'string',
  bookingLimit: 'int',
  saleStartsAt: 'nullableString',
  saleEndsAt: 'nullableString',
  maxPerUser: 'int',
};
const roleShape: Shape = { role: 'string' };

const nasty = fc.constantFrom(
  "' OR 1=1 --",
  "'); DROP TABLE users; --",
  '<script>alert(1)</script>',
  '\u0000',
  'a\u0000b',
  '𝕏🎫한국어',
  '\ud800',
  '%00',
  '${jndi:ldap://127.0.0.1/a}',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  '',
  ' ',
);
const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  nasty,
  fc.string({ minLength: 300, maxLength: 3000 }),
);
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  anyString,
  fc.array(fc.oneof(fc.integer(), anyString, fc.constant(null)), { maxLength: 4 }),
  fc.dictionary(anyString, fc.oneof(fc.integer(), anyString), { maxKeys: 3 }),
  fc.object({ maxDepth: 3 }),
);

/** A value of the wrong type for the kind: never valid. */
function wrongFor(kind: Kind): fc.Arbitrary<unknown> {
  const containers = [
    fc.array(hostile, { maxLength: 3 }),
    fc.dictionary(fc.string(), hostile, { maxKeys: 3 }),
  ];
  if (kind === 'int') {
    return fc.oneof(
      fc.constant(null),
      fc.boolean(),
      anyString,
      fc.double({ noInteger: true, noDefaultInfinity: true, noNaN: true }),
      fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: -(2 ** 31), max: -1 }),
      ...containers,
    );
  }
  return fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.double(),
    ...(kind === 'string' ? [fc.constant(null)] : []),
    ...containers,
  );
}

type Mutation = (body: Record<string, unknown>) => void;

/** 1–3 mutations, each of which alone makes the body invalid. */
function invalidBody(
  valid: Record<string, unknown>,
  shape: Shape,
  canDrop: boolean,
): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.keys(shape);
  const required = fields.filter(
    (f) => f in valid && shape[f] !== 'nullableString' && f !== 'maxPerUser',
  );
  const mutations: fc.Arbitrary<Mutation>[] = [
    fc
      .tuple(
        fc
          .string({ minLength: 1, maxLength: 20 })
          .filter((k) => !fields.includes(k) && k !== '__proto__'),
        hostile,
      )
      .map(
        ([key, value]) =>
          (b) =>
            void (b[key] = value),
      ),
    fc
      .constantFrom(...fields)
      .chain((f) =>
        wrongFor(shape[f]).map((value) => (b: Record<string, unknown>) => void (b[f] = value)),
      ),
    fc
      .constantFrom('role', 'id', 'hostId', 'bookingCount', 'userId')
      .chain((key) =>
        hostile.map((value) => (b: Record<string, unknown>) => void (b[key] = value)),
      ),
  ];
  if (canDrop && required.length > 0) {
    mutations.push(fc.constantFrom(...required).map((f) => (b) => void delete b[f]));
  }
  return fc.array(fc.oneof(...mutations), { minLength: 1, maxLength: 3 }).map((ms) => {
    const body = structuredClone(valid);
    ms.forEach((m) => m(body));
    return body;
  });
}

/** Percent-encode every UTF-8 byte (lone surrogates included), as a hostile client might. */
const encode = (s: string) =>
  [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

/** A path segment that never names an existing row: already URL-encoded. */
const badId = fc.oneof(
  anyString.filter((s) => !/^[1-9]\d{0,9}$/.test(s)).map(encode),
  fc.constantFrom(
    '0',
    '-1',
    '1.5',
    '1e3',
    '0x10',
    '99999999999',
    '2147483648',
    '%201',
    '1%20',
    '%',
    '%zz',
    '%E0%A4%A',
    '%C0%AF',
  ),
  fc.integer({ min: 1_000_000_000, max: 2_147_483_647 }).map(String),
);

interface Plan {
  method: string;
  path: string;
  body?: unknown;
  raw?: string;
  token?: 'none' | 'user' | 'host' | 'admin' | 'garbage';
  contentType?: string;
}

describe('generated hostile input against every route', () => {
  let t: TestApp;
  let users: Record<'user' | 'host' | 'admin', TestUser>;
  let goodsId: number;
  let before0: string;
  const stats = { requests: 0, byStatus: new Map<number, number>() };

  before(async () => {
    t = await TestApp.start();
    users = {
      user: await t.newUser(Role.User),
      host: await t.newUser(Role.Host),
      admin: await t.newUser(Role.Admin),
    };
    goodsId = (await t.newGoods(users.host, { saleStartsAt: '2027-01-01T00:00:00Z' })).id;
    before0 = await snapshot(t.db);
  });
  after(() => t.close());

  const token = fc.constantFrom<Plan['token']>('none', 'user', 'host', 'admin', 'garbage');
  const privileged = fc.oneof(
    { weight: 4, arbitrary: fc.constant<Plan['token']>('host') },
    { weight: 1, arbitrary: token },
  );
  const signupValid = {
    email: 'fuzz@example.com',
    password: 'Sup3r$ecret',
    confirm: 'Sup3r$ecret',
    nickname: 'fuzz',
  };
  const loginValid = { email: 'fuzz@example.com', password: 'Sup3r$ecret' };

  const plans = (): fc.Arbitrary<Plan> =>
    fc.oneof(
      invalidBody(signupValid, signupShape, true).map((body): Plan => ({
        method: 'POST',
        path: '/api/auth/signup',
        body,
      })),
      fc
        .oneof(invalidBody(loginValid, loginShape, true), hostile)
        .map((body): Plan => ({ method: 'POST', path: '/api/auth/login', body })),
      token.map((tk): Plan => ({ method: 'GET', path: '/api/auth/me', token: tk })),
      fc
        .tuple(privileged, invalidBody(goodsBody(), goodsShape, true))
        .map(([tk, body]): Plan => ({ method: 'POST', path: '/api/goods', token: tk, body })),
      fc
        .tuple(
          privileged,
          fc.oneof(fc.constant(String(goodsId)), badId),
          invalidBody({ title: 'x', price: 1 }, goodsShape, false),
        )
        .map(([tk, id, body]): Plan => ({
          method: 'PATCH',
          path: `/api/goods/${id}`,
          token: tk,
          body,
        })),
      fc
        .tuple(privileged, badId)
        .map(([tk, id]): Plan => ({ method: 'DELETE', path: `/api/goods/${id}`, token: tk })),
      badId.map((id): Plan => ({ method: 'GET', path: `/api/goods/${id}` })),
      fc
        .dictionary(
          fc.oneof(fc.constantFrom('page', 'limit'), fc.string({ maxLength: 10 })),
          fc.oneof(anyString, fc.integer().map(String)),
          { maxKeys: 3 },
        )
        .map((q): Plan => ({
          method: 'GET',
          path: `/api/goods?${new URLSearchParams(q).toString()}`,
        })),
      fc
        .tuple(
          fc.constantFrom<Plan['token']>('admin', 'admin', 'user', 'garbage'),
          fc.oneof(fc.constant(String(users.user.id)), badId),
          invalidBody({ role: 'host' }, roleShape, true),
        )
        .map(([tk, id, body]): Plan => ({
          method: 'PATCH',
          path: `/api/users/${id}/role`,
          token: tk,
          body,
        })),
      fc
        .tuple(
          fc.constantFrom(
            '/api/auth/signup',
            '/api/auth/login',
            '/api/goods',
            `/api/goods/${goodsId}`,
            `/api/users/${users.user.id}/role`,
          ),
          fc.constantFrom('POST', 'PATCH'),
          fc.oneof(
            fc.string(),
            fc.string({ unit: 'binary' }),
            fc.json().map((j) => `${j}}`),
          ),
          fc.constantFrom(
            'application/json',
            'text/plain',
            'application/x-www-form-urlencoded',
            'application/json; charset=utf-16',
          ),
        )
        .map(([path, method, raw, contentType]): Plan => ({
          method,
          path,
          raw,
          token: 'host',
          contentType,
        })),
    );

  async function send(plan: Plan): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (plan.contentType) {
      headers['content-type'] = plan.contentType;
    }
    let tokenValue: string | undefined;
    if (plan.token === 'garbage') {
      headers.authorization = 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.';
    } else if (plan.token && plan.token !== 'none') {
      tokenValue = users[plan.token].token;
    }
    return t.request(plan.method, plan.path, {
      body: plan.body,
      raw: plan.raw,
      token: tokenValue,
      headers,
    });
  }

  it('answers at least 1,000 generated requests with no 5xx and a code on every 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(plans(), async (plan) => {
        const reply = await send(plan);
        stats.requests++;
        stats.byStatus.set(reply.status, (stats.byStatus.get(reply.status) ?? 0) + 1);
        assert.ok(
          reply.status < 500,
          `${plan.method} ${plan.path} → ${reply.status} ${reply.text.slice(0, 300)}`,
        );
        if (reply.status >= 400) {
          assert.equal(
            typeof reply.body?.code,
            'string',
            `${plan.method} ${plan.path} → ${reply.text.slice(0, 300)}`,
          );
          assert.equal(typeof reply.body?.message, 'string');
        }
        if (plan.method !== 'GET') {
          assert.ok(
            reply.status >= 400 || plan.method === 'PATCH',
            `${plan.method} ${plan.path} accepted ${JSON.stringify(plan.body)}`,
          );
        }
      }),
      { numRuns: 1200, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), verbose: 1 },
    );
    assert.ok(stats.requests >= 1000, `only ${stats.requests} requests`);
    process.stderr.write(
      `fuzz: ${stats.requests} requests, statuses ${JSON.stringify([...stats.byStatus].sort())}\n`,
    );
  });

  it('left the database exactly as it was', async () => {
    assert.equal(await snapshot(t.db), before0);
  });
});
