// `npm run bench`: load a real service, then audit every answer against PostgreSQL and Redis.
// Any breach fails the run (exit 1) whatever the speed. `npm run bench -- --help` lists the
// options; the README explains the scenarios, the output and the JSON fields.
import { spawn } from 'node:child_process';
import { createSecretKey, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { parseArgs } from 'node:util';

import { LoadGenerator } from './bench/load.mjs';
import { latencySummary, printRun, printSummary, summarize, writeHtml } from './bench/report.mjs';
import { rushPlan } from './bench/scenarios.mjs';
import { runWrk, wrkMissing } from './bench/wrk.mjs';
import {
  createDatabaseIfMissing,
  deleteKeys,
  dropDatabases,
  ensureBuild,
  ensureDependencies,
  freePort,
  provisionServers,
  root,
  cleanUpOnSignals,
  say,
  SERVICE_NODE_FLAGS,
  withDatabase,
} from './lib/services.mjs';

const HELP = `npm run bench -- [options]
  --scenario rush|sustained|read|mixed   what to run (default rush)
  --requests N      requests to send (rush/read/mixed; default 20000, read 100000)
  --users N         users, each with a real token (default 20000)
  --stock N         seats (rush and mixed; default 1000)
  --concurrency N   connections (default 100)
  --duration S      seconds to run (sustained default 60; others stop at --requests)
  --rate R          requests/s, open loop (sustained default 10000)
  --strategy S      redis | pg-lock (default redis)
  --compare A,B     run each strategy in turn, alternating, --rounds times
  --rounds K        rounds (default 3 with --compare, else 1)
  --baseline        also load a bare Fastify hello, the ceiling of this machine
  --workers W       generator threads (default 1)
  --generator G     bench (default: its own, in Node) | wrk (Debian's wrk, rush only: a
                    second opinion from an outside generator; same plan, same audit)
  --writers N       booking writers in processes of their own (APP_ROLE=writer) beside an
                    APP_ROLE=api service (default 0: the service's own writer thread)
  --warmup N        requests sent first, on goods of their own, not measured (default 5000;
                    a real service is warm when a sale opens); audited all the same
  --url URL         load a running service instead of starting one; give the bench that
                    service's DATABASE_URL, REDIS_URL, REDIS_KEY_PREFIX and JWT_SECRET
  --json FILE       write the results as JSON (fields in the README)
  --html FILE       write an HTML report with charts (with neither option, both reports go
                    to bench-results/<scenario>-<time>.json and .html)
  --preload-bookings N  with N > 0, each round runs every strategy twice: on an empty
                    database and on one with a history of N confirmed bookings on goods whose
                    sales ended (by bulk SQL, off the clock; target '<strategy> history'),
                    and reports each service's start-up time
  --preload-users M  the history's users (default N / 10, at least 1,000)
  --trace           run the service with OpenTelemetry tracing on, exporting to a local
                    OTLP/HTTP sink the bench starts (it counts the spans and drops them):
                    compare with a run without it for tracing's cost
  --profile DIR     run the service under --cpu-prof, profiles into DIR (open them in
                    Chrome DevTools for a flame graph, or: node scripts/bench/profile.mjs DIR)
  --help`;

const { values: opt } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'rush' },
    strategy: { type: 'string', default: 'redis' },
    compare: { type: 'string' },
    requests: { type: 'string' },
    users: { type: 'string', default: '20000' },
    stock: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '100' },
    duration: { type: 'string' },
    rate: { type: 'string' },
    rounds: { type: 'string' },
    workers: { type: 'string', default: '1' },
    generator: { type: 'string', default: 'bench' },
    writers: { type: 'string', default: '0' },
    warmup: { type: 'string', default: '5000' },
    url: { type: 'string' },
    json: { type: 'string' },
    html: { type: 'string' },
    profile: { type: 'string' },
    baseline: { type: 'boolean', default: false },
    trace: { type: 'boolean', default: false },
    'preload-bookings': { type: 'string', default: '0' },
    'preload-users': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(HELP);
  process.exit(0);
}

