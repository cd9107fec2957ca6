import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import Redis from 'ioredis';

import { auditGoods, waitForWritten } from '../../src/booking/audit';
import { reconcile } from '../../src/booking/reconcile';
import { createRedis } from '../../src/redis/redis.module';
import { Role } from '../../src/users/user.entity';
import { TEST_JWT_SECRET, TestApp } from '../support/app';
import { acceptedIds, Answer, bulkUsers, fire, postBooking, summarise } from '../support/load';
import { freePortSync } from '../support/ports';

/** The project's own kind of Redis: AOF on, data in a folder we can restart it from. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--save',
      '',
    ],
    {
      stdio: 'ignore',
    },
  );
  const probe = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  for (let i = 0; i < 100; i++) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('redis-server did not start');
}

describe('Redis outage and restart mid-rush', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tn-redis-'));
  const port = freePortSync();
  let redisProcess: ChildProcess | undefined;
  after(() => {
    redisProcess?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 BOOKING_UNAVAILABLE quickly while Redis is down, loses nothing accepted, and reconciles without drift', async () => {
    redisProcess = await startRedis(port, dir);
    const t = await TestApp.start({
      REDIS_URL: `redis://127.0.0.1:${port}`,
      BOOKING_RATE_LIMIT_PER_SECOND: '1000',
    });
    try {
      const host = await t.newUser(Role.Host);
      const goods = await t.newGoods(host, { bookingLimit: 500 });
      const users = await bulkUsers(t.db, 600, TEST_JWT_SECRET);
      const url = `${t.url}/api/goods/${goods.id}/bookings`;
      const jobs = users.map((u) => () => postBooking(url, u.token));
      const firstHalf = await fire(jobs.slice(0, 300), 50);

      // Stop Redis (SHUTDOWN writes the AOF), and look at the service while it is away.
      const exited = new Promise((r) => redisProcess!.once('exit', r));
      const admin = new Redis(port, '127.0.0.1');
      admin.on('error', () => undefined);
      await admin.shutdown().catch(() => undefined);
      admin.disconnect();
      await exited;
      const started = Date.now();
      const during = await postBooking(url, users[300].token);
      const took = Date.now() - started;
      assert.equal(during.status, 503);
      assert.equal(during.code, 'BOOKING_UNAVAILABLE');
      assert.ok(took < 2000, `answered in ${took} ms`);
      assert.equal((await t.request('GET', '/health/ready')).status, 503);

      redisProcess = await startRedis(port, dir);
      // Bookings answer 503 until the service has reconnected; it says when by readiness.
      for (let i = 0; (await t.request('GET', '/health/ready')).status !== 200; i++) {
        assert.ok(i < 100, 'not ready again 10 s after Redis came back');
        await new Promise((r) => setTimeout(r, 100));
      }
      const secondHalf = await fire(jobs.slice(301), 50);
      const answers: Answer[] = [...firstHalf, during, ...secondHalf];
      assert.ok(
        answers.every((a) => a.status < 500 || a.code === 'BOOKING_UNAVAILABLE'),
        JSON.stringify(answers.filter((a) => a.status >= 500)),
      );
      const accepted = answers
        .filter((a) => a.status === 201 || a.status === 202)
        .map((a) => a.id!);
      assert.ok(accepted.length >= 500, `${accepted.length} accepted`);
      await waitForWritten(t.db, accepted, 30_000);
      await new Promise((r) => setTimeout(r, 300));
      const confirmed = await t.db.query(
        `SELECT count(*)::int AS n FROM bookings WHERE goods_id = $1 AND status = 'CONFIRMED'`,
        [goods.id],
      );
      assert.equal(confirmed.rows[0].n, 500);
      const redis = createRedis(`redis://127.0.0.1:${port}`, t.redisPrefix);
      try {
        const { drift } = await reconcile(t.db, redis, { check: true });
        assert.deepEqual(drift, []);
      } finally {
        await redis.quit();
      }
    } finally {
      await t.close({ purge: false });
    }
  });
});

describe('Redis frozen mid-rush (it accepts connections and never answers)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tn-redis-frozen-'));
  const port = freePortSync();
  let redisProcess: ChildProcess | undefined;
  after(() => {
    redisProcess?.kill('SIGCONT');
    redisProcess?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 within REDIS_COMMAND_TIMEOUT_MS, and admits none of those when Redis wakes and runs what it held', async () => {
    const timeoutMs = 1000;
    redisProcess = await startRedis(port, dir);
    const t = await TestApp.start({
      REDIS_URL: `redis://127.0.0.1:${port}`,
      BOOKING_RATE_LIMIT_PER_SECOND: '1000',
      REDIS_COMMAND_TIMEOUT_MS: String(timeoutMs),
    });
    try {
      const host = await t.newUser(Role.Host);
      // Two each: a 503 that was admitted all the same would give a retrying user a second.
      const goods = await t.newGoods(host, { bookingLimit: 1000, maxPerUser: 2 });
      const users = await bulkUsers(t.db, 200, TEST_JWT_SECRET);
      const url = `${t.url}/api/goods/${goods.id}/bookings`;
      const book = (token: string) => () => postBooking(url, token);
      const before = await fire(
        users.map((u) => book(u.token)),
        50,
      );
      assert.deepEqual(
        summarise(before),
        { '202 PENDING': 200 },
        JSON.stringify(summarise(before)),
      );

      // SIGSTOP: the kernel still accepts connections and takes in what is sent; Redis runs it
      // all when it is continued. Each user asks for a second ticket meanwhile.
      redisProcess.kill('SIGSTOP');
      const started = Date.now();
      const timed = async (job: () => Promise<Answer>) => {
        const at = Date.now();
        return { answer: await job(), ms: Date.now() - at };
      };
      const frozen = await fire(
        users.map((u) => () => timed(book(u.token))),
        100,
      );
      const slowest = Math.max(...frozen.map((f) => f.ms));
      assert.deepEqual(summarise(frozen.map((f) => f.answer)), { '503 BOOKING_UNAVAILABLE': 200 });
      assert.ok(slowest < timeoutMs + 1500, `the slowest answer took ${slowest} ms`);
      // Once one admission has gone unanswered, the next are told at once.
      const next = await timed(book(users[0].token));
      assert.equal(next.answer.status, 503);
      assert.ok(next.ms < 200, `a booking after the first timeout took ${next.ms} ms`);
      assert.equal((await t.request('GET', '/health/ready')).status, 503);
      // The operations page still answers, in time, and says the writer cannot be seen (L2:
      // it answered 500 after two command timeouts in a row).
      const admin = await t.newUser(Role.Admin);
      const asked = Date.now();
      const ops = await t.request('GET', '/api/admin/metrics', { token: admin.token });
      const opsMs = Date.now() - asked;
      assert.equal(ops.status, 200, ops.text);
      assert.equal(ops.body.writerHealthy, false, ops.text);
      assert.ok(opsMs < timeoutMs + 1000, `the operations summary took ${opsMs} ms`);
      // An instance started now starts (it used to wait for ever), live but not ready.
      const startedAt = Date.now();
      const late = await t.peer({
        APP_ROLE: 'api',
        REDIS_URL: `redis://127.0.0.1:${port}`,
        REDIS_COMMAND_TIMEOUT_MS: String(timeoutMs),
      });
      try {
        const took = Date.now() - startedAt;
        assert.ok(took < 5 * timeoutMs + 2000, `an instance took ${took} ms to start`);
        assert.equal((await late.request('GET', '/health/live')).status, 200);
        assert.equal((await late.request('GET', '/health/ready')).status, 503);
      } finally {
        await late.close({ purge: false });
      }
      // Long enough for every deadline to pass while Redis holds the calls.
      await new Promise((r) =>
        setTimeout(r, Math.max(0, timeoutMs + 500 - (Date.now() - started))),
      );

      redisProcess.kill('SIGCONT');
      let resumed: Answer | undefined;
      for (let i = 0; resumed === undefined || resumed.status === 503; i++) {
        assert.ok(i < 100, 'booking not back 10 s after Redis woke');
        await new Promise((r) => setTimeout(r, 100));
        resumed = await postBooking(url, users[0].token);
      }
      // LIMIT_EXCEEDED here: a call Redis held was admitted, behind the 503 its user was told.
      assert.equal(resumed.status, 202, JSON.stringify(resumed));
      const accepted = [...acceptedIds(before), resumed.id!];
      await waitForWritten(t.db, accepted, 30_000);
      const mine = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM bookings WHERE goods_id = $1`,
        [goods.id],
      );
      // The 200 before, the one after: none of the 201 told 503 (the held calls ran, late).
      assert.equal(mine.rows[0].n, 201);
      const redis = createRedis(`redis://127.0.0.1:${port}`, t.redisPrefix);
      try {
        const audit = await auditGoods(t.db, redis, goods.id, accepted);
        assert.deepEqual(audit.problems, []);
      } finally {
        await redis.quit();
      }
    } finally {
      await t.close({ purge: false });
    }
  });
});
