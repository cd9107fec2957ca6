import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { TestApp, TEST_PASSWORD } from '../support/app';

describe('rate limits shared through Redis', () => {
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    // Two API instances on one database and one Redis prefix: limits must be shared.
    // Behind a proxy, so each request can come from an address of its own.
    const limits = {
      LOGIN_MAX_FAILURES: '10',
      LOGIN_MAX_FAILURES_PER_IP: '25',
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '30',
      LOGIN_FAILURE_WINDOW: '15m',
      TRUST_PROXY: '127.0.0.1',
    };
    a = await TestApp.start(limits);
    b = await a.peer(limits);
  });
  after(async () => {
    await b.close({ purge: false });
    await a.close();
  });

  const login = (app: TestApp, email: string, password: string, from: string) =>
    app.request('POST', '/api/auth/login', {
      body: { email, password },
      headers: { 'x-forwarded-for': from },
    });

  it('after 10 failures from one address, that address waits for that account (across instances), before the password is checked', async () => {
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
    const victim = await a.newUser();
    for (let i = 0; i < 12; i++) {
      await login(a, victim.email, `Wrong${i}!x`, '203.0.113.66');
    }
    assert.equal((await login(a, victim.email, TEST_PASSWORD, '203.0.113.66')).status, 429);
    const owner = await login(b, victim.email, TEST_PASSWORD, '192.0.2.10');
    assert.equal(owner.status, 200, JSON.stringify(owner.body));
  });

  it('past the per-account ceiling, addresses that failed wait and every other gets one try; the right password still gets in', async () => {
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