/** Options, checked before anything starts: a bad one exits 2 with what was wrong. */
function parameters() {
  const problems = [];
  const int = (name, value, min) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) problems.push(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  const scenario = opt.scenario;
  if (!['rush', 'sustained', 'read', 'mixed'].includes(scenario))
    problems.push('--scenario must be rush, sustained, read or mixed');
  const strategies = opt.compare ? opt.compare.split(',') : [opt.strategy];
  if (strategies.some((s) => !['redis', 'pg-lock'].includes(s)))
    problems.push('strategies are redis and pg-lock');
  const sustained = scenario === 'sustained';
  const p = {
    scenario,
    strategies,
    users: int('users', opt.users, 1),
    stock: int('stock', opt.stock, 1),
    concurrency: int('concurrency', opt.concurrency, 1),
    workers: int('workers', opt.workers, 1),
    writers: int('writers', opt.writers, 0),
    warmup: int('warmup', opt.warmup, 0),
    rounds: int('rounds', opt.rounds ?? (opt.compare ? 3 : 1), 1),
    durationSeconds: opt.duration || sustained ? int('duration', opt.duration ?? 60, 1) : undefined,
    rate: opt.rate || sustained ? int('rate', opt.rate ?? 10_000, 1) : undefined,
    url: opt.url,
    preloadBookings: int('preload-bookings', opt['preload-bookings'], 0),
  };
  p.preloadUsers = opt['preload-users']
    ? int('preload-users', opt['preload-users'], 1000)
    : Math.max(1000, Math.ceil(p.preloadBookings / 10));
  if (p.url && p.preloadBookings > 0)
    problems.push('--preload-* builds its own databases; it cannot use --url');
  p.requests = opt.requests
    ? int('requests', opt.requests, 1)
    : p.rate && p.durationSeconds
      ? p.rate * p.durationSeconds
      : p.durationSeconds
        ? Infinity
        : // reads are fast: 20,000 of them took under a second, too short to measure
          opt.scenario === 'read'
          ? 100_000
          : 20_000;
  if (p.concurrency < p.workers) problems.push('--concurrency must be at least --workers');
  p.generator = opt.generator;
  if (!['bench', 'wrk'].includes(p.generator)) problems.push('--generator must be bench or wrk');
  if (p.generator === 'wrk') {
    if (scenario !== 'rush') problems.push('--generator wrk runs the rush only');
    if (opt.baseline) problems.push('--baseline loads hello with the bench generator only');
    const missing = wrkMissing();
    if (missing) problems.push(missing);
  }
  if (p.url) {
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET'])
      if (!process.env[name]) problems.push(`--url needs ${name} (the running service's)`);
    if (opt.compare) problems.push('--compare starts its own services; it cannot use --url');
    if (p.writers > 0) problems.push('--writers starts its own processes; it cannot use --url');
    if (opt.trace) problems.push('--trace starts its own service; it cannot use --url');
  }
  if (problems.length > 0) {
    console.error(`${problems.join('\n')}\n\n${HELP}`);
    process.exit(2);
  }
  return p;
}
const P = parameters();

ensureDependencies();
ensureBuild();
const load = createRequire(import.meta.url);
const { default: pg } = await import('pg');
const jwt = load('jsonwebtoken');
const { createRedis } = load(join(root, 'dist', 'redis', 'redis.module.js'));
const { runMigrations } = load(join(root, 'dist', 'database', 'data-source.js'));
const { auditRun, waitForLogDrained } = load(join(root, 'dist', 'booking', 'audit.js'));
const { stockKeys } = load(join(root, 'dist', 'stock', 'stock.keys.js'));
const { bookingKeys } = load(join(root, 'dist', 'booking', 'booking.keys.js'));
const { goodsCacheKeys } = load(join(root, 'dist', 'goods', 'goods.cache.js'));
const { insertGoods, insertHistory, insertHost, insertUsers } = load(
  join(root, 'dist', 'database', 'fixtures.js'),
);

const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;

