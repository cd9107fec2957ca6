// `npm run bench`: an on-sale rush against a real service, then an audit of every answer
// against PostgreSQL and Redis. Any breach fails the run whatever the speed.
//   npm run bench -- [--compare redis,pg-lock] [--strategy redis] [--requests 20000]
//     [--users 20000] [--stock 1000] [--concurrency 100] [--rounds 3] [--json FILE]
// Without --url it starts the service itself (own database and Redis prefix, single node,
// the same entry point as `npm start`) and stops it afterwards.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import {
  createDatabaseIfMissing,
  ensureBuild,
  ensureDependencies,
  freePort,
  root,
  deleteKeys,
  dropDatabases,
  provisionServers,
  say,
  withDatabase,
} from './lib/services.mjs';

const { values: opt } = parseArgs({
  options: {
    strategy: { type: 'string', default: 'redis' },
    compare: { type: 'string' },
    requests: { type: 'string', default: '20000' },
    users: { type: 'string', default: '20000' },
    stock: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '100' },
    rounds: { type: 'string' },
    json: { type: 'string' },
    baseline: { type: 'boolean', default: false },
  },
});
const N = {
  requests: Number(opt.requests),
  users: Number(opt.users),
  stock: Number(opt.stock),
  concurrency: Number(opt.concurrency),
};
const strategies = opt.compare ? opt.compare.split(',') : [opt.strategy];
const rounds = Number(opt.rounds ?? (opt.compare ? 3 : 1));

ensureDependencies();
ensureBuild();
const load = createRequire(import.meta.url);
const { default: autocannon } = await import('autocannon');
const { default: pg } = await import('pg');
const jwt = load('jsonwebtoken');
const { createRedis } = load(join(root, 'dist', 'redis', 'redis.module.js'));
const { runMigrations } = load(join(root, 'dist', 'database', 'data-source.js'));
const { auditGoods, waitForWritten } = load(join(root, 'dist', 'booking', 'audit.js'));

const SECRET = `bench-${randomBytes(24).toString('hex')}`;
const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;

/** The service as `npm start` runs it, on its own database and key prefix. */
async function startService(env) {
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'dist', 'main.js')], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  child.stdout.resume();
  for (let i = 0; ; i++) {
    if (exited) throw new Error('the service exited during start-up');
    const ok = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 600) throw new Error('the service did not become ready in 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    stop: () =>
      new Promise((r) => {
        child.once('exit', r);
        child.kill('SIGTERM');
      }),
  };
}

/** CPU seconds (user + system) a process has used, from /proc (Linux; clock ticks of 1/100 s). */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function rush(strategy, round, infra) {
  const dbName = `tn_bench_${runId}_${strategy.replace('-', '')}_${round}`;
  await createDatabaseIfMissing(infra.adminUrl, dbName);
  const databaseUrl = withDatabase(infra.adminUrl, dbName);
  await runMigrations(databaseUrl);
  const prefix = `tn-bench-${runId}-${strategy}-${round}:`;
  const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  // Preparation off the clock: bulk SQL for users and goods, tokens signed with the secret.
  const host = (
    await db.query(
      `INSERT INTO users (email, nickname, password_hash, role) VALUES ('bench-host@x.io', 'benchhost', 'x', 'host') RETURNING id`,
    )
  ).rows[0].id;
  const goodsId = (
    await db.query(
      `INSERT INTO goods (title, content, price, img_url, show_date, booking_limit, host_id)
       VALUES ('Bench', 'rush', 1000, 'https://x.io/b.png', now() + interval '30 days', $1, $2) RETURNING id`,
      [N.stock, host],
    )
  ).rows[0].id;
  const users = (
    await db.query(
      `INSERT INTO users (email, nickname, password_hash) SELECT 'u' || i || '@bench.io', 'b' || i, 'x' FROM generate_series(1, $1) i RETURNING id`,
      [N.users],
    )
  ).rows.map((r) => r.id);
  const tokens = users.map(
    (id) =>
      `Bearer ${jwt.sign({ sub: String(id), role: 'user' }, SECRET, { algorithm: 'HS256', expiresIn: 3600 })}`,
  );

  const service = await startService({
    NODE_ENV: 'production',
    JWT_SECRET: SECRET,
    DATABASE_URL: databaseUrl,
    REDIS_URL: infra.redisUrl,
    REDIS_KEY_PREFIX: prefix,
    BOOKING_STRATEGY: strategy,
    LOG_LEVEL: 'warn',
    SEED_DEMO_DATA: 'false',
  });
  const cpuBefore = cpuSeconds(service.child.pid);
  const answers = { ids: [], codes: {} };
  let next = 0;
  const started = Date.now();
  const result = await autocannon({
    url: service.url,
    connections: N.concurrency,
    amount: N.requests,
    requests: [
      {
        method: 'POST',
        path: `/api/goods/${goodsId}/bookings`,
        headers: { 'content-type': 'application/json' },
        body: '{}',
        setupRequest: (req) => {
          const i = next++;
          // Users repeat in a rush; every 10th request reuses an idempotency key.
          const headers = { ...req.headers, authorization: tokens[i % tokens.length] };
          if (i % 10 === 0) headers['idempotency-key'] = `bench-${i % tokens.length}`;
          return { ...req, headers };
        },
        onResponse: (status, body) => {
          let parsed = {};
          try {
            parsed = JSON.parse(body);
          } catch {
            // not JSON (a proxy error page, say): counted by status alone
          }
          const key = `${status} ${parsed.code ?? parsed.status ?? ''}`;
          answers.codes[key] = (answers.codes[key] ?? 0) + 1;
          if ((status === 201 || status === 202) && parsed.id) answers.ids.push(parsed.id);
        },
      },
    ],
  });
  const lastAnswer = Date.now();
  const lastWrite = await waitForWritten(db, answers.ids, 120_000);
  const cpu = cpuSeconds(service.child.pid) - cpuBefore;
  const redis = createRedis(infra.redisUrl, prefix);
  const audit = await auditGoods(
    db,
    strategy === 'redis' ? redis : undefined,
    goodsId,
    answers.ids,
  );
  const fivexx = Object.entries(answers.codes)
    .filter(([k]) => k.startsWith('5'))
    .reduce((n, [, v]) => n + v, 0);
  const expected = Math.min(N.stock, N.users);
  if (audit.confirmedQuantity !== expected)
    audit.problems.push(`${audit.confirmedQuantity} confirmed, expected ${expected}`);
  if (fivexx > 0) audit.problems.push(`${fivexx} 5xx answers`);
  await service.stop();
  // Leave nothing behind on servers we were given: this run's keys and database go.
  await redis.quit();
  await db.end();
  await deleteKeys(infra.redisUrl, prefix);
  await dropDatabases(infra.adminUrl, dbName);
  return {
    strategy,
    round,
    requests: result.requests.total,
    durationSeconds: result.duration,
    requestsPerSecond: Math.round(result.requests.total / result.duration),
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    confirmed: audit.confirmedQuantity,
    durableConfirmationsPerSecond: Math.round(
      (audit.confirmedQuantity * 1000) / (lastWrite - started),
    ),
    lastWriteAfterLastAnswerMs: Math.max(0, lastWrite - lastAnswer),
    answers: answers.codes,
    serviceCpuSeconds: Number(cpu.toFixed(2)),
    errors: result.errors + result.timeouts,
    audit: { ok: audit.problems.length === 0, problems: audit.problems },
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A bare Fastify hello in its own process, loaded like the service: the ceiling. */
async function hello() {
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'scripts', 'bench', 'hello.mjs')], {
    env: { ...process.env, PORT: String(port) },
    stdio: 'ignore',
  });
  for (
    let i = 0;
    !(await fetch(`http://127.0.0.1:${port}/`).then(
      (r) => r.ok,
      () => false,
    ));
    i++
  ) {
    if (i > 100) throw new Error('the hello server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections: N.concurrency,
    amount: N.requests,
  });
  await new Promise((r) => {
    child.once('exit', r);
    child.kill('SIGTERM');
  });
  return {
    strategy: 'hello',
    requestsPerSecond: Math.round(result.requests.total / result.duration),
    latencyMs: { p99: result.latency.p99 },
  };
}

