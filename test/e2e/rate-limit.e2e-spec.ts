import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { TestApp, TEST_PASSWORD } from '../support/app';

/**
 * Two API instances on one database and one Redis prefix (limits must be shared), behind a
 * proxy, so each request can come from an address of its own; `limits` for both.
 */
function twoInstances(limits: Record<string, string>): { a: TestApp; b: TestApp } {
  const apps = {} as { a: TestApp; b: TestApp };
  before(async () => {
    const env = { ...limits, TRUST_PROXY: '127.0.0.1' };
    apps.a = await TestApp.start(env);
    apps.b = await apps.a.peer(env);
  });
  after(async () => {
    await apps.b.close({ purge: false });
    await apps.a.close();
  });
  return apps;
}

/** A login from client address `from`, with a Cookie header when given. */
const login = (app: TestApp, email: string, password: string, from: string, cookie?: string) =>
  app.request('POST', '/api/auth/login', {
    body: { email, password },
    headers: { 'x-forwarded-for': from, ...(cookie ? { cookie } : {}) },
  });

describe('rate limits shared through Redis', () => {
  const apps = twoInstances({
    LOGIN_MAX_FAILURES: '10',
    LOGIN_MAX_FAILURES_PER_IP: '25',
    LOGIN_MAX_FAILURES_PER_ACCOUNT: '30',
    LOGIN_FAILURE_WINDOW: '15m',
    // The account-wide delay has a describe of its own (below).
    LOGIN_DELAY_AFTER: '1000',
  });

  it('after 10 failures from one address, that address waits for that account (across instances), before the password is checked', async () => {
    const { a, b } = apps;
    const user = await a.newUser();
    for (let i = 0; i < 10; i++) {
      const reply = await login(i % 2 === 0 ? a : b, user.email, `Wrong${i}!x`, '198.51.100.1');
      assert.equal(reply.status, 401, `attempt ${i}`);
    }
    const locked = await login(b, user.email, TEST_PASSWORD, '198.51.100.1');
    assert.equal(locked.status, 429, 'even the right password waits, from that address');
    assert.equal(locked.body.code, 'RATE_LIMITED');
    const retryAfter = Number(locked.headers.get('retry-after'));
    assert.ok(retryAfter > 800 && retryAfter <= 900, `Retry-After ${retryAfter}`);
  });

  it('counts the address the trusted proxy saw, not what the client wrote before it (M1)', async () => {
    const { a, b } = apps;
    const user = await a.newUser();
    // A new claimed address each time, from one real client (the right-most, added by us).
    for (let i = 0; i < 10; i++) {
      const reply = await login(a, user.email, `Wrong${i}!x`, `203.0.113.${i}, 198.51.100.77`);
      assert.equal(reply.status, 401, `attempt ${i}`);
    }
    const locked = await login(a, user.email, TEST_PASSWORD, '203.0.113.200, 198.51.100.77');
    assert.equal(locked.status, 429, 'the fake addresses bought no more guesses');
    // …and claiming the victim's address locks nobody else out.
    const victim = await a.newUser();
    for (let i = 0; i < 12; i++) {
      await login(a, victim.email, `Wrong${i}!x`, '192.0.2.44, 198.51.100.78');
    }
    const owner = await login(b, victim.email, TEST_PASSWORD, '192.0.2.44');
    assert.equal(owner.status, 200, JSON.stringify(owner.body));
  });

  it('counts an IPv6 client by its /64: new addresses in it buy no more guesses (M1)', async () => {
    const { a } = apps;
    const user = await a.newUser();
    for (let i = 1; i <= 10; i++) {
      const reply = await login(a, user.email, `Wrong${i}!x`, `2001:db8:7:9::${i.toString(16)}`);
      assert.equal(reply.status, 401, `attempt ${i}`);
    }
    assert.equal((await login(a, user.email, TEST_PASSWORD, '2001:db8:7:9::ffff')).status, 429);
    // Another /64 is another client.
    assert.equal((await login(a, user.email, TEST_PASSWORD, '2001:db8:7:a::1')).status, 200);
  });

  it('nobody can lock someone else out: the right password from another address gets in', async () => {
    const { a, b } = apps;
    const victim = await a.newUser();
    for (let i = 0; i < 12; i++) {
      await login(a, victim.email, `Wrong${i}!x`, '203.0.113.66');
    }
    assert.equal((await login(a, victim.email, TEST_PASSWORD, '203.0.113.66')).status, 429);
    const owner = await login(b, victim.email, TEST_PASSWORD, '192.0.2.10');
    assert.equal(owner.status, 200, JSON.stringify(owner.body));
  });

  it('past the per-account ceiling, addresses that failed wait and every other gets one try; the right password still gets in', async () => {
    const { a, b } = apps;
    const victim = await a.newUser();
    // 30 failures from 10 addresses, 3 each: under the pair limit, at the account's ceiling.
    for (let i = 0; i < 30; i++) {
      const reply = await login(a, victim.email, `Wrong${i}!x`, `10.9.${i % 10}.1`);
      assert.equal(reply.status, 401, `attempt ${i}`);
    }
    assert.equal((await login(a, victim.email, TEST_PASSWORD, '10.9.3.1')).status, 429);
    const guess = await login(a, victim.email, 'Wrong-again!', '10.9.99.1');
    assert.equal(guess.status, 401, 'a fresh address has its guess checked');
    assert.equal((await login(a, victim.email, 'Wrong-twice!', '10.9.99.1')).status, 429);
    assert.equal((await login(b, victim.email, TEST_PASSWORD, '10.9.100.1')).status, 200);
    // The owner got in: the account's count starts again.
    assert.equal((await login(a, victim.email, 'Wrong-3!', '10.9.3.1')).status, 401);
  });

  it('limits failures per client address across many accounts (credential stuffing)', async () => {
    const { a } = apps;
    let limited = 0;
    for (let i = 0; i < 30; i++) {
      const reply = await login(a, `victim${i}@example.com`, 'Guess123!', '198.51.100.200');
      if (reply.status === 429) {
        limited++;
        assert.ok(reply.headers.get('retry-after'));
      } else {
        assert.equal(reply.status, 401);
      }
    }
    // The address limit is 25.
    assert.equal(limited, 5);
  });
});