async function waitUntil(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What an interrupted run stops (see cleanUpOnSignals): our servers, then what we started. */
const cleanups = [];

/**
 * A process we start and stop: the service as `npm start` runs it, or the hello server. It is
 * ready when `ready.path` answers 2xx or, for a process without HTTP, when its standard output
 * shows `ready.text`.
 */
async function startProcess(script, env, ready, nodeArgs = []) {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', ready.text ? 'pipe' : 'ignore', 'inherit'],
  });
  let exited = false;
  let said = '';
  child.once('exit', () => (exited = true));
  cleanups.push(() =>
    exited
      ? undefined
      : new Promise((r) => {
          child.once('exit', r);
          child.kill('SIGTERM');
          setTimeout(r, 5000).unref();
        }),
  );
  // Read all of it (an unread pipe would block the child), keep only enough to find the text.
  child.stdout?.on('data', (chunk) => (said = (said + chunk).slice(-4096)));
  let saw = false;
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    async () => {
      if (exited) throw new Error(`${script} exited during start-up`);
      if (ready.text) return (saw ||= said.includes(ready.text));
      return fetch(url + ready.path).then(
        (r) => r.ok,
        () => false,
      );
    },
    60_000,
    `${script} becoming ready`,
  );
  return {
    url,
    pid: child.pid,
    stop: () =>
      exited
        ? Promise.resolve()
        : new Promise((r) => {
            child.once('exit', r);
            child.kill('SIGTERM');
          }),
  };
}

/**
 * A process's parent and CPU seconds from /proc (Linux; 1/100 s ticks): its own (user +
 * system) and what its exited children left it (cutime + cstime); undefined when gone.
 */
function procStat(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return {
      ppid: Number(f[1]),
      self: (Number(f[11]) + Number(f[12])) / 100,
      reaped: (Number(f[13]) + Number(f[14])) / 100,
    };
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used. */
function cpuSeconds(pid) {
  return procStat(pid)?.self ?? Number.NaN;
}

/**
 * CPU seconds of a process and all its descendants: the live ones' own time plus what the
 * exited ones left in their parents' cutime/cstime (PostgreSQL backends, Redis' rewrite child).
 */
function treeCpuSeconds(rootPid) {
  const children = new Map();
  const stats = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (!stat) continue; // gone between readdir and read
    const pid = Number(entry);
    stats.set(pid, stat);
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  }
  if (!stats.has(rootPid)) return Number.NaN;
  let total = 0;
  const walk = (pid) => {
    const t = stats.get(pid);
    total += t.self + t.reaped;
    for (const child of children.get(pid) ?? []) walk(child);
  };
  walk(rootPid);
  return total;
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineCpuSeconds() {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return Number.NaN;
  }
}

/** How many goods, seats and per-user limit each scenario needs. */
function goodsPlan() {
  if (P.scenario === 'sustained') {
    // Stock to spare on enough goods that nobody books one goods twice (see scenarios.mjs).
    const count = Math.max(20, Math.ceil(P.requests / P.users) + 1);
    return { count, stock: Math.ceil((P.requests / count) * 1.2) + 10 };
  }
  if (P.scenario === 'read') return { count: 20, stock: P.stock };
  return { count: 1, stock: P.stock };
}

/**
 * Preparation, off the clock, by SQL: a host, the goods, the users (bulk insert) and a token
 * per user signed with the service's secret, exactly what a login would have handed out.
 */
async function prepare(db, secret) {
  const tag = `${runId}-${Math.random().toString(36).slice(2, 6)}`;
  const host = await insertHost(db, { tag, domain: 'bench.invalid' });
  const plan = goodsPlan();
  const goodsIds = await createGoods(db, host, plan, tag);
  const warmGoodsIds = await createGoods(
    db,
    host,
    // at least one seat: a goods of no seats is refused by the schema (--warmup 0)
    { count: 1, stock: Math.max(1, P.scenario === 'sustained' ? P.warmup : P.stock) },
    `${tag}-warm`,
  );
  const userIds = await insertUsers(db, P.users, { tag, domain: 'bench.invalid' });
  // A KeyObject made once: given a string, jsonwebtoken tries it as a PEM key on every call.
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  const tokens = userIds.map((id) =>
    jwt.sign({ sub: String(id), role: 'user' }, key, { algorithm: 'HS256', expiresIn: 7200 }),
  );
  return { host, goodsIds, warmGoodsIds, userIds, tokens, stock: plan.stock };
}

