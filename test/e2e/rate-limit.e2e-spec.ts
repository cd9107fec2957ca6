import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { TestApp } from '../support/app';

describe('rate limits shared through Redis', () => {
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    // Two API instances on one database and one Redis prefix: limits must be shared.
    const limits = {
      LOGIN_MAX_FAILURES: '10',
      LOGIN_MAX_FAILURES_PER_IP: '25',
      LOGIN_FAILURE_WINDOW: '15m',
    };
    a = await TestApp.start(limits);
    b = await TestApp.start({
      ...limits,
      DATABASE_URL: a.databaseUrl,
      REDIS_KEY_PREFIX: a.redisPrefix,
    });
  });
  after(async () => {
    await b.close({ purge: false });
    await a.close();
  });

  it('locks an account after 10 failures across instances, before checking the password', async () => {
    const user = await a.newUser();
    for (let i = 0; i < 10; i++) {
      const app = i % 2 === 0 ? a : b;
      const reply = await app.request('POST', '/api/auth/login', {
        body: { email: user.email, password: `Wrong${i}!x` },
      });
      assert.equal(reply.status, 401, `attempt ${i}`);
    }
    const locked = await b.request('POST', '/api/auth/login', {
      body: { email: user.email, password: 'Passw0rd!' },
    });
    assert.equal(locked.status, 429, 'even the right password waits');
    assert.equal(locked.body.code, 'RATE_LIMITED');
    const retryAfter = Number(locked.headers.get('retry-after'));
    assert.ok(retryAfter > 800 && retryAfter <= 900, `Retry-After ${retryAfter}`);
  });

  it('limits failures per client address across many accounts (credential stuffing)', async () => {
    let limited = 0;
    for (let i = 0; i < 20; i++) {
      const reply = await a.request('POST', '/api/auth/login', {
        body: { email: `victim${i}@example.com`, password: 'Guess123!' },
      });
      if (reply.status === 429) {
        limited++;
        assert.ok(reply.headers.get('retry-after'));
      } else {
        assert.equal(reply.status, 401);
      }
    }
    // 10 failures above + 15 here reach the address limit of 25.
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
