import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { freePortSync } from '../support/ports';
import { Role } from '../../src/users/user.entity';
import { TEST_JWT_SECRET, TestApp, TEST_PASSWORD } from '../support/app';
import { freshDatabaseUrl, freshRedisPrefix, testEnv } from '../support/env';

const main = join(__dirname, '..', '..', 'src', 'main.js');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/**
 * Run the real entry point with this environment; resolve with exit code and output, or (with
 * `untilListening`) once it listens, with `kill` to signal it (SIGTERM) and `exited` to wait.
 */
function runMain(
  env: Record<string, string>,
  untilListening = false,
): Promise<{
  code: number | null;
  out: string;
  kill: (signal?: NodeJS.Signals) => void;
  exited: Promise<Exit>;
}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<Exit>((done) =>
      child.once('exit', (code, signal) => done({ code, signal, out })),
    );
    const onData = (d: Buffer) => {
      out += d.toString();
      if (untilListening && out.includes('listening on')) {
        resolve({ code: null, out, kill: (signal = 'SIGTERM') => child.kill(signal), exited });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(({ code }) => resolve({ code, out, kill: () => undefined, exited }));
  });
}

describe('start-up configuration', () => {
  it('names every bad variable in one message and exits 1', async () => {
    const { code, out } = await runMain({
      PORT: 'x',
      DATABASE_URL: 'mysql://app:hunter2-db@h/db',
      DATABASE_READ_URL: 'postgres://app:hunter2-read@:x/db',
      JWT_EXPIRES_IN: 'forever',
    });
    assert.equal(code, 1);
    for (const name of [
      'PORT',
      'DATABASE_URL',
      'DATABASE_READ_URL',
      'REDIS_URL',
      'JWT_EXPIRES_IN',
    ]) {
      assert.match(out, new RegExp(`- ${name} `), out);
    }
    assert.doesNotMatch(out, /hunter2/, 'no password of a refused URL (L7)');
    assert.ok(!/\bat .*\.js:\d+/.test(out), 'no stack trace');
  });

  it('refuses production with the default JWT secret', async () => {
    const { code, out } = await runMain({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u@127.0.0.1:1/db',
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    assert.equal(code, 1);
    assert.match(out, /JWT_SECRET must be set in production/);
    assert.match(out, /METRICS_TOKEN must be set in production/);
  });

  it("refuses production with the first releases' public default, and never prints it (L1)", async () => {
    const known = 'dev-only-insecure-jwt-secret-change-me';
    const { code, out } = await runMain({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u@127.0.0.1:1/db',
      REDIS_URL: 'redis://127.0.0.1:1',
      JWT_SECRET: known,
      METRICS_TOKEN: TEST_JWT_SECRET,
    });
    assert.equal(code, 1);
    assert.match(out, /JWT_SECRET is one published in the TicketNest repository/);
    assert.match(out, /METRICS_TOKEN is one published/);
    assert.ok(!out.includes(known) && !out.includes(TEST_JWT_SECRET), out);
  });

  it('starts, migrates, ensures ADMIN_EMAIL as admin, and updates its password on the next start', async () => {
    const databaseUrl = await freshDatabaseUrl();
    const env = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: testEnv('REDIS_URL'),
      REDIS_KEY_PREFIX: freshRedisPrefix(),
      PORT: String(freePortSync()),
      HOST: '127.0.0.1',
      ADMIN_EMAIL: 'Root@Example.com',
      ADMIN_PASSWORD: 'First-Passw0rd',
      LOG_LEVEL: 'info',
    };
    const login = (password: string) =>
      fetch(`http://127.0.0.1:${env.PORT}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'root@example.com', password }),
      });
    const first = await runMain(env, true);
    try {
      const ok = await login('First-Passw0rd');
      assert.equal(ok.status, 200);
      const { accessToken } = (await ok.json()) as { accessToken: string };
      const me = (await (
        await fetch(`http://127.0.0.1:${env.PORT}/api/auth/me`, {
          headers: { authorization: `Bearer ${accessToken}` },
        })
      ).json()) as { role: string };
      assert.equal(me.role, 'admin');
      // Logs are JSON lines.
      const line = first.out.split('\n').find((l) => l.includes('listening on'))!;
      assert.equal(JSON.parse(line).level, 30);
    } finally {
      first.kill();
    }
    await new Promise((r) => setTimeout(r, 500));
    const second = await runMain({ ...env, ADMIN_PASSWORD: 'Second-Passw0rd' }, true);
    try {
      assert.equal((await login('First-Passw0rd')).status, 401);
      assert.equal((await login('Second-Passw0rd')).status, 200);
    } finally {
      second.kill();
    }
  });

  it('stops on SIGTERM, closing what it opened, with Redis up and with Redis away', async () => {
    const base = {
      DATABASE_URL: await freshDatabaseUrl(),
      REDIS_KEY_PREFIX: freshRedisPrefix(),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    // Away, nothing sent to Redis is ever answered: a close that waited for an answer (QUIT)
    // would hang the stop until the orchestrator's SIGKILL.
    for (const redisUrl of [testEnv('REDIS_URL'), `redis://127.0.0.1:${freePortSync()}`]) {
      const run = await runMain(
        { ...base, REDIS_URL: redisUrl, PORT: String(freePortSync()) },
        true,
      );
      run.kill();
      const hung = setTimeout(() => run.kill('SIGKILL'), 10_000);
      const { code, signal, out } = await run.exited;
      clearTimeout(hung);
      // Nest's shutdown hook closes the app, then ends the process by the signal it got.
      assert.deepEqual([code, signal], [null, 'SIGTERM'], `${redisUrl}:\n${out}`);
      assert.doesNotMatch(out, /unhandled|Connection is closed/i, `${redisUrl}:\n${out}`);
    }
  });
});