function createGoods(db, host, plan, tag) {
  return insertGoods(db, host, { title: `Bench ${tag}`, bookingLimit: plan.stock }, plan.count);
}

/** Remove what prepare() made from a database we were given (--url). */
async function unprepare(db, redis, prepared, prefix) {
  const { userIds, host } = prepared;
  const goodsIds = [...prepared.goodsIds, ...prepared.warmGoodsIds];
  await db.query(
    `DELETE FROM bookings WHERE goods_id = ANY($1::int[]) OR user_id = ANY($2::int[])`,
    [goodsIds, userIds],
  );
  await db.query(`DELETE FROM goods WHERE id = ANY($1::int[])`, [goodsIds]);
  await db.query(`DELETE FROM users WHERE id = ANY($1::int[])`, [[host, ...userIds]]);
  if (redis) {
    // The goods' booking state, and every cached goods read (as a goods write does).
    await redis.del(...goodsIds.flatMap((id) => [stockKeys.goods(id), stockKeys.goodsUsers(id)]));
    // No WAL position read here: unknown, a read path's next reader asks the primary.
    await redis.bumpGeneration(goodsCacheKeys.generation, goodsCacheKeys.position, '');
    // Its users' idempotency keys (booking records go when their bookings settle).
    const users = new Set(userIds.map(String));
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(
        cursor,
        'MATCH',
        `${prefix}${bookingKeys.idempotencyPrefix}*`,
        'COUNT',
        1000,
      );
      cursor = next;
      // SCAN answers full names; the client adds the prefix again on DEL.
      const ours = keys
        .map((k) => k.slice(prefix.length))
        .filter((k) => users.has(k.split(':')[2]));
      if (ours.length > 0) await redis.del(...ours);
    } while (cursor !== '0');
  }
}

/** The confirmed quantity a correct service must end with, where the scenario fixes it. */
function expectedConfirmed(sent) {
  if (P.scenario === 'rush') {
    const users = new Set();
    for (let g = 0; g < sent; g++) users.add(rushPlan(g, P.users).user);
    return Math.min(P.stock, users.size); // maxPerUser is 1
  }
  if (P.scenario === 'sustained') return sent; // stock to spare, one booking per user per goods
  return undefined; // read books nothing; mixed depends on timing (the audit still applies)
}

