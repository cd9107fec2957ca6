import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, describe, it } from 'node:test';

import Redis from 'ioredis';
import pg from 'pg';

import { auditGoods, waitForLogDrained, waitForWritten } from '../../src/booking/audit';
import { WRITERS_GROUP, bookingKeys } from '../../src/booking/booking.keys';
import { createRedis } from '../../src/redis/redis.module';
import { Role } from '../../src/users/user.entity';
import { TEST_JWT_SECRET, TestApp } from '../support/app';
import { freshDatabaseUrl, freshRedisPrefix, testEnv } from '../support/env';
import {
  assertOneBookingPerKey,
  bulkUsers,
  fire,
  postBooking,
  rushAttempts,
  summarise,
} from '../support/load';
import { startMain } from '../support/main-process';
import { freePortSync } from '../support/ports';

const USERS = 1000;
const ATTEMPTS = 2000;
const SEATS = 300;
const CONCURRENCY = 200;

for (const strategy of ['redis', 'pg-lock'] as const) {
  describe(`on-sale rush, one process (${strategy})`, () => {
    it(`${ATTEMPTS} concurrent attempts from ${USERS} users on ${SEATS} seats → exactly ${SEATS} confirmed`, async () => {
      const t = await TestApp.start({ BOOKING_STRATEGY: strategy, DATABASE_POOL_SIZE: '20' });
      try {
        const host = await t.newUser(Role.Host);
        const goods = await t.newGoods(host, { bookingLimit: SEATS });
        const users = await bulkUsers(t.db, USERS, TEST_JWT_SECRET);
        const url = `${t.url}/api/goods/${goods.id}/bookings`;
        const list = rushAttempts(users, ATTEMPTS);
        const started = Date.now();
        const answers = await fire(
          list.map((a) => () => postBooking(url, a.token, a.headers)),
          CONCURRENCY,
        );
        const answered = Date.now();
        const summary = summarise(answers);
        assertOneBookingPerKey(list, answers);
        assert.ok(
          answers.every((a) => a.status < 500 || a.code === 'BOOKING_BUSY'),
          JSON.stringify(summary),
        );
        assert.ok(
          answers.every((a) => a.status < 300 || typeof a.code === 'string'),
          JSON.stringify(summary),
        );
        const accepted = answers
          .filter((a) => a.status === 201 || a.status === 202)
          .map((a) => a.id!);
        const written = await waitForWritten(t.db, accepted);
        process.stderr.write(
          `rush ${strategy}: ${ATTEMPTS} attempts in ${answered - started} ms (${Math.round((ATTEMPTS * 1000) / (answered - started))}/s), ` +
            `last write ${written - answered} ms after the last answer; ${JSON.stringify(summary)}\n`,
        );
        const report = await auditGoods(
          t.db,
          strategy === 'redis' ? t.app.get(RedisToken) : undefined,
          goods.id,
          accepted,
        );
        assert.deepEqual(report.problems, [], JSON.stringify(summary));
        assert.equal(report.confirmedQuantity, SEATS, JSON.stringify({ summary, report }));
        assert.ok((summary['409 SOLD_OUT'] ?? 0) > 0);
      } finally {
        await t.close();
      }
    });
  });
}

// The app's own Redis client, with the app's key prefix.
import { REDIS as RedisToken } from '../../src/redis/redis.module';
import { insertGoods, insertHost } from '../../src/database/fixtures';

/** A host of its own and a goods of `seats` on sale now, by SQL; the goods id. */
async function hostedGoods(db: pg.Pool, seats: number): Promise<number> {
  const [goodsId] = await insertGoods(db, await insertHost(db), { bookingLimit: seats });
  return goodsId;
}

