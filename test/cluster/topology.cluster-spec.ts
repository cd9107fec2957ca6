import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect as connectTcp, Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import Redis from 'ioredis';
import pg from 'pg';

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
  signToken,
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

/** The local addresses (`ss -ltn`) of the sockets listening on the cluster's ports. */
function listenersOn(c: TestCluster): string[] {
  const ports = new Set(
    Object.values(c.ports)
      .flat()
      .map((p) => Number(p)),
  );
  return execFileSync('ss', ['-ltnH'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[3])
    .filter((local): local is string => Boolean(local))
    .filter((local) => ports.has(Number(local.slice(local.lastIndexOf(':') + 1))));
}

/**
 * Where the cluster's secrets show up on this machine: any process's command line or
 * environment (none may). Checks on the way that each secret file is mode 600 in a directory
 * of mode 700.
 */
function secretsInProcesses(dir: string): string[] {
  const secretsDir = join(dir, 'secrets');
  assert.equal(statSync(secretsDir).mode & 0o777, 0o700);
  const secrets = readdirSync(secretsDir).map((name) => {
    assert.equal(statSync(join(secretsDir, name)).mode & 0o777, 0o600, name);
    return { name, value: readFileSync(join(secretsDir, name), 'utf8').trim() };
  });
  const leaks: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    for (const what of ['cmdline', 'environ']) {
      let text: string;
      try {
        text = readFileSync(`/proc/${pid}/${what}`, 'latin1');
      } catch {
        continue; // gone, or not ours to read
      }
      for (const { name, value } of secrets) {
        if (value.length >= 16 && text.includes(value)) {
          leaks.push(`${name} in /proc/${pid}/${what}`);
        }
      }
    }
  }
  return leaks;
}

/** HAProxy's stats of each API server (its stats page as CSV), by column name. */
async function haproxyServers(c: TestCluster): Promise<Record<string, string>[]> {
  const csv = await (
    await fetch(`http://127.0.0.1:${c.ports.stats}/;csv`, { headers: c.statsHeaders() })
  ).text();
  const [head, ...lines] = csv.split('\n');
  const columns = head.replace(/^# /, '').split(',');
  return lines
    .filter((line) => /^apis,api-\d,/.test(line))
    .map((line) => {
      const cells = line.split(',');
      return Object.fromEntries(columns.map((name, i) => [name, cells[i]]));
    });
}

/** HAProxy's own view of a server: UP, DOWN… */
async function haproxyState(c: TestCluster, server: string): Promise<string> {
  return (await haproxyServers(c)).find((s) => s.svname === server)?.status ?? 'missing';
}

/** The API holding the most current connections in HAProxy's stats (scur). */
async function busiestApi(c: TestCluster): Promise<string> {
  const servers = await haproxyServers(c);
  return servers.sort((a, b) => Number(b.scur) - Number(a.scur))[0].svname;
}

/** One booking per user, 50 at a time, each with its own key (resent once on a lost connection). */
function bookEach(
  url: string,
  list: BulkUser[],
  keyPrefix: string,
  headers?: Record<string, string>,
): Promise<Answer[]> {
  return fire(
    list.map((u) => () => postBookingRetrying(url, u.token, `${keyPrefix}-${u.id}`, headers)),
    50,
  );
}

/**
 * `request` written on `socket`, and the whole answer (headers and a Content-Length body) as
 * it arrives; rejected if the socket is closed, closes first, or nothing comes within 5 s.
 */
function answerOn(socket: Socket, request: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    if (socket.destroyed) {
      reject(new Error('the connection was closed while idle'));
      return;
    }
    let received = '';
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData).off('close', onClose).off('error', done);
      if (error) {
        reject(error);
      } else {
        resolve(received);
      }
    };
    const onData = (chunk: Buffer) => {
      received += chunk.toString();
      const end = received.indexOf('\r\n\r\n');
      const length = Number(/^content-length: *(\d+)/im.exec(received)?.[1] ?? NaN);
      if (end >= 0 && received.length >= end + 4 + length) {
        done();
      }
    };
    const onClose = () =>
      done(new Error(`the connection closed unanswered (${received.length} bytes)`));
    const timer = setTimeout(() => done(new Error('no answer within 5 s')), 5000);
    socket.on('data', onData).on('close', onClose).on('error', done);
    socket.write(request);
  });
}