/** Commit lag: from admission (requested_at) to the write transaction (decided_at). */
async function commitLag(db, goodsIds) {
  const { rows } = await db.query(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) AS p99, max(lag) AS max
     FROM (SELECT extract(epoch FROM decided_at - requested_at) * 1000 AS lag
           FROM bookings WHERE goods_id = ANY($1::int[])) l`,
    [goodsIds],
  );
  const r = (v) => (v === null ? null : Number(Number(v).toFixed(1)));
  return { p50: r(rows[0].p50), p99: r(rows[0].p99), max: r(rows[0].max) };
}

/** The time the booking log was last seen empty: every accepted request written. */
async function waitForLog(redis, strategy) {
  return strategy === 'redis' ? waitForLogDrained(redis, 120_000) : Date.now();
}

let progressShown = false;
function progress(answered, total, startedAt) {
  if (!process.stderr.isTTY) return;
  progressShown = true;
  const seconds = (Date.now() - startedAt) / 1000;
  const share = total === Infinity ? seconds / (P.durationSeconds ?? 1) : answered / total;
  const width = 30;
  const filled = Math.min(width, Math.round(share * width));
  process.stderr.write(
    `\r  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.min(
      100,
      Math.round(share * 100),
    )
      .toString()
      .padStart(
        3,
      )}%  ${answered.toLocaleString('en')} answers  ${Math.round(answered / Math.max(seconds, 0.001)).toLocaleString('en')} req/s   `,
  );
}
function endProgress() {
  if (progressShown) process.stderr.write('\n');
  progressShown = false;
}

/**
 * Warm-up, off the clock: the same scenario, closed loop, on goods of its own (reads use the
 * measured goods: reading changes nothing). Returns the accepted ids, for the audit.
 */
async function warmUp(url, scenario) {
  const requests = Math.min(P.warmup, P.requests);
  if (requests === 0) return [];
  const result = await generator.run({
    url,
    connections: P.concurrency,
    requests,
    scenario,
  });
  // Let the per-user rate-limit windows (1 s) the warm-up filled expire before measuring.
  await new Promise((r) => setTimeout(r, 1100));
  return result.collected.flatMap((c) => c.ids ?? []);
}

/** Drive the load and turn what the generator saw into a run record. */
/**
 * The seconds of the run (from `startedAt`) in which Redis was rewriting its AOF, polled
 * every 250 ms: a rewrite forks a child that takes a core, and shows in the slowest answers.
 */
function watchAofRewrites(redis, startedAt) {
  const seconds = new Set();
  const timer = setInterval(async () => {
    const info = await redis.info('persistence').catch(() => '');
    if (/aof_rewrite_in_progress:1/.test(info))
      seconds.add(Math.floor((Date.now() - startedAt) / 1000));
  }, 250);
  return () => {
    clearInterval(timer);
    return [...seconds].sort((a, b) => a - b);
  };
}

async function drive(url, scenario, pids, redis) {
  const cpuOf = () => (pids.length > 0 ? pids.reduce((t, pid) => t + cpuSeconds(pid), 0) : NaN);
  const serverPids = infra.pids ?? {}; // servers this run started (none with --url)
  const serversCpu = () => ({
    machine: machineCpuSeconds(),
    redis: serverPids.redis ? treeCpuSeconds(serverPids.redis) : Number.NaN,
    postgres: serverPids.postgres ? treeCpuSeconds(serverPids.postgres) : Number.NaN,
  });
  const serversBefore = serversCpu();
  const cpuBefore = cpuOf();
  const startedAt = Date.now();
  const aofRewrites = redis ? watchAofRewrites(redis, startedAt) : () => null;
  const total = P.requests;
  const wrk = P.generator === 'wrk' && scenario.name !== 'hello';
  const result = wrk
    ? await runWrk({
        url,
        connections: P.concurrency,
        threads: P.workers,
        spec: scenario,
        requests: total,
      })
    : await generator.run({
        url,
        connections: P.concurrency,
        requests: total,
        durationSeconds: P.durationSeconds,
        rate: scenario.name === 'hello' ? undefined : P.rate,
        scenario,
        onProgress: (answered) => progress(answered, total, startedAt),
      });
  if (!wrk) endProgress();
  const aofRewriteSeconds = aofRewrites();
  const seconds = result.elapsedMs / 1000;
  const cpu = cpuOf() - cpuBefore;
  const serversAfter = serversCpu();
  const percentOf = (name) => {
    const used = serversAfter[name] - serversBefore[name];
    return Number.isNaN(used) ? null : Math.round((used / seconds) * 100);
  };
  // CPU a request cost, from the processes' own counters over the measured window: on a
  // shared machine it moves far less than requests per second (issue 24).
  const microsPerRequest = (cpuSeconds) =>
    Number.isNaN(cpuSeconds) || result.answered === 0
      ? null
      : Number(((cpuSeconds / result.answered) * 1e6).toFixed(1));
  return {
    result,
    run: {
      requests: result.answered,
      errors: result.errors,
      durationSeconds: Number(seconds.toFixed(3)),
      requestsPerSecond: Math.round(result.answered / seconds),
      // wrk gives its percentiles, not samples: no histogram, no per-kind split.
      ...(result.latencyMs
        ? { latencyMs: result.latencyMs, byKind: {}, latencyHistogram: [] }
        : latencySummary(result)),
      generator: wrk ? 'wrk' : 'bench',
      answers: result.codes,
      serviceCpuSeconds: Number.isNaN(cpu) ? null : Number(cpu.toFixed(2)),
      serviceCpuPercent: Number.isNaN(cpu) ? null : Math.round((cpu / seconds) * 100),
      serviceCpuMicrosPerRequest: microsPerRequest(cpu),
      redisCpuPercent: percentOf('redis'),
      redisCpuMicrosPerRequest: microsPerRequest(serversAfter.redis - serversBefore.redis),
      postgresCpuPercent: percentOf('postgres'),
      machineCpuPercent: percentOf('machine'),
      aofRewriteSeconds,
      throughput: result.perSecond.map((b, second) => ({ second, ...b })),
    },
  };
}

/**
 * The service as `npm start` runs it; with --writers N, an APP_ROLE=api process and N
 * APP_ROLE=writer processes (each ready once it says it runs).
 */
/**
 * --trace: a local OTLP/HTTP collector that takes every export and only counts its spans, so
 * the service pays for making and sending them and nothing else runs.
 */
let traceSink;
async function startTraceSink() {
  const { createServer } = await import('node:http');
  const sink = { spans: 0, url: '' };
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      sink.spans += (body.match(/"spanId"/g) ?? []).length;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${server.address().port}`;
  sink.close = () => new Promise((resolve) => server.close(resolve));
  return sink;
}