describe('on-sale rush across processes: 2 API + 2 workers, one worker SIGKILLed mid-batch', () => {
  const children: ChildProcess[] = [];
  after(() => children.forEach((c) => c.kill('SIGKILL')));

  it('loses nothing, doubles nothing, and every accepted booking ends CONFIRMED or REJECTED', async () => {
    const databaseUrl = await freshDatabaseUrl();
    const prefix = freshRedisPrefix();
    const secret = 'rush-secret-rush-secret-rush-secret-0123';
    const ports = [freePortSync(), freePortSync()];
    const base = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl,
      REDIS_URL: testEnv('REDIS_URL'),
      REDIS_KEY_PREFIX: prefix,
      JWT_SECRET: secret,
      WRITER_BATCH_SIZE: '20',
      WRITER_CLAIM_IDLE: '1s',
      HOST: '127.0.0.1',
    };
    const start = async (env: Record<string, string>, ready: string) =>
      (await startMain({ ...base, ...env }, ready, children)).child;
    const apis = await Promise.all(
      ports.map((port) =>
        start({ APP_ROLE: 'api', PORT: String(port), LOG_LEVEL: 'info' }, 'listening on'),
      ),
    );
    const workers = await Promise.all(
      // Two writer loops per writer process (WRITER_CONCURRENCY): four consumers in all.
      [0, 1].map(() =>
        start({ APP_ROLE: 'writer', WRITER_CONCURRENCY: '2', LOG_LEVEL: 'info' }, 'writer running'),
      ),
    );
    assert.equal(apis.length, 2);

    const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    const redis = createRedis(testEnv('REDIS_URL'), prefix);
    const raw = new Redis(testEnv('REDIS_URL'));
    try {
      const goodsId = await hostedGoods(db, SEATS);
      const users = await bulkUsers(db, USERS, secret);
      const list = rushAttempts(users, ATTEMPTS);

      // Kill one worker the moment it holds read-but-unacknowledged entries. The goods row is
      // locked until then, so every writer loop's batch waits inside its transaction and the
      // victim surely holds some (under load the other writer could take every batch).
      const victim = workers[0];
      let killedWithPending = 0;
      const blocker = await db.connect();
      await blocker.query('BEGIN');
      await blocker.query('SELECT id FROM goods WHERE id = $1 FOR UPDATE', [goodsId]);
      const release = async () => {
        await blocker.query('ROLLBACK').catch(() => undefined);
        blocker.release();
      };
      const watcher = (async () => {
        for (let i = 0; i < 4000 && victim.exitCode === null; i++) {
          const consumers = (await raw
            .xinfo('CONSUMERS', `${prefix}${bookingKeys.log}`, WRITERS_GROUP)
            .catch(() => [])) as unknown[][];
          for (const c of consumers) {
            const info: Record<string, unknown> = {};
            for (let j = 0; j < c.length; j += 2) {
              info[String(c[j])] = c[j + 1];
            }
            if (String(info.name).includes(`-${victim.pid}-`) && Number(info.pending) > 0) {
              killedWithPending = Number(info.pending);
              victim.kill('SIGKILL');
              return;
            }
          }
          await new Promise((r) => setTimeout(r, 2));
        }
      })().finally(release);
      const answers = await fire(
        list.map(
          (a, i) => () =>
            postBooking(
              `http://127.0.0.1:${ports[i % 2]}/api/goods/${goodsId}/bookings`,
              a.token,
              a.headers,
            ),
        ),
        CONCURRENCY,
      );
      await watcher;
      const summary = summarise(answers);
      process.stderr.write(
        `rush 2 API + 2 workers: killed a worker holding ${killedWithPending} entries; ${JSON.stringify(summary)}\n`,
      );
      assert.ok(
        killedWithPending > 0,
        `the worker was killed holding unacknowledged entries (${JSON.stringify(summary)})`,
      );
      assert.ok(
        answers.every((a) => a.status < 500),
        JSON.stringify(summary),
      );
      const accepted = answers
        .filter((a) => a.status === 201 || a.status === 202)
        .map((a) => a.id!);
      await waitForWritten(db, accepted, 60_000);
      // Written is not settled: when the victim died between its commit and its acknowledgement,
      // its entries wait WRITER_CLAIM_IDLE (1 s) and a claim pass (every second) before another
      // worker settles them. Wait for the log to drain, as the bench does, then audit.
      // Drained means settled too: outcomes and the entries' removal are one script.
      await waitForLogDrained(redis, 15_000);
      const report = await auditGoods(db, redis, goodsId, accepted);
      assert.deepEqual(report.problems, [], JSON.stringify({ summary, killedWithPending }));
      assert.equal(report.confirmedQuantity, SEATS, JSON.stringify({ summary, report }));
      assertOneBookingPerKey(list, answers);
    } finally {
      await db.end();
      await redis.quit();
      raw.disconnect();
    }
  });
});

