import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import pg from 'pg';

import { auditGoods, waitForLogDrained, waitForWritten } from '../../src/booking/audit';
import { bookingKeys, WRITERS_GROUP } from '../../src/booking/booking.keys';
import { stockKeys } from '../../src/stock/stock.keys';
import { listDeadLetters, retryDeadLetters, dropDeadLetter } from '../../src/booking/dead-letters';
import { projectRoot } from '../../src/config/project-root';
import { createRedis } from '../../src/redis/redis.module';
import { Role } from '../../src/users/user.entity';
import { TEST_JWT_SECRET, TestApp } from '../support/app';
import { testEnv } from '../support/env';
import { Answer, bulkUsers, fire, postBooking } from '../support/load';
import { withoutInstance } from '../support/metrics';

const accepted = (answers: Answer[]) =>
  answers.filter((a) => a.status === 201 || a.status === 202).map((a) => a.id!);

/**
 * A metric's value in a /metrics text (0 when the series is absent). Counters live as long as
 * the process, across this file's apps: compare with a reading taken before.
 */
async function metric(t: TestApp, series: string): Promise<number> {
  const text = withoutInstance((await t.request('GET', '/metrics')).text);
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    assert.ok(Date.now() < deadline, `${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function bookingStatus(t: TestApp, token: string, id: string): Promise<any> {
  return (await t.request('GET', `/api/bookings/${id}`, { token })).body;
}

describe('a booking writer that poison entries cannot stall', () => {
  it('malformed entries interleaved with a concurrent rush: every real booking final within seconds, the garbage dead-lettered, the audit clean', async () => {
    const t = await TestApp.start({ BOOKING_RATE_LIMIT_PER_SECOND: '1000' });
    const redis = createRedis(testEnv('REDIS_URL'), t.redisPrefix);
    try {
      const host = await t.newUser(Role.Host);
      const goods = await t.newGoods(host, { bookingLimit: 300 });
      const users = await bulkUsers(t.db, 600, TEST_JWT_SECRET);
      const g = String(goods.id);
      const now = String(Date.now());
      const garbage: string[][] = [
        ['id', 'not-a-uuid', 'g', g, 'u', String(users[0].id), 'q', '1', 'k', '', 't', now],
        ['id', randomUUID(), 'g', g, 'u', 'x', 'q', '1', 'k', '', 't', now],
        ['id', randomUUID(), 'g', g, 'u', String(users[1].id), 'q', 'NaN', 'k', '', 't', now],
        // a newer writer's format: an unknown field
        [
          'id',
          randomUUID(),
          'g',
          g,
          'u',
          String(users[2].id),
          'q',
          '1',
          'k',
          '',
          't',
          now,
          'v',
          '2',
        ],
        ['junk', 'x'],
      ];
      const deadBefore = await metric(t, 'booking_dead_letters_total');
      const url = `${t.url}/api/goods/${goods.id}/bookings`;
      const rush = fire(
        users.map((u) => () => postBooking(url, u.token)),
        50,
      );
      for (const fields of garbage) {
        await new Promise((r) => setTimeout(r, 40));
        await redis.xadd(bookingKeys.log, '*', ...fields);
      }
      const answers = await rush;
      const ids = accepted(answers);
      assert.equal(ids.length, 300, JSON.stringify(answers.filter((a) => a.status >= 500)));
      const started = Date.now();
      await waitForWritten(t.db, ids, 10_000);
      await waitForLogDrained(redis, 10_000);
      const took = Date.now() - started;

      const dead = await listDeadLetters(redis);
      assert.equal(dead.length, garbage.length, JSON.stringify(dead));
      assert.deepEqual(
        dead.map((d) => d.fields),
        garbage,
      );
      assert.deepEqual(
        dead.map((d) => d.error.split(' ').slice(0, 3).join(' ')),
        ['id is not', 'user id (u)', 'quantity (q) is', 'unknown field(s) v', 'id is not'],
      );
      const audit = await auditGoods(t.db, redis, goods.id, ids);
      assert.deepEqual(audit.problems, []);
      assert.deepEqual(audit.statuses, { CONFIRMED: 300 });
      assert.equal(await metric(t, 'booking_dead_letters_total'), deadBefore + garbage.length);
      assert.equal((await t.request('GET', '/health/ready')).status, 200);
      process.stdout.write(
        `poison rush: 300 written and the log drained ${took} ms after the last answer\n`,
      );
    } finally {
      await redis.quit();
      await t.close();
    }
  });

  it('a batch that fails for good on one row: that booking ends REJECTED UNPROCESSABLE with its stock back, the others CONFIRMED; dead letters can be listed, retried and dropped', async () => {
    const t = await TestApp.start({
      BOOKING_RATE_LIMIT_PER_SECOND: '1000',
      WRITER_LINGER_MS: '50',
    });
    const redis = createRedis(testEnv('REDIS_URL'), t.redisPrefix);
    try {
      const host = await t.newUser(Role.Host);
      const goods = await t.newGoods(host, { bookingLimit: 50 });
      const users = await bulkUsers(t.db, 42, TEST_JWT_SECRET);
      const [quiet, waiting] = [users[10], users[30]];
      // A constraint nobody foresaw: these two users' confirmed rows are refused, every time.
      await t.db.query(`
        CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.status = 'CONFIRMED' AND NEW.user_id IN (${quiet.id}, ${waiting.id}) THEN
            RAISE EXCEPTION 'test: refuses user %', NEW.user_id;
          END IF;
          RETURN NEW;
        END $$`);
      await t.db.query(
        `CREATE TRIGGER test_refuse BEFORE INSERT ON bookings FOR EACH ROW EXECUTE FUNCTION test_refuse()`,
      );
      const finalBefore = await metric(t, 'booking_writer_batch_failures_total{kind="final"}');
      const unprocessableBefore = await metric(t, 'booking_outcomes_total{code="UNPROCESSABLE"}');
      const url = `${t.url}/api/goods/${goods.id}/bookings`;
      const answers = await fire(
        users.map((u) => () => postBooking(url, u.token, u === quiet ? {} : { prefer: 'wait=10' })),
        42,
      );
      const byUser = new Map(users.map((u, i) => [u.id, answers[i]]));
      assert.equal(byUser.get(waiting.id)!.status, 503);
      assert.equal(byUser.get(waiting.id)!.code, 'BOOKING_FAILED');
      assert.equal(byUser.get(quiet.id)!.status, 202);
      const others = users.filter((u) => u !== quiet && u !== waiting);
      assert.deepEqual(
        new Set(
          others.map((u) => `${byUser.get(u.id)!.status} ${byUser.get(u.id)!.bookingStatus}`),
        ),
        new Set(['201 CONFIRMED']),
      );
      const quietId = byUser.get(quiet.id)!.id!;
      await waitForLogDrained(redis, 10_000);
      assert.deepEqual(await bookingStatus(t, quiet.token, quietId), {
        id: quietId,
        status: 'REJECTED',
        reason: 'UNPROCESSABLE',
        goodsId: goods.id,
        quantity: 1,
        requestedAt: (await bookingStatus(t, quiet.token, quietId)).requestedAt,
      });
      // Their stock and their per-user count are back: 50 - 40 confirmed.
      assert.equal((await t.request('GET', `/api/goods/${goods.id}`)).body.remaining, 10);
      const held = await redis.hgetall(stockKeys.goodsUsers(goods.id));
      assert.equal(held[quiet.id], undefined);
      assert.equal(held[waiting.id], undefined);
      assert.ok(
        (await metric(t, 'booking_writer_batch_failures_total{kind="final"}')) >= finalBefore + 2,
      );
      assert.equal(
        await metric(t, 'booking_outcomes_total{code="UNPROCESSABLE"}'),
        unprocessableBefore + 2,
      );

      const dead = await listDeadLetters(redis);
      assert.equal(dead.length, 2);
      const letterOf = (userId: number) =>
        dead.find((d) => d.fields[d.fields.indexOf('u') + 1] === String(userId))!;
      assert.match(letterOf(quiet.id).error, /^P0001 test: refuses user \d+$/);
      assert.equal(letterOf(quiet.id).bookingId, quietId);
      assert.equal(letterOf(quiet.id).deliveries, 1);
      const { problems } = await auditGoods(t.db, redis, goods.id, accepted(answers));
      assert.deepEqual(problems, []);

      // The operator fixes the cause, retries one and drops the other.
      await t.db.query(`DROP TRIGGER test_refuse ON bookings`);
      const [retried] = await retryDeadLetters(t.db, redis, [letterOf(quiet.id).id]);
      assert.equal(retried.outcome, 'retried');
      await until('the retried booking confirmed', 10_000, async () =>
        (await bookingStatus(t, quiet.token, quietId)).status === 'CONFIRMED' ? true : undefined,
      );
      assert.equal(await dropDeadLetter(redis, letterOf(waiting.id).id), true);
      assert.equal(await dropDeadLetter(redis, letterOf(waiting.id).id), false);
      assert.deepEqual(await listDeadLetters(redis), []);
      assert.deepEqual(await retryDeadLetters(t.db, redis, [letterOf(quiet.id).id]), [
        { id: letterOf(quiet.id).id, outcome: 'missing' },
      ]);
      await waitForLogDrained(redis, 10_000);
      const after = await auditGoods(t.db, redis, goods.id, [...accepted(answers), quietId]);
      assert.deepEqual(after.problems, []);
      assert.equal(after.confirmedQuantity, 41);
    } finally {
      await redis.quit();
      await t.close();
    }
  });

  it('an entry delivered more than WRITER_MAX_DELIVERIES times (a crash loop) is dead-lettered untried; one under the cap is written', async () => {
    // Admission only: no writer reads these until the second app starts.
    const api = await TestApp.start({ APP_ROLE: 'api', BOOKING_RATE_LIMIT_PER_SECOND: '1000' });
    const redis = createRedis(testEnv('REDIS_URL'), api.redisPrefix);
    let writer: TestApp | undefined;
    try {
      const host = await api.newUser(Role.Host);
      const goods = await api.newGoods(host, { bookingLimit: 10 });
      const [looping, fine] = await Promise.all([api.newUser(), api.newUser()]);
      const url = `${api.url}/api/goods/${goods.id}/bookings`;
      const a = await postBooking(url, looping.token);
      const b = await postBooking(url, fine.token);
      assert.deepEqual([a.status, b.status], [202, 202]);
      // Writers that crashed with them: read, never acknowledged, claimed again.
      await redis.ensureGroup(bookingKeys.log, WRITERS_GROUP);
      const [[, entries]] = (await redis.xreadgroup(
        'GROUP',
        WRITERS_GROUP,
        'crashed-0',
        'STREAMS',
        bookingKeys.log,
        '>',
      )) as [string, [string, string[]][]][];
      assert.equal(entries.length, 2);
      const [entryA] = entries.map(([id]) => id);
      for (let i = 1; i < 3; i++) {
        await redis.xclaim(bookingKeys.log, WRITERS_GROUP, `crashed-${i}`, 0, entryA);
      }
      // A has been delivered 3 times, B once; the next claim is A's 4th delivery, B's 2nd.
      writer = await api.peer({ WRITER_MAX_DELIVERIES: '3', WRITER_CLAIM_IDLE: '200ms' });
      await waitForLogDrained(redis, 10_000);
      assert.equal((await bookingStatus(writer, looping.token, a.id!)).reason, 'UNPROCESSABLE');
      assert.equal((await bookingStatus(writer, fine.token, b.id!)).status, 'CONFIRMED');
      const dead = await listDeadLetters(redis);
      assert.deepEqual(
        dead.map((d) => [d.entry, d.bookingId, d.deliveries]),
        [[entryA, a.id, 4]],
      );
      assert.match(dead[0].error, /^delivered 4 times \(WRITER_MAX_DELIVERIES 3\)/);
      const { problems } = await auditGoods(writer.db, redis, goods.id, [a.id!, b.id!]);
      assert.deepEqual(problems, []);
    } finally {
      await redis.quit();
      await writer?.close({ purge: false });
      await api.close();
    }
  });

  it('readiness names the writer and goes 503 while it cannot commit, and 200 again after; nothing is dead-lettered', async () => {
    const t = await TestApp.start({ WRITER_STALL_AFTER: '1s' });
    const redis = createRedis(testEnv('REDIS_URL'), t.redisPrefix);
    const blocker = await t.db.connect();
    try {
      const host = await t.newUser(Role.Host);
      const goods = await t.newGoods(host, { bookingLimit: 10 });
      const user = await t.newUser();
      const ready = await t.request('GET', '/health/ready');
      assert.equal(ready.status, 200);
      assert.equal(ready.body.details.writer.status, 'up');
      await blocker.query('BEGIN');
      await blocker.query('SELECT id FROM goods WHERE id = $1 FOR UPDATE', [goods.id]);
      const booked = await postBooking(`${t.url}/api/goods/${goods.id}/bookings`, user.token);
      assert.equal(booked.status, 202);
      const stalled = await until('readiness 503', 5_000, async () => {
        const r = await t.request('GET', '/health/ready');
        return r.status === 503 ? r : undefined;
      });
      assert.equal(stalled.body.code, 'SERVICE_UNAVAILABLE');
      const writerLine = (stalled.body.details as string[]).find((d) =>
        d.startsWith('writer: down'),
      );
      assert.match(
        writerLine ?? '',
        /1 booking\(s\) wait; the oldest for \d+\.\d s \(WRITER_STALL_AFTER 1 s\)/,
      );
      assert.ok((await metric(t, 'booking_log_oldest_pending_seconds')) > 1);

      await blocker.query('ROLLBACK');
      await until('readiness 200 again', 5_000, async () =>
        (await t.request('GET', '/health/ready')).status === 200 ? true : undefined,
      );
      assert.equal((await bookingStatus(t, user.token, booked.id!)).status, 'CONFIRMED');
      assert.equal(await metric(t, 'booking_log_oldest_pending_seconds'), 0);
      assert.deepEqual(await listDeadLetters(redis), []);
    } finally {
      blocker.release();
      await redis.quit();
      await t.close();
    }
  });

  describe('PostgreSQL restarted mid-batch', () => {
    const services = createRequire(__filename)(
      join(projectRoot(), 'scripts', 'lib', 'services.mjs'),
    ) as {
      freePort(): Promise<number>;
      startPostgres(o: { dataDir: string; port: number; database: string }): Promise<{
        url: string;
        stop(): Promise<void>;
      }>;
    };
    const dir = mkdtempSync(join(tmpdir(), 'tn-pg-restart-'));
    let server: { url: string; stop(): Promise<void> } | undefined;
    after(async () => {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('retries the batch: nothing dead-lettered, nothing doubled, every booking CONFIRMED once', async () => {
      const port = await services.freePort();
      const start = () => services.startPostgres({ dataDir: dir, port, database: 'restart' });
      server = await start();
      const t = await TestApp.start({ DATABASE_URL: server.url, DATABASE_POOL_SIZE: '4' });
      const redis = createRedis(testEnv('REDIS_URL'), t.redisPrefix);
      try {
        const host = await t.newUser(Role.Host);
        const goods = await t.newGoods(host, { bookingLimit: 100 });
        const users = await Promise.all(Array.from({ length: 20 }, () => t.newUser()));
        const failures = (kind: string) =>
          metric(t, `booking_writer_batch_failures_total{kind="${kind}"}`);
        const [retryableBefore, finalBefore] = [
          await failures('retryable'),
          await failures('final'),
        ];
        // The batch waits inside its transaction on this lock when PostgreSQL goes down.
        const blocker = new pg.Client({ connectionString: server.url });
        blocker.on('error', () => undefined);
        await blocker.connect();
        await blocker.query('BEGIN');
        await blocker.query('SELECT id FROM goods WHERE id = $1 FOR UPDATE', [goods.id]);
        const url = `${t.url}/api/goods/${goods.id}/bookings`;
        const answers = await fire(
          users.map((u) => () => postBooking(url, u.token)),
          20,
        );
        const ids = accepted(answers);
        assert.equal(ids.length, 20);
        await until('the batch waiting on the lock', 5_000, async () => {
          const { rows } = await blocker.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'`,
          );
          return rows[0].n > 0 ? true : undefined;
        });
        await server.stop();
        await new Promise((r) => setTimeout(r, 500));
        server = await start();
        await waitForWritten(t.db, ids, 30_000);
        await waitForLogDrained(redis, 10_000);
        const { problems, statuses } = await auditGoods(t.db, redis, goods.id, ids);
        assert.deepEqual(problems, []);
        assert.deepEqual(statuses, { CONFIRMED: 20 });
        assert.deepEqual(await listDeadLetters(redis), []);
        assert.ok((await failures('retryable')) > retryableBefore);
        assert.equal(await failures('final'), finalBefore);
        await blocker.end().catch(() => undefined);
      } finally {
        await redis.quit();
        await t.close();
      }
    });
  });
});