async function startService(env) {
  const main = join(root, 'dist', 'main.js');
  if (opt.trace) {
    traceSink ??= await startTraceSink();
    env = { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: traceSink.url };
  }
  const nodeArgs = [
    ...SERVICE_NODE_FLAGS,
    ...(opt.profile ? ['--cpu-prof', `--cpu-prof-dir=${opt.profile}`] : []),
  ];
  const split = P.writers > 0 && env.BOOKING_STRATEGY === 'redis';
  const processes = [
    await startProcess(
      main,
      { ...env, APP_ROLE: split ? 'api' : 'all' },
      { path: '/health/ready' },
      nodeArgs,
    ),
  ];
  try {
    for (let i = 0; split && i < P.writers; i++) {
      processes.push(
        await startProcess(
          main,
          { ...env, APP_ROLE: 'writer', LOG_LEVEL: 'info' },
          { text: 'TicketNest writer running' },
          nodeArgs,
        ),
      );
    }
  } catch (error) {
    await Promise.all(processes.map((p) => p.stop()));
    throw error;
  }
  return {
    url: processes[0].url,
    pids: processes.map((p) => p.pid),
    stop: () => Promise.all(processes.map((p) => p.stop())),
  };
}

/** One round of the scenario against one strategy, on a service of its own (or --url). */
/** One round of the scenario; `history`: on a database preloaded with --preload-bookings. */
async function scenarioRun(strategy, round, infra, history = false) {
  let databaseUrl = process.env.DATABASE_URL;
  let dbName;
  let prefix = process.env.REDIS_KEY_PREFIX ?? 'tn:';
  let secret = process.env.JWT_SECRET;
  const redisUrl = P.url ? process.env.REDIS_URL : infra.redisUrl;
  if (!P.url) {
    dbName = `tn_bench_${runId}_${strategy.replace('-', '')}_${round}${history ? '_h' : ''}`;
    await createDatabaseIfMissing(infra.adminUrl, dbName);
    databaseUrl = withDatabase(infra.adminUrl, dbName);
    await runMigrations(databaseUrl);
    prefix = `tn-bench-${runId}-${strategy}-${round}:`;
    secret = `bench-${randomBytes(24).toString('hex')}`;
  }
  const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const redis = createRedis(redisUrl, prefix);
  // A lost connection fails the query or command in hand, which fails the run; an idle
  // client's error (servers stopped by Ctrl-C) would otherwise crash the bench with a trace.
  db.on('error', () => undefined);
  redis.on('error', () => undefined);
  let preloadSeconds = null;
  if (history) {
    const started = Date.now();
    await insertHistory(db, { users: P.preloadUsers, bookings: P.preloadBookings });
    await db.query('CHECKPOINT');
    preloadSeconds = Math.round((Date.now() - started) / 100) / 10;
    say(
      `preloaded ${P.preloadBookings} bookings of ${P.preloadUsers} users in ${preloadSeconds} s`,
    );
  }
  const prepared = await prepare(db, secret);
  const startingAt = Date.now();
  const service = P.url
    ? { url: P.url, pids: [], stop: async () => undefined }
    : await startService({
        NODE_ENV: 'production',
        JWT_SECRET: secret,
        // Production requires one; the bench reads no /metrics.
        METRICS_TOKEN: process.env.METRICS_TOKEN ?? randomBytes(24).toString('hex'),
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: prefix,
        BOOKING_STRATEGY: strategy,
        LOG_LEVEL: 'warn',
        SEED_DEMO_DATA: 'false',
      });
  // Spawn to ready: migrations checked, Redis state rebuilt for unended sales, listening.
  const startupMs = P.url ? null : Date.now() - startingAt;
  try {
    const spec = { name: P.scenario, goodsIds: prepared.goodsIds, tokens: prepared.tokens };
    const warmGoods = P.scenario === 'read' ? prepared.goodsIds : prepared.warmGoodsIds;
    const warmIds = await warmUp(service.url, { ...spec, goodsIds: warmGoods });
    await waitForLog(redis, strategy);
    const { result, run } = await drive(service.url, spec, service.pids, redis);
    const lastAnswer = result.startEpochMs + result.elapsedMs;
    const lastWrite = await waitForLog(redis, strategy);
    const ids = result.collected.flatMap((c) => c.ids ?? []);
    const audit = await auditRun(
      db,
      strategy === 'redis' ? redis : undefined,
      prepared.goodsIds,
      ids,
    );
    // Every request sent again with its Idempotency-Key must get its first answer's booking.
    const byKey = new Map();
    for (const [key, id] of result.collected.flatMap((c) => c.keyed ?? [])) {
      const seen = byKey.get(key) ?? { ids: new Set(), answers: 0 };
      seen.ids.add(id);
      seen.answers++;
      byKey.set(key, seen);
    }
    const split = [...byKey.values()].filter((k) => k.ids.size > 1).length;
    if (split > 0)
      audit.problems.push(`${split} idempotency keys answered with different bookings`);
    const replays = [...byKey.values()].filter((k) => k.answers > 1 && k.ids.size === 1).length;
    const expected = expectedConfirmed(result.answered);
    if (expected !== undefined && audit.confirmedQuantity !== expected)
      audit.problems.push(`${audit.confirmedQuantity} confirmed, expected ${expected}`);
    if (P.scenario !== 'read') {
      const warm = await auditRun(
        db,
        strategy === 'redis' ? redis : undefined,
        prepared.warmGoodsIds,
        warmIds,
      );
      warm.problems.forEach((p) => audit.problems.push(`warm-up: ${p}`));
    }
    const fivexx = Object.entries(result.codes)
      .filter(([k]) => k.startsWith('5') || k.startsWith('0') || k.endsWith(' UNSOLICITED'))
      .reduce((n, [, v]) => n + v, 0);
    if (fivexx > 0) {
      audit.problems.push(`${fivexx} 5xx answers, broken connections or unsolicited answers`);
    }
    const books = P.scenario !== 'read';
    return {
      target: history ? `${strategy} history` : strategy,
      round,
      ...run,
      startupMs,
      preloadSeconds,
      ...(books
        ? {
            confirmed: audit.confirmedQuantity,
            idempotentReplays: replays,
            durableConfirmationsPerSecond: Math.round(
              (audit.confirmedQuantity * 1000) / Math.max(1, lastWrite - result.startEpochMs),
            ),
            lastWriteAfterLastAnswerMs: Math.max(0, Math.round(lastWrite - lastAnswer)),
            commitLagMs: await commitLag(db, prepared.goodsIds),
          }
        : {}),
      audit: { ok: audit.problems.length === 0, problems: audit.problems },
    };
  } finally {
    await service.stop();
    if (P.url) await unprepare(db, redis, prepared, prefix);
    await redis.quit();
    await db.end();
    if (!P.url) {
      // Leave nothing behind on servers we were given: this run's keys and database go.
      await deleteKeys(infra.redisUrl, prefix);
      await dropDatabases(infra.adminUrl, dbName);
    }
  }
}