describe("a delay that grows with the account's failures in total, whatever the address (M1)", () => {
  const apps = twoInstances({ LOGIN_DELAY_AFTER: '3', LOGIN_DELAY_MAX: '4s' });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let address = 0;
  /** A new client address for every attempt: the attacker with a botnet. */
  const fresh = () => `10.${77 + Math.floor(address / 250)}.${address++ % 250}.9`;

  it('past 3 failures in total, one attempt at a time from all addresses together, each delay twice the last, capped', async () => {
    const { a, b } = apps;
    const victim = await a.newUser();
    for (let i = 0; i < 3; i++) {
      assert.equal((await login(a, victim.email, `Wrong${i}!x`, fresh())).status, 401);
    }
    // The 4th is checked (and takes the 1 s slot); the 5th, from elsewhere, waits.
    assert.equal((await login(b, victim.email, 'Wrong-4!x', fresh())).status, 401);
    const waiting = await login(a, victim.email, 'Wrong-5!x', fresh());
    assert.equal(waiting.status, 429);
    assert.equal(waiting.body.code, 'RATE_LIMITED');
    assert.equal(waiting.headers.get('retry-after'), '1');
    // Ten addresses at once when the slot opens: one guess is checked, nine wait 2 s.
    await sleep(1100);
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        login(i % 2 ? a : b, victim.email, `Burst${i}!x`, fresh()),
      ),
    );
    assert.deepEqual(
      burst.map((r) => r.status).sort(),
      [401, ...Array<number>(9).fill(429)],
      'one of ten checked',
    );
    const retry = burst
      .filter((r) => r.status === 429)
      .map((r) => Number(r.headers.get('retry-after')));
    assert.ok(
      retry.every((s) => s === 2),
      retry.join(','),
    );
    // Doubling, never past LOGIN_DELAY_MAX (4 s).
    let wait = 2;
    for (const expected of [4, 4]) {
      await sleep(wait * 1000 + 100);
      assert.equal((await login(a, victim.email, 'Again!x1', fresh())).status, 401);
      const next = await login(b, victim.email, 'Again!x2', fresh());
      assert.equal(next.status, 429);
      wait = Number(next.headers.get('retry-after'));
      assert.equal(wait, expected);
    }
  });

  it("the owner's known browser is never delayed; elsewhere the owner waits, then gets in, and the count starts again", async () => {
    const { a, b } = apps;
    const victim = await a.newUser();
    const first = await login(a, victim.email, TEST_PASSWORD, fresh());
    assert.equal(first.status, 200);
    const device = first.headers.getSetCookie().find((c) => c.startsWith('TN-Login-Device='));
    assert.ok(device, first.headers.getSetCookie().join(' | '));
    assert.match(device, /HttpOnly/i);
    assert.match(device, /SameSite=Strict/i);
    assert.match(device, /Path=\/api\/auth/);
    const cookie = device.split(';')[0];
    for (let i = 0; i < 4; i++) {
      await login(a, victim.email, `Wrong${i}!x`, fresh());
    }
    // Attackers hold the slot; the owner's browser is let through at once, from any address.
    assert.equal((await login(b, victim.email, 'Wrong-5!x', fresh())).status, 429);
    assert.equal((await login(b, victim.email, TEST_PASSWORD, fresh(), cookie)).status, 200);
    // Someone else's device cookie (or a made-up one) spares nothing.
    for (let i = 0; i < 4; i++) {
      await login(a, victim.email, `Wrong${i}!y`, fresh());
    }
    const other = await a.newUser();
    const otherCookie = (await login(a, other.email, TEST_PASSWORD, fresh())).headers
      .getSetCookie()
      .find((c) => c.startsWith('TN-Login-Device='))!
      .split(';')[0];
    for (const wrong of [otherCookie, 'TN-Login-Device=forged', 'TN-Login-Device=%']) {
      assert.equal(
        (await login(b, victim.email, TEST_PASSWORD, fresh(), wrong)).status,
        429,
        wrong,
      );
    }
    // A new browser: the owner waits for the slot like anyone, then gets in.
    const waiting = await login(b, victim.email, TEST_PASSWORD, fresh());
    assert.equal(waiting.status, 429);
    await sleep(Number(waiting.headers.get('retry-after')) * 1000 + 100);
    assert.equal((await login(b, victim.email, TEST_PASSWORD, fresh())).status, 200);
    // Their success clears the account's count: the next wrong guess is checked at once.
    assert.equal((await login(a, victim.email, 'Wrong-after!x', fresh())).status, 401);
    assert.equal((await login(a, victim.email, 'Wrong-after!y', fresh())).status, 401);
  });
});

describe('request rate limit on auth routes', () => {
  let t: TestApp;
  before(async () => {
    t = await TestApp.start({ AUTH_RATE_LIMIT_PER_MINUTE: '5' });
  });
  after(() => t.close());

  it('answers 429 RATE_LIMITED with Retry-After past the per-minute limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const reply = await t.request('POST', '/api/auth/signup', { body: {} });
      statuses.push(reply.status);
      if (reply.status === 429) {
        assert.equal(reply.body.code, 'RATE_LIMITED');
        assert.ok(Number(reply.headers.get('retry-after')) >= 1);
      }
    }
    assert.deepEqual(statuses, [400, 400, 400, 400, 400, 429, 429]);
  });
});