describe('single node, writer in its thread (APP_ROLE=all, the default): rush, metrics, stop mid-write, restart', () => {
  const children: ChildProcess[] = [];
  after(() => children.forEach((c) => c.kill('SIGKILL')));

  it('writes every accepted booking once, reports both threads in one /metrics, and loses nothing to a SIGTERM', async () => {
    const databaseUrl = await freshDatabaseUrl();
    const prefix = freshRedisPrefix();
    const secret = 'thread-secret-thread-secret-thread-0123';
    const port = freePortSync();
    const env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: databaseUrl,
      REDIS_URL: testEnv('REDIS_URL'),
      REDIS_KEY_PREFIX: prefix,
      JWT_SECRET: secret,
      WRITER_BATCH_SIZE: '20',
      PORT: String(port),
      HOST: '127.0.0.1',
    };
    const start = () => startMain(env, 'listening on', children);
    const url = (goodsId: number) => `http://127.0.0.1:${port}/api/goods/${goodsId}/bookings`;

    const first = await start();
    assert.match(first.out(), /writer running \(thread\)/);
    const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    const redis = createRedis(testEnv('REDIS_URL'), prefix);
    try {
      const users = await bulkUsers(db, USERS, secret);

      // 1. A rush on one goods: the thread writes it all, the API thread answers.
      const goodsId = await hostedGoods(db, SEATS);
      const list = rushAttempts(users, ATTEMPTS);
      const answers = await fire(
        list.map((a) => () => postBooking(url(goodsId), a.token, a.headers)),
        CONCURRENCY,
      );
      const summary = summarise(answers);
      assert.ok(
        answers.every((a) => a.status < 500),
        JSON.stringify(summary),
      );
      const accepted = answers
        .filter((a) => a.status === 201 || a.status === 202)
        .map((a) => a.id!);
      // Replays of an Idempotency-Key answer the first request's id: admitted once.
      const admitted = new Set(accepted).size;
      await waitForWritten(db, accepted, 60_000);
      await waitForLogDrained(redis, 15_000);
      const report = await auditGoods(db, redis, goodsId, accepted);
      assert.deepEqual(report.problems, [], JSON.stringify(summary));
      assert.equal(report.confirmedQuantity, SEATS, JSON.stringify({ summary, report }));
      assertOneBookingPerKey(list, answers);

      // 2. One /metrics for both threads: ADMITTED counted by the API thread, CONFIRMED and the
      // commit lag by the writer thread, in one family each.
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const value = (line: RegExp) => Number(line.exec(metrics)?.[1]);
      assert.equal(metrics.match(/^# TYPE booking_outcomes_total /gm)?.length, 1, metrics);
      // One series each, labelled with this process's instance id (both threads share it).
      assert.equal(
        value(/^booking_outcomes_total\{code="ADMITTED",instance_id="[^"]+"\} (\d+)$/m),
        admitted,
      );
      assert.equal(
        value(/^booking_outcomes_total\{code="CONFIRMED",instance_id="[^"]+"\} (\d+)$/m),
        SEATS,
      );
      assert.equal(
        value(/^booking_admission_to_decision_seconds_count\{instance_id="[^"]+"\} (\d+)$/m),
        admitted,
      );
      assert.equal(
        metrics.match(/^booking_admission_to_decision_seconds_count/gm)?.length,
        1,
        metrics,
      );
      assert.match(metrics, /^process_cpu_user_seconds_total\{instance_id="[^"]+"\} /m);
      assert.match(metrics, /^http_request_duration_seconds_bucket\{/m);

      // 3. A second rush while the writer's batch waits on a lock of the goods row, and SIGTERM
      // then: the stop waits for that batch (the lock goes 300 ms later), the process exits,
      // and the restarted writer writes what was left in the log.
      const second = await hostedGoods(db, SEATS);
      const blocker = await db.connect();
      await blocker.query('BEGIN');
      await blocker.query('SELECT id FROM goods WHERE id = $1 FOR UPDATE', [second]);
      const secondAnswers = await fire(
        users.map((u) => () => postBooking(url(second), u.token, {})),
        CONCURRENCY,
      );
      const pendingAtStop = await redis.xlen(bookingKeys.log);
      assert.ok(pendingAtStop > 0, 'the stop comes while the writer still has entries to write');
      const exited = new Promise<string>((resolve) =>
        first.child.once('exit', (code, signal) => resolve(`${code ?? signal}`)),
      );
      first.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      await blocker.query('COMMIT');
      blocker.release();
      // Nest re-raises the signal once its shutdown hooks (the writer thread's stop) are done.
      assert.match(await exited, /^(0|SIGTERM)$/, first.out());
      const secondAccepted = secondAnswers.filter((a) => a.status === 202).map((a) => a.id!);
      assert.equal(secondAccepted.length, SEATS, JSON.stringify(summarise(secondAnswers)));
      await start();
      await waitForWritten(db, secondAccepted, 60_000);
      await waitForLogDrained(redis, 15_000);
      const secondReport = await auditGoods(db, redis, second, secondAccepted);
      assert.deepEqual(secondReport.problems, [], `log held ${pendingAtStop} at the stop`);
      assert.equal(secondReport.confirmedQuantity, SEATS);
      process.stderr.write(
        `writer thread: ${JSON.stringify(summary)}; the stop found ${pendingAtStop} entries in the log\n`,
      );
    } finally {
      await db.end();
      await redis.quit();
    }
  });
});