/** The alerts Prometheus holds now (pending or firing), by name. */
async function alertsOf(c: TestCluster): Promise<Map<string, string>> {
  const body = (await (
    await fetch(`http://127.0.0.1:${c.ports.prometheus}/api/v1/alerts`)
  ).json()) as { data: { alerts: { labels: { alertname: string }; state: string }[] } };
  return new Map(body.data.alerts.map((a) => [a.labels.alertname, a.state]));
}

/** database_catalogue_reads_total by `served`, summed over the APIs (each asked directly). */
async function catalogueReads(c: TestCluster): Promise<Record<string, number>> {
  const sums: Record<string, number> = {};
  for (const port of c.ports.apis) {
    const text = await (
      await fetch(`http://127.0.0.1:${port}/metrics`, { headers: c.metricsHeaders() })
    ).text();
    for (const [, served, n] of text.matchAll(
      /^database_catalogue_reads_total\{served="(\w+)"[^}]*\} (\d+)/gm,
    )) {
      sums[served] = (sums[served] ?? 0) + Number(n);
    }
  }
  return sums;
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
      // The M1 test counts failed logins per address through HAProxy; the account-wide delay
      // (test/e2e/rate-limit.e2e-spec.ts) would answer its later attempts first.
      c = await TestCluster.up({ LOGIN_DELAY_AFTER: '1000' }, ['--monitoring']);
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
        'supervisor',
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
        const text = await (
          await fetch(`http://127.0.0.1:${port}/metrics`, { headers: c.metricsHeaders() })
        ).text();
        assert.match(
          text,
          new RegExp(`process_cpu_seconds_total\\{instance_id="${name}"\\}`),
          name,
        );
      }
      assert.ok((await c.part('prometheus')).healthy);
      const rules = (await (await fetch(`${prometheus}/api/v1/rules`)).json()) as {
        data: { groups: { name: string; rules: { name: string; health: string }[] }[] };
      };
      const group = rules.data.groups.find((g) => g.name === 'ticketnest');
      assert.ok(group && group.rules.length >= 10, JSON.stringify(rules.data.groups));
      assert.ok(
        group.rules.every((r) => r.health !== 'err'),
        JSON.stringify(group.rules),
      );
      let raised: string[] = [];
      await eventually('a healthy cluster settles to no alert', async () => {
        raised = [...(await alertsOf(c)).keys()];
        return raised.length === 0;
      }).catch((error: Error) => {
        throw new Error(`${error.message}: ${raised.join(', ')}`);
      });
    });

    it("HAProxy's public side answers /metrics as an unknown route; each instance still serves it", async () => {
      // Spelled with escapes too: the API's router decodes them (issue 23, M2).
      for (const path of ['/metrics', '/metrics/', '/metrics?x=1', '/%6detrics', '/%6D%65trics']) {
        const reply = await fetch(`${c.url}${path}`);
        assert.equal(reply.status, 404, path);
        assert.equal(((await reply.json()) as { code: string }).code, 'ROUTE_NOT_FOUND');
      }
      // …with the token Prometheus has (M3: the cluster always makes one).
      const direct = `http://127.0.0.1:${c.ports.apis[0]}/metrics`;
      assert.equal((await fetch(direct)).status, 401);
      assert.equal((await fetch(direct, { headers: c.metricsHeaders() })).status, 200);
    });

    it('a client cannot choose its address: HAProxy overwrites X-Forwarded-For, the APIs trust only HAProxy (M1)', async () => {
      const email = `xff-${Date.now()}@example.com`;
      const password = 'quiet river stone';
      const post = (path: string, body: unknown, from?: string) =>
        fetch(`${c.url}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(from ? { 'x-forwarded-for': from } : {}),
          },
          body: JSON.stringify(body),
        });
      const signup = await post('/api/auth/signup', {
        email,
        password,
        confirm: password,
        nickname: `xff${Date.now() % 1_000_000}`,
      });
      assert.equal(signup.status, 201, await signup.text());
      // Ten wrong passwords, each claiming another address: one client all the same.
      for (let i = 0; i < 10; i++) {
        const reply = await post(
          '/api/auth/login',
          { email, password: `wrong ${i}` },
          `203.0.113.${i}`,
        );
        assert.equal(reply.status, 401, `attempt ${i}`);
      }
      const locked = await post('/api/auth/login', { email, password }, '203.0.113.250');
      assert.equal(locked.status, 429, 'a new claimed address bought another guess');
    });

    it('the data stores admit no one without a password, and the services with least privilege (M3)', async () => {
      // PostgreSQL and Pgpool-II: SCRAM-SHA-256 on every network connection.
      for (const port of [c.ports.pgpool, ...c.ports.postgres]) {
        for (const user of ['postgres', 'repmgr', 'ticketnest_app']) {
          const client = new pg.Client({
            connectionString: `postgres://${user}:not-the-password@127.0.0.1:${port}/ticketnest`,
            connectionTimeoutMillis: 5000,
          });
          client.on('error', () => undefined);
          await assert.rejects(client.connect(), /authentication failed/, `${user}@${port}`);
          await client.end().catch(() => undefined);
        }
      }
      // The services' role reads and writes rows; the schema is the owner's (migrations).
      const app = new pg.Client({ connectionString: c.connections.app });
      await app.connect();
      try {
        await app.query('SELECT count(*) FROM bookings');
        for (const sql of [
          'CREATE TABLE intruder (id int)',
          'DROP TABLE bookings',
          'ALTER TABLE bookings ADD COLUMN note text',
          'TRUNCATE bookings',
          'CREATE ROLE intruder LOGIN',
          "COPY bookings TO '/tmp/bookings'",
        ]) {
          await assert.rejects(app.query(sql), { code: '42501' }, sql);
        }
      } finally {
        await app.end();
      }

      // Redis: nobody anonymous; the service without administration; no one rewrites where
      // Redis writes files.
      const anonymous = new Redis({
        port: c.ports.redis,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
      });
      anonymous.on('error', () => undefined);
      await assert.rejects(anonymous.ping(), /NOAUTH/);
      anonymous.disconnect();
      const service = new Redis(c.connections.redisApp);
      try {
        assert.equal(await service.set(`${KEY_PREFIX}m3-probe`, '1'), 'OK');
        await assert.rejects(service.config('SET', 'dir', '/tmp'), /NOPERM/);
        await assert.rejects(service.flushall(), /NOPERM/);
        await assert.rejects(service.keys('*'), /NOPERM/);
        await assert.rejects(
          service.call('ACL', 'SETUSER', 'intruder', 'on', '>x', '+@all'),
          /NOPERM/,
        );
      } finally {
        service.disconnect();
      }
      await assert.rejects(c.rawRedis.config('SET', 'dir', '/tmp'), /protected config/);

      // HAProxy's stats page and exporter: the stats user only.
      const stats = `http://127.0.0.1:${c.ports.stats}`;
      for (const path of ['/', '/;csv', '/metrics']) {
        assert.equal((await fetch(`${stats}${path}`)).status, 401, path);
        assert.equal(
          (await fetch(`${stats}${path}`, { headers: c.statsHeaders() })).status,
          200,
          path,
        );
      }

      // Every port of the cluster listens on loopback only.
      const listening = listenersOn(c);
      assert.ok(listening.length >= 15, JSON.stringify(listening));
      for (const local of listening) {
        assert.match(local, /^127\.0\.0\.1:/, local);
      }
      assert.deepEqual(secretsInProcesses(c.dir), []);
    });

    it("a kept-alive connection is open as long as HAProxy's Keep-Alive says; no API connection outlives its client's", async () => {
      // Clients such as Node's fetch keep an idle connection for the advertised timeout less a
      // second, and do not resend a POST whose connection was closed under it.
      const socket = connectTcp(Number(new URL(c.url).port), '127.0.0.1');
      try {
        const request = `POST /api/goods/1/bookings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`;
        const first = await answerOn(socket, request);
        const advertised = Number(/^keep-alive: *timeout=(\d+)/im.exec(first)?.[1]);
        assert.ok(advertised > 1, first);
        await sleep(advertised * 1000 - 1000);
        const second = await answerOn(socket, request).catch((error: Error) => {
          throw new Error(`${error.message} after ${advertised - 1} s idle; timeout=${advertised}`);
        });
        assert.match(second, /^HTTP\/1\.1 401 /, second);
      } finally {
        socket.destroy();
      }
      await sleep(200); // HAProxy has seen the client go: its API connection is closed or pooled
      // The API side: an API closes a connection idle for 72 s, and a request HAProxy sends on
      // it as it does is lost. HAProxy's pool of idle API connections shared between clients
      // has no time limit; without one, an API connection is idle at most as long as its client's.
      const pooled = (await haproxyServers(c)).map((s) => [
        s.svname,
        s.idle_conn_cur,
        s.safe_conn_cur,
      ]);
      assert.deepEqual(
        pooled,
        pooled.map(([name]) => [name, '0', '0']),
      );
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

    it('an API SIGKILLed mid-rush: HAProxy takes it out, only requests in flight on it fail, nothing accepted is lost, the supervisor brings it back', async () => {
      const goodsId = await goodsOf(c, 1000);
      const list = rushAttempts(users, 5000, `rush-${goodsId}`);
      const url = `${c.url}/api/goods/${goodsId}/bookings`;
      const before = await c.part('api-2');
      let done = 0;
      let killedAt = -1;
      let sawDown: Promise<void> | undefined;
      const answers = await fire(
        list.map((a) => async () => {
          const answer = await postBookingOrError(url, a.token, a.headers);
          done += 1;
          if (done === 1500) {
            killedAt = done;
            void c.kill('api-2');
            sawDown = eventually(
              'HAProxy takes api-2 out',
              async () => (await haproxyState(c, 'api-2')) === 'DOWN',
            );
          }
          return answer;
        }),
        CONCURRENCY,
      );
      assert.ok(killedAt > 0);
      await sawDown;
      // What a client may see for a request that was on api-2 when it died: a refused or reset
      // connection is retried by HAProxy on another instance; one already sent gets 502.
      const failed = answers.filter((a) => a.status === 0 || a.status === 502);
      const other5xx = answers.filter((a) => a.status >= 500 && a.status !== 502);
      assert.deepEqual(other5xx, [], JSON.stringify(summarise(answers)));
      assert.ok(
        failed.length <= CONCURRENCY,
        `${failed.length} failed: more than were in flight (${JSON.stringify(summarise(answers))})`,
      );
      const summary = await audit(c, goodsId, answers, 1000);
      process.stderr.write(`cluster rush, api-2 killed: ${JSON.stringify(summary)}\n`);
      // Nobody starts it: the cluster's supervisor does, and cluster:status says so.
      await eventually(
        'HAProxy takes api-2 back',
        async () => (await haproxyState(c, 'api-2')) === 'UP',
      );
      const after = await c.part('api-2');
      assert.notEqual(after.pid, before.pid);
      assert.equal(after.restarts, (before.restarts ?? 0) + 1);
      assert.match(await c.cluster('status'), /api-2\s.*\syes\s+1\b/);
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
        list.map((a) => () => postBookingOrError(url, a.token, a.headers)),
        CONCURRENCY,
      );
      await watcher;
      assert.ok(killedHolding > 0, 'writer-1 was killed holding entries');
      assert.ok(
        answers.every((a) => a.status < 500),
        JSON.stringify(summarise(answers)),
      );
      // No API is stopped: every request is answered (a kept-alive connection HAProxy closed
      // under its client once lost many here, docs/operations.md).
      assert.ok(
        answers.every((a) => a.status > 0),
        JSON.stringify(summarise(answers)),
      );
      const summary = await audit(c, goodsId, answers, 300);
      process.stderr.write(
        `cluster: writer-1 killed holding ${killedHolding}; ${JSON.stringify(summary)}\n`,
      );
      // The supervisor has started it again, as a new consumer.
      await eventually('writer-1 started again', async () => {
        const writer = await c.part('writer-1');
        return writer.healthy && writer.pid !== victim.pid && writer.restarts === 1;
      });
    });

    it('a service stopped on purpose stays down until started: the supervisor leaves it', async () => {
      await c.stop('writer-2');
      await sleep(2500); // past the supervisor's first back-off
      const stopped = await c.part('writer-2');
      assert.deepEqual([stopped.pid, stopped.healthy, stopped.restarts], [null, false, 0]);
      await c.start('writer-2');
      assert.equal((await c.part('writer-2')).healthy, true);
    });

    it('a standby stopped: booking goes on (the other is synchronous) and StandbyMissing is raised; started again: it catches up', async () => {
      // Made first: Pgpool-II refuses new sessions while it detaches the stopped node.
      const goodsId = await goodsOf(c, 100);
      await c.stop('postgres-3');
      const url = `${c.url}/api/goods/${goodsId}/bookings`;
      const answers = await bookEach(url, users.slice(0, 100), `standby-${goodsId}`, WAIT);
      assert.deepEqual(summarise(answers), { '201 CONFIRMED': 100 });
      // One synchronous candidate left: one more loss would stop every commit.
      await eventually('Prometheus raises StandbyMissing', async () =>
        (await alertsOf(c)).has('StandbyMissing'),
      );
      await c.start('postgres-3');
      const standby = new (await import('pg')).default.Pool({
        connectionString: c.connections.postgresNodes[2],
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
      await eventually(
        'StandbyMissing clears',
        async () => !(await alertsOf(c)).has('StandbyMissing'),
      );
    });

    it('no standby left: RPO 0, bookings are admitted and wait, NoSynchronousStandby is raised; a standby back confirms them', async () => {
      const goodsId = await goodsOf(c, 20);
      await c.stop('postgres-2');
      await c.stop('postgres-3');
      const url = `${c.url}/api/goods/${goodsId}/bookings`;
      // Pgpool-II refuses new sessions while it detaches a node (a booking that loads the
      // goods then gets 503 with Retry-After, as it should): book once it has detached both.
      await eventually('Pgpool-II has detached both standbys', async () => {
        const { rows } = await c.db.query<{ port: string; status: string }>('SHOW pool_nodes');
        return [1, 2].every(
          (i) => rows.find((r) => r.port === String(c.ports.postgres[i]))?.status === 'down',
        );
      });
      try {
        // Admitted and held in Redis, but nothing is CONFIRMED that is on one node only: the
        // writers' commits wait for a standby (synchronous_standby_names = 'ANY 1 (*)').
        const waiting = await bookEach(url, users.slice(0, 20), `nostandby-${goodsId}`, {
          prefer: 'wait=2',
        });
        assert.deepEqual(summarise(waiting), { '202 PENDING': 20 });
        const { rows } = await c.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM bookings WHERE goods_id = $1 AND status = 'CONFIRMED'`,
          [goodsId],
        );
        assert.equal(rows[0].n, 0, 'no booking is visible as CONFIRMED before a standby has it');
        await eventually('Prometheus raises NoSynchronousStandby', async () =>
          (await alertsOf(c)).has('NoSynchronousStandby'),
        );
        await c.start('postgres-2');
        // Pgpool-II ends its client sessions as it attaches the node: audit once it has.
        await eventually(
          'postgres-2 streams and Pgpool-II uses it',
          async () => {
            const { rows } = await c.db.query<{ port: string; status: string }>('SHOW pool_nodes');
            const node = rows.find((r) => r.port === String(c.ports.postgres[1]));
            return (await c.part('postgres-2')).healthy && node?.status === 'up';
          },
          60_000,
        );
        await eventually('every waiting booking is confirmed', async () => {
          const { rows: now } = await c.db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM bookings WHERE goods_id = $1 AND status = 'CONFIRMED'`,
            [goodsId],
          );
          return now[0].n === 20;
        });
        await audit(c, goodsId, waiting, 20);
      } finally {
        await c.start('postgres-2');
        await c.start('postgres-3');
      }
      await eventually(
        'both standbys stream and Pgpool-II uses them again',
        async () => {
          const { rows } = await c.db.query<{ status: string }>('SHOW pool_nodes');
          const standbys = await c.nodesIn('standby');
          return (
            standbys.length === 2 &&
            standbys.every((n) => n.healthy) &&
            rows.every((r) => r.status === 'up')
          );
        },
        60_000,
      );
      await eventually(
        'NoSynchronousStandby clears',
        async () => !(await alertsOf(c)).has('NoSynchronousStandby'),
      );
    });

    it('catalogue misses read a standby that has replayed the last edit, never one behind it', async () => {
      const hostId = await insertHost(c.db);
      const [goodsId] = await insertGoods(c.db, hostId, { bookingLimit: 10 });
      const standbys = [1, 2].map(
        (i) =>
          new pg.Pool({
            connectionString: c.connections.postgresNodes[i],
            max: 1,
          }),
      );
      const titleOn = async (db: pg.Pool) =>
        (await db.query<{ title: string }>(`SELECT title FROM goods WHERE id = $1`, [goodsId]))
          .rows[0]?.title;
      const title = `Edited while the standbys lag ${goodsId}`;
      try {
        await eventually('both standbys have the goods', async () =>
          (await Promise.all(standbys.map(titleOn))).every((t) => t !== undefined),
        );
        const before = await catalogueReads(c);
        await Promise.all(standbys.map((db) => db.query('SELECT pg_wal_replay_pause()')));
        const edit = await fetch(`${c.url}/api/goods/${goodsId}`, {
          method: 'PATCH',
          headers: {
            authorization: `Bearer ${signToken(hostId, 'host', TEST_JWT_SECRET)}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ title }),
        });
        assert.equal(edit.status, 200, await edit.text());
        for (const db of standbys) {
          assert.notEqual(await titleOn(db), title, 'replay is paused: the standby is behind');
        }
        // Every API, through HAProxy and directly: the edit, never the standbys' copy.
        const urls = [
          ...Array.from({ length: 3 }, () => c.url),
          ...c.ports.apis.map((p) => `http://127.0.0.1:${p}`),
        ];
        for (const base of urls) {
          const read = (await (await fetch(`${base}/api/goods/${goodsId}`)).json()) as {
            title: string;
          };
          assert.equal(read.title, title, base);
          const page = (await (await fetch(`${base}/api/goods?limit=100`)).json()) as {
            items: { id: number; title: string }[];
          };
          assert.equal(page.items.find((g) => g.id === goodsId)?.title, title, base);
        }
        const lagging = await catalogueReads(c);
        assert.ok(
          (lagging.behind ?? 0) > (before.behind ?? 0),
          `the read path was found behind: ${JSON.stringify({ before, lagging })}`,
        );
        await Promise.all(standbys.map((db) => db.query('SELECT pg_wal_replay_resume()')));
        await eventually('the standbys replay the edit', async () =>
          (await Promise.all(standbys.map(titleOn))).every((t) => t === title),
        );
        const missed = await fetch(`${c.url}/api/goods?limit=99`); // a page nobody has cached
        assert.equal(missed.status, 200);
        const caughtUp = await catalogueReads(c);
        assert.ok(
          (caughtUp.replica ?? 0) > (lagging.replica ?? 0),
          `a caught-up standby served the miss: ${JSON.stringify({ lagging, caughtUp })}`,
        );
      } finally {
        await Promise.all(
          standbys.map((db) => db.query('SELECT pg_wal_replay_resume()').catch(() => undefined)),
        );
        await Promise.all(standbys.map((db) => db.end()));
      }
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
      const before = await bookEach(url, users.slice(0, 150), `redis-${goodsId}`, WAIT);
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
      const afterRestart = await bookEach(url, users.slice(150, 400), `redis-${goodsId}`);
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