describe('health, metrics, docs', () => {
  let t: TestApp;
  before(async () => {
    t = await TestApp.start();
  });
  after(() => t.close());

  it("sums this instance's metrics into one JSON object for the admins' operations page", async () => {
    const [admin, host, fan] = [
      await t.newUser(Role.Admin),
      await t.newUser(Role.Host),
      await t.newUser(),
    ];
    const goods = await t.newGoods(host, { bookingLimit: 3 });
    const before = (await t.request('GET', '/api/admin/metrics', { token: admin.token })).body;
    const booked = await t.request('POST', `/api/goods/${goods.id}/bookings`, {
      token: fan.token,
      body: {},
      headers: { prefer: 'wait=5' },
    });
    assert.equal(booked.status, 201);
    const after = await t.request('GET', '/api/admin/metrics', { token: admin.token });
    assert.equal(after.status, 200, after.text);
    assert.equal(after.headers.get('cache-control'), 'no-store');
    const s = after.body;
    assert.ok(s.requests > before.requests, 'requests counted');
    assert.equal(
      (s.outcomes.CONFIRMED ?? 0) - (before.outcomes.CONFIRMED ?? 0),
      1,
      JSON.stringify(s.outcomes),
    );
    assert.equal(s.latency.bounds.length, s.latency.counts.length);
    assert.ok(s.latency.counts.at(-1) > 0);
    assert.equal(s.writerHealthy, true);
    assert.deepEqual(
      s.stock.find((r: { goodsId: number }) => r.goodsId === goods.id),
      { goodsId: goods.id, remaining: 2 },
    );
    for (const who of [undefined, host.token, fan.token]) {
      const refused = await t.request('GET', '/api/admin/metrics', { token: who });
      assert.equal(refused.status, who ? 403 : 401);
    }
  });

  it("tells the server's time, never cached (the web app's countdowns follow it)", async () => {
    const before = Date.now();
    const reply = await t.request('GET', '/api/time');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('cache-control'), 'no-store');
    assert.ok(reply.body.now >= before && reply.body.now <= Date.now(), reply.text);
  });

  it('answers liveness and readiness with both dependencies up', async () => {
    assert.deepEqual((await t.request('GET', '/health/live')).body, { status: 'ok' });
    const ready = await t.request('GET', '/health/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.details.postgres.status, 'up');
    assert.equal(ready.body.details.redis.status, 'up');
  });

  it('exposes Prometheus metrics with an HTTP histogram by route pattern and status', async () => {
    await t.request('GET', '/api/goods/12345');
    const metrics = await t.request('GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(
      metrics.text,
      /http_request_duration_seconds_bucket\{le="[\d.]+",method="GET",route="\/api\/goods\/:goodsId",status_code="404"\}/,
    );
    assert.match(metrics.text, /process_cpu_user_seconds_total/);
    assert.match(metrics.text, /nodejs_eventloop_lag_seconds/);
  });

  it('echoes a safe x-request-id, or makes one', async () => {
    const given = await t.request('GET', '/health/live', {
      headers: { 'x-request-id': 'abc-123' },
    });
    assert.equal(given.headers.get('x-request-id'), 'abc-123');
    const made = await t.request('GET', '/health/live', {
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('keeps docs/openapi.json equal to what the code serves (UPDATE_OPENAPI=1 rewrites it)', async () => {
    const served = `${JSON.stringify((await t.request('GET', '/api/docs-json')).body, null, 2)}\n`;
    const file = join(__dirname, '..', '..', '..', 'docs', 'openapi.json');
    if (process.env.UPDATE_OPENAPI === '1') {
      writeFileSync(file, served);
    }
    assert.equal(
      existsSync(file) ? readFileSync(file, 'utf8') : '',
      served,
      'docs/openapi.json is stale: run `npm run openapi`',
    );
  });

  it('serves Swagger UI and an OpenAPI document listing every route with examples', async () => {
    const ui = await t.request('GET', '/api/docs');
    assert.equal(ui.status, 200);
    assert.match(ui.text, /swagger/i);
    const doc = (await t.request('GET', '/api/docs-json')).body;
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    for (const route of [
      'POST /api/auth/signup',
      'POST /api/auth/login',
      'POST /api/auth/logout',
      'GET /api/auth/me',
      'PATCH /api/users/{userId}/role',
      'GET /api/goods',
      'POST /api/goods',
      'GET /api/goods/{goodsId}',
      'PATCH /api/goods/{goodsId}',
      'DELETE /api/goods/{goodsId}',
      'GET /health/live',
      'GET /health/ready',
    ]) {
      assert.ok(routes.includes(route), `${route} in ${routes.join(', ')}`);
    }
    for (const [name, schema] of Object.entries(
      doc.components.schemas as Record<
        string,
        { properties?: Record<string, { example?: unknown; $ref?: string; items?: unknown }> }
      >,
    )) {
      for (const [prop, spec] of Object.entries(schema.properties ?? {})) {
        assert.ok('example' in spec || spec.$ref || spec.items, `${name}.${prop} has an example`);
      }
    }
  });
});

describe('readiness without Redis', () => {
  it('fails readiness quickly (503) when Redis is unreachable, while liveness holds', async () => {
    const t = await TestApp.start({ REDIS_URL: `redis://127.0.0.1:${freePortSync()}` });
    try {
      const start = Date.now();
      const ready = await t.request('GET', '/health/ready');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.code, 'SERVICE_UNAVAILABLE');
      assert.ok(ready.body.details.includes('postgres: up'), ready.text);
      assert.ok(
        ready.body.details.some((d: string) => d.startsWith('redis: down')),
        ready.text,
      );
      assert.ok(Date.now() - start < 3000, `took ${Date.now() - start} ms`);
      // What failed stays in the log: no internal address or error text in the answer.
      assert.doesNotMatch(ready.text, /127\.0\.0\.1|ECONNREFUSED|:\d{4,5}\b/, ready.text);
      assert.equal((await t.request('GET', '/health/live')).status, 200);
      // Reads fall back to PostgreSQL when the cache is down.
      assert.equal((await t.request('GET', '/api/goods')).status, 200);
      // The auth routes' limits live in Redis: 503 with Retry-After, never a 500.
      for (const [path, body] of [
        ['/api/auth/login', { email: 'a@example.com', password: TEST_PASSWORD }],
        [
          '/api/auth/signup',
          {
            email: 'b@example.com',
            password: TEST_PASSWORD,
            confirm: TEST_PASSWORD,
            nickname: 'b',
          },
        ],
      ] as const) {
        const reply = await t.request('POST', path, { body });
        assert.deepEqual([reply.status, reply.body.code], [503, 'SERVICE_UNAVAILABLE'], path);
        assert.equal(reply.headers.get('retry-after'), '1', path);
      }
    } finally {
      await t.close();
    }
  });

  it('asks for METRICS_TOKEN as a bearer token on /metrics when it is set', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const t = await TestApp.start({ METRICS_TOKEN: token });
    try {
      const none = await t.request('GET', '/metrics');
      assert.deepEqual([none.status, none.body.code], [401, 'UNAUTHORIZED']);
      const wrong = await t.request('GET', '/metrics', {
        headers: { authorization: `Bearer ${token.slice(0, -1)}x` },
      });
      assert.equal(wrong.status, 401);
      const right = await t.request('GET', '/metrics', {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(right.status, 200);
      assert.match(right.text, /process_cpu_user_seconds_total/);
      assert.equal((await t.request('GET', '/health/live')).status, 200, 'health stays open');
    } finally {
      await t.close();
    }
  });
});