/** A bare Fastify hello in its own process, loaded the same way: the ceiling. */
async function helloRun(round) {
  const hello = await startProcess(join(root, 'scripts', 'bench', 'hello.mjs'), {}, { path: '/' });
  try {
    await warmUp(hello.url, { name: 'hello' });
    const { run } = await drive(hello.url, { name: 'hello' }, [hello.pid]);
    return { target: 'hello', round, ...run, audit: { ok: true, problems: [] } };
  } finally {
    await hello.stop();
  }
}

const infra = P.url
  ? { stop: async () => undefined }
  : await provisionServers({ dataDir: join(root, '.data', 'bench') });
cleanUpOnSignals(cleanups);
cleanups.unshift(infra.stop);
// One set of generator threads for every load of this run: warm-ups compile their code.
const generator = new LoadGenerator(P.workers);
cleanups.unshift(() => generator.close());
if (!P.url && !process.env.DATABASE_URL) await dropDatabases(infra.adminUrl, 'tn_bench_');
if (!P.url && !process.env.REDIS_URL) {
  // Our own servers keep their data under .data/bench between runs. A run that was killed
  // before its clean-up left its keys there: 620k booking hashes from 7 interrupted runs made
  // every later run slower (a 500 MB AOF to load, expiry work during the run). Start clean.
  const leftover = createRedis(infra.redisUrl, '');
  await leftover.flushall();
  await leftover.bgrewriteaof(); // and an AOF of that nothing, not of the history
  await leftover.quit();
}
const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  loadBefore: os.loadavg().map((l) => Number(l.toFixed(2))),
  node: process.version,
  generatorThreads: P.workers,
};
say(
  `${P.scenario}: ${P.requests === Infinity ? `${P.durationSeconds} s` : `${P.requests} requests`}${P.rate ? ` at ${P.rate}/s` : ''}, ${P.users} users, concurrency ${P.concurrency}${P.writers ? `, writer processes ${P.writers}` : ''}; ` +
    `${P.strategies.join(', ')} × ${P.rounds}${opt.baseline ? ' + hello' : ''}; load ${machine.loadBefore.join(' ')}`,
);
const runs = [];
try {
  for (let round = 1; round <= P.rounds; round++) {
    if (opt.baseline) {
      const h = await helloRun(round);
      runs.push(h);
      printRun(h);
    }
    for (const strategy of P.strategies) {
      for (const history of P.preloadBookings > 0 ? [false, true] : [false]) {
        const r = await scenarioRun(strategy, round, infra, history);
        runs.push(r);
        printRun(r);
      }
    }
  }
} finally {
  await generator.close();
  await infra.stop();
  await traceSink?.close();
}
if (traceSink) {
  say(`tracing on: ${traceSink.spans} spans reached the sink`);
}
const report = summarize({
  scenario: P.scenario,
  parameters: {
    ...P,
    requests: P.requests === Infinity ? null : P.requests,
    url: P.url ?? null,
    trace: opt.trace,
    spansExported: traceSink?.spans ?? null,
  },
  machine,
  runs,
});
printSummary(report);
// Reports go where --json / --html say; with neither, both go to bench-results/.
let { json: jsonFile, html: htmlFile } = opt;
if (!jsonFile && !htmlFile) {
  const stamp = report.createdAt.replace(/[:.]/g, '-');
  mkdirSync(join(root, 'bench-results'), { recursive: true });
  jsonFile = join(root, 'bench-results', `${P.scenario}-${stamp}.json`);
  htmlFile = join(root, 'bench-results', `${P.scenario}-${stamp}.html`);
}
if (jsonFile) writeFileSync(jsonFile, JSON.stringify(report, null, 2));
if (htmlFile) writeHtml(htmlFile, report);
say(`reports: ${[jsonFile, htmlFile].filter(Boolean).join(', ')}`);
if (!report.ok) {
  say(`AUDIT FAILED in ${runs.filter((r) => !r.audit.ok).length} run(s)`);
  process.exit(1);
}
