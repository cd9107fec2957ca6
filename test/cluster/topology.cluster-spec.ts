import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { auditGoods, waitForLogDrained, waitForWritten } from '../../src/booking/audit';
import { WRITERS_GROUP, bookingKeys } from '../../src/booking/booking.keys';
import { reconcile } from '../../src/booking/reconcile';
import { insertGoods, insertHost } from '../../src/database/fixtures';
import { TEST_JWT_SECRET } from '../support/app';
import { eventually, KEY_PREFIX, TestCluster } from '../support/cluster';
import {
  acceptedIds,
  Answer,
  assertOneBookingPerKey,
  bulkUsers,
  BulkUser,
  fire,
  postBooking,
  postBookingOrError,
  postBookingRetrying,
  rushAttempts,
  summarise,
} from '../support/load';
import { connect, next } from '../support/realtime';

const CONCURRENCY = 200;
const WAIT = { prefer: 'wait=10' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function goodsOf(c: TestCluster, seats: number): Promise<number> {
  const [goodsId] = await insertGoods(c.db, await insertHost(c.db), { bookingLimit: seats });
  return goodsId;
}

/** Every accepted booking written and settled, then the audit of PostgreSQL against Redis. */
async function audit(c: TestCluster, goodsId: number, answers: Answer[], seats: number) {
  const accepted = acceptedIds(answers);
  await waitForWritten(c.db, accepted, 60_000);
  await waitForLogDrained(c.redis, 30_000);
  const report = await auditGoods(c.db, c.redis, goodsId, accepted);
  const summary = summarise(answers);
  assert.deepEqual(report.problems, [], JSON.stringify(summary));
  assert.equal(report.confirmedQuantity, seats, JSON.stringify({ summary, report }));
  return summary;
}

/** HAProxy's own view of a server: UP, DOWN… (its stats page as CSV). */
async function haproxyState(c: TestCluster, server: string): Promise<string> {
  const csv = await (await fetch(`http://127.0.0.1:${c.ports.stats}/;csv`)).text();
  const row = csv.split('\n').find((line) => line.startsWith(`apis,${server},`));
  return row?.split(',')[17] ?? 'missing';
}

/** The API holding the most current connections in HAProxy's stats (scur). */
async function busiestApi(c: TestCluster): Promise<string> {
  const csv = await (await fetch(`http://127.0.0.1:${c.ports.stats}/;csv`)).text();
  const rows = csv
    .split('\n')
    .filter((line) => /^apis,api-\d,/.test(line))
    .map((line) => line.split(','))
    .sort((a, b) => Number(b[4]) - Number(a[4]));
  return rows[0][1];
}

const unavailable = TestCluster.unavailableSync();

describe(
  'the cluster: HAProxy, 3 APIs, 2 writers, PostgreSQL ×3 behind Pgpool-II, Redis',
  {
    skip: unavailable,
  },
  () => {
    let c: TestCluster;
    let users: BulkUser[];
    before(async () => {
      c = await TestCluster.up({}, ['--monitoring']);
      users = await bulkUsers(c.db, 2500, TEST_JWT_SECRET);
    });
    after(async () => {
      await c?.down();
    });

    it('status --json names every part with its role, pid, address and health', async () => {
      const parts = await c.status();
      const byName = new Map(parts.map((p) => [p.name, p]));
      for (const name of [
        'haproxy',
        'api-1',
        'api-2',
        'api-3',
        'writer-1',
        'writer-2',
        'pgpool',
        'redis',
      ]) {
        const part = byName.get(name);
        assert.ok(part?.healthy && part.pid, `${name}: ${JSON.stringify(part)}`);
      }
      assert.deepEqual(
        ['postgres-1', 'postgres-2', 'postgres-3'].map((n) => byName.get(n)?.role),
        ['primary', 'standby', 'standby'],
      );
      assert.ok(
        parts.every((p) => p.healthy),
        JSON.stringify(parts),
      );
      const { rows } = await c.db.query<{ sync_state: string }>(
        `SELECT sync_state FROM pg_stat_replication`,
      );
      assert.deepEqual(
        rows.map((r) => r.sync_state),
        ['quorum', 'quorum'],
        'both standbys are synchronous candidates (ANY 1)',
      );
    });

    it('Prometheus scrapes every API, writer, HAProxy and the PostgreSQL and Redis exporters', async () => {
      const prometheus = `http://127.0.0.1:${c.ports.prometheus}`;
      type Target = {
        labels: { job: string; instance: string };
        health: string;
        lastError: string;
      };
      let targets: Target[] = [];
      await eventually('every target is up', async () => {
        const body = (await (await fetch(`${prometheus}/api/v1/targets`)).json()) as {
          data: { activeTargets: Target[] };
        };
        targets = body.data.activeTargets;
        return targets.length > 0 && targets.every((t) => t.health === 'up');
      }).catch((error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify(targets)}`);
      });
      const jobs = targets.map((t) => t.labels.job).sort();
      assert.deepEqual(jobs, [
        'haproxy',
        'postgres',
        'postgres',
        'postgres',
        'redis',
        'ticketnest-api',
        'ticketnest-api',
        'ticketnest-api',
        'ticketnest-writer',
        'ticketnest-writer',
      ]);
      // Every instance's series carry its instance id.
      for (const [name, port] of [
        ['api-1', c.ports.apis[0]],
        ['writer-2', c.ports.writers[1]],
      ] as const) {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        assert.match(
          text,
          new RegExp(`process_cpu_seconds_total\\{instance_id="${name}"\\}`),
          name,
        );
      }
      assert.ok((await c.part('prometheus')).healthy);
    });

    it('a rush through HAProxy: 5,000 attempts on 1,000 seats → exactly 1,000, nobody twice, Redis = PostgreSQL', async () => {
      const goodsId = await goodsOf(c, 1000);
      const list = rushAttempts(users, 5000, `rush-${goodsId}`);
      const url = `${c.url}/api/goods/${goodsId}/bookings`;
      const started = Date.now();
      const answers = await fire(
        list.map((a) => () => postBooking(url, a.token, a.headers)),
        CONCURRENCY,
      );
      const took = Date.now() - started;
      assertOneBookingPerKey(list, answers);
      assert.ok(
        answers.every((a) => a.status < 500),
        JSON.stringify(summarise(answers)),
      );
      const summary = await audit(c, goodsId, answers, 1000);
      process.stderr.write(
        `cluster rush: 5000 attempts in ${took} ms (${Math.round(5_000_000 / took)}/s); ${JSON.stringify(summary)}\n`,
      );
    });

    it('an API SIGKILLed mid-rush: HAProxy takes it out, only requests in flight on it fail, nothing accepted is lost', async () => {
      const goodsId = await goodsOf(c, 1000);
      const list = rushAttempts(users, 5000, `rush-${goodsId}`);
      const url = `${c.url}/api/goods/${goodsId}/bookings`;
      let done = 0;
      let killedAt = -1;
      const answers = await fire(
        list.map((a) => async () => {
          const answer = await postBookingOrError(url, a.token, a.headers);
          done += 1;
          if (done === 1500) {
            killedAt = done;
            void c.kill('api-2');
          }
          return answer;
        }),
        CONCURRENCY,
      );
      assert.ok(killedAt > 0);
      // What a client may see for a request that was on api-2 when it died: a refused or reset
      // connection is retried by HAProxy on another instance; one already sent gets 502.
      const failed = answers.filter((a) => a.status === 0 || a.status === 502);
      const other5xx = answers.filter((a) => a.status >= 500 && a.status !== 502);
      assert.deepEqual(other5xx, [], JSON.stringify(summarise(answers)));
      assert.ok(
        failed.length <= CONCURRENCY,
        `${failed.length} failed: more than were in flight (${JSON.stringify(summarise(answers))})`,
      );
      assert.equal(await haproxyState(c, 'api-2'), 'DOWN');
      const summary = await audit(c, goodsId, answers, 1000);
      process.stderr.write(`cluster rush, api-2 killed: ${JSON.stringify(summary)}\n`);
      await c.start('api-2');
      await eventually(
        'HAProxy takes api-2 back',
        async () => (await haproxyState(c, 'api-2')) === 'UP',
      );
    });

    it('a writer SIGKILLed holding a batch: the other writer claims its entries', async () => {
      const goodsId = await goodsOf(c, 300);
      const victim = await c.part('writer-1');
      // The goods row locked: every writer's batch waits inside its transaction, so the victim
      // surely holds read-but-unacknowledged entries when it dies.
      const blocker = await c.db.connect();
      await blocker.query('BEGIN');
      await blocker.query('SELECT id FROM goods WHERE id = $1 FOR UPDATE', [goodsId]);
      let killedHolding = 0;
      const watcher = (async () => {
        for (let i = 0; i < 3000 && killedHolding === 0; i++) {
          const consumers = (await c.rawRedis
            .xinfo('CONSUMERS', `${KEY_PREFIX}${bookingKeys.log}`, WRITERS_GROUP)
            .catch(() => [])) as unknown[][];
          for (const entry of consumers) {
            const info = Object.fromEntries(
              Array.from({ length: entry.length / 2 }, (_, j) => [
                String(entry[2 * j]),
                entry[2 * j + 1],
              ]),
            );
            if (String(info.name).includes(`-${victim.pid}-`) && Number(info.pending) > 0) {
              killedHolding = Number(info.pending);
              await c.kill('writer-1');
            }
          }
          await sleep(5);
        }
      })().finally(async () => {
        await blocker.query('ROLLBACK').catch(() => undefined);
        blocker.release();
      });
      const list = rushAttempts(users.slice(0, 600), 600, `writer-${goodsId}`);
      const url = `${c.url}/api/goods/${goodsId}/bookings`;
      const answers = await fire(
        list.map((a) => () => postBooking(url, a.token, a.headers)),
        CONCURRENCY,
      );
      await watcher;
      assert.ok(killedHolding > 0, 'writer-1 was killed holding entries');
      assert.ok(
        answers.every((a) => a.status < 500),
        JSON.stringify(summarise(answers)),
      );
      const summary = await audit(c, goodsId, answers, 300);
      process.stderr.write(
        `cluster: writer-1 killed holding ${killedHolding}; ${JSON.stringify(summary)}\n`,
      );
      await c.start('writer-1');
    });

    it('a standby stopped: booking goes on (the other is synchronous); started again: it catches up', async () => {
      await c.stop('postgres-3');
      const goodsId = await goodsOf(c, 100);
      const url = `${c.url}/api/goods/${goodsId}/bookings`;
      const answers = await fire(
        users
          .slice(0, 100)
          .map((u) => () => postBookingRetrying(url, u.token, `standby-${goodsId}-${u.id}`, WAIT)),
        50,
      );
      assert.deepEqual(summarise(answers), { '201 CONFIRMED': 100 });
      await c.start('postgres-3');
      const standby = new (await import('pg')).default.Pool({
        connectionString: `postgres://postgres@127.0.0.1:${c.ports.postgres[2]}/ticketnest`,
        max: 1,
      });
      try {
        await eventually('postgres-3 has every booking made while it was stopped', async () => {
          const { rows } = await standby.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM bookings WHERE goods_id = $1 AND status = 'CONFIRMED'`,
            [goodsId],
          );
          return rows[0].n === 100;
        });
      } finally {
        await standby.end();
      }
      await eventually('postgres-3 streams and Pgpool-II uses it again', async () => {
        const { rows } = await c.db.query<{ node_id: string; status: string }>('SHOW pool_nodes');
        return (await c.part('postgres-3')).healthy && rows.every((r) => r.status === 'up');
      });
    });

    it('Socket.IO through HAProxy: booking events go on after the API the client was on is killed', async () => {
      const goodsId = await goodsOf(c, 10);
      const [user] = await bulkUsers(c.db, 1, TEST_JWT_SECRET);
      const socket = await connect(
        c.url,
        { token: user.token },
        {},
        {
          reconnection: true,
          reconnectionDelay: 200,
          reconnectionDelayMax: 1000,
        },
      );
      try {
        const url = `${c.url}/api/goods/${goodsId}/bookings`;
        const first = next<{ id: string; status: string }>(
          socket,
          'booking.status',
          (p) => p.status === 'CONFIRMED',
          10_000,
        );
        const booked = await postBooking(url, user.token, { 'idempotency-key': 'socket-1' });
        assert.equal((await first).id, booked.id);
        const holder = await busiestApi(c);
        const reconnected = new Promise<void>((resolve) =>
          socket.io.once('reconnect', () => resolve()),
        );
        await c.kill(holder);
        await reconnected;
        // A booking made now is heard on the new connection, from whichever instance wrote it.
        const secondGoods = await goodsOf(c, 10);
        const second = next<{ id: string; status: string }>(
          socket,
          'booking.status',
          (p) => p.status === 'CONFIRMED',
          10_000,
        );
        const again = await postBooking(`${c.url}/api/goods/${secondGoods}/bookings`, user.token);
        assert.equal((await second).id, again.id);
        await c.start(holder);
      } finally {
        socket.close();
      }
    });

    it('Redis restarted: the AOF brings back the booking state, and reconcile finds no drift', async () => {
      const goodsId = await goodsOf(c, 200);
      const url = `${c.url}/api/goods/${goodsId}/bookings`;
      const before = await fire(
        users
          .slice(0, 150)
          .map((u) => () => postBookingRetrying(url, u.token, `redis-${goodsId}-${u.id}`, WAIT)),
        50,
      );
      assert.deepEqual(summarise(before), { '201 CONFIRMED': 150 });
      await c.stop('redis');
      await c.start('redis');
      // Each instance's clients reconnect by themselves; until they have, booking is 503.
      await eventually('every API is ready again', async () => {
        const answers = await Promise.all(
          c.ports.apis.map((port) => fetch(`http://127.0.0.1:${port}/health/ready`)),
        );
        return answers.every((a) => a.ok);
      });
      const afterRestart = await fire(
        users
          .slice(150, 400)
          .map((u) => () => postBookingRetrying(url, u.token, `redis-${goodsId}-${u.id}`)),
        50,
      );
      assert.ok(
        afterRestart.every((a) => a.status < 500),
        JSON.stringify(summarise(afterRestart)),
      );
      await reconcile(c.db, c.redis);
      const summary = await audit(c, goodsId, [...before, ...afterRestart], 200);
      const { drift } = await reconcile(c.db, c.redis, { check: true });
      assert.deepEqual(drift, []);
      process.stderr.write(`cluster: redis restarted; ${JSON.stringify(summary)}\n`);
    });
  },
);