const infra = await provisionServers({ dataDir: join(root, '.data', 'bench') });
const machine = {
  cpus: os.cpus().length,
  loadBefore: os.loadavg().map((l) => Number(l.toFixed(2))),
  node: process.version,
};
say(
  `rush: ${N.requests} requests, ${N.users} users, ${N.stock} seats, concurrency ${N.concurrency}; strategies ${strategies.join(', ')} × ${rounds}; load ${machine.loadBefore.join(' ')}`,
);
const runs = [];
try {
  for (let round = 1; round <= rounds; round++) {
    if (opt.baseline) {
      const h = await hello();
      runs.push({ ...h, round, audit: { ok: true, problems: [] } });
      say(`hello #${round}: ${h.requestsPerSecond} req/s, p99 ${h.latencyMs.p99} ms`);
    }
    for (const strategy of strategies) {
      const r = await rush(strategy, round, infra);
      runs.push(r);
      say(
        `${strategy} #${round}: ${r.requestsPerSecond} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms; ` +
          `${r.confirmed} confirmed, last write +${r.lastWriteAfterLastAnswerMs} ms; cpu ${r.serviceCpuSeconds}s; audit ${r.audit.ok ? 'OK' : 'FAILED: ' + r.audit.problems.join('; ')}`,
      );
    }
  }
} finally {
  await infra.stop();
}
const helloMedian = opt.baseline
  ? median(runs.filter((r) => r.strategy === 'hello').map((r) => r.requestsPerSecond))
  : undefined;
const summary = strategies.map((s) => {
  const mine = runs.filter((r) => r.strategy === s);
  return {
    strategy: s,
    rounds: mine.length,
    medianRequestsPerSecond: median(mine.map((r) => r.requestsPerSecond)),
    medianP99Ms: median(mine.map((r) => r.latencyMs.p99)),
    medianLastWriteAfterLastAnswerMs: median(mine.map((r) => r.lastWriteAfterLastAnswerMs)),
    ...(helloMedian
      ? {
          shareOfHello: Number(
            (median(mine.map((r) => r.requestsPerSecond)) / helloMedian).toFixed(3),
          ),
        }
      : {}),
  };
});
if (helloMedian)
  say(`bare Fastify hello: median ${helloMedian} req/s (the ceiling on this machine)`);
console.table(summary);
if (summary.length === 2) {
  say(
    `ratio ${summary[0].strategy}/${summary[1].strategy}: ${(summary[0].medianRequestsPerSecond / summary[1].medianRequestsPerSecond).toFixed(2)}× requests/s`,
  );
}
if (opt.json)
  writeFileSync(
    opt.json,
    JSON.stringify({ scenario: 'rush', parameters: N, machine, runs, summary }, null, 2),
  );
const failed = runs.filter((r) => !r.audit.ok);
if (failed.length > 0) {
  say(`AUDIT FAILED in ${failed.length} run(s)`);
  process.exit(1);
}
