import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import Redis from 'ioredis';
import pg from 'pg';

import { createRedis } from '../../src/redis/redis.module';
import type { ScriptedRedis } from '../../src/redis/scripts';
import { TEST_JWT_SECRET } from './app';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', '..', 'scripts', 'cluster.mjs');
/**
 * Ports a cluster takes from its base, as scripts/lib/cluster.mjs's portLayout lays them out
 * (asked of it once: the layout has one home).
 */
const PORTS_PER_CLUSTER = ((): number => {
  const layout = pathToFileURL(join(__dirname, '..', '..', '..', 'scripts', 'lib', 'cluster.mjs'));
  const asked = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { portLayout } from ${JSON.stringify(layout.href)};
       console.log(Math.max(...Object.values(portLayout(0)).flat()) + 1);`,
    ],
    { encoding: 'utf8' },
  );
  const count = Number(asked.stdout.trim());
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`portLayout could not be read: ${asked.stderr}`);
  }
  return count;
})();
/** REDIS_KEY_PREFIX's default: the cluster has a Redis of its own. */
export const KEY_PREFIX = 'tn:';

export interface PartStatus {
  name: string;
  role: string | null;
  pid: number | null;
  address: string | null;
  healthy: boolean;
  /** APIs and writers: how often the cluster's supervisor has started it again. */
  restarts?: number;
}

/**
 * The cluster's connection strings with their passwords (cluster:up writes them to
 * secrets/connections.json, mode 600; scripts/lib/cluster.mjs writeConnections).
 */
export interface Connections {
  /** The superuser through Pgpool-II. */
  postgres: string;
  /** The superuser on each node, straight. */
  postgresNodes: string[];
  /** The schema's owner (migrations) and the services' role, through Pgpool-II. */
  owner: string;
  app: string;
  /** Redis as its operator (every command) and as the service (no administration). */
  redis: string;
  redisApp: string;
}

interface Ports {
  haproxy: number;
  stats: number;
  apis: number[];
  writers: number[];
  postgres: number[];
  pgpool: number;
  redis: number;
  prometheus: number;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port with the next PORTS_PER_CLUSTER ports all free. */
async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below Linux's ephemeral range (32768 and up): a port there can be taken by any
    // outgoing connection between this check and the part that binds it.
    const base = 10_000 + Math.floor(Math.random() * 1_200) * PORTS_PER_CLUSTER;
    const ports = Array.from({ length: PORTS_PER_CLUSTER }, (_, i) => base + i);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) {
      return base;
    }
  }
  throw new Error('no free range of ports for a cluster');
}

/**
 * A whole cluster of this test file's own (`npm run cluster` in a temporary directory, on
 * ports of its own), with clients for auditing it: PostgreSQL through Pgpool-II and Redis.
 */
export class TestCluster {
  readonly url: string;
  readonly db: pg.Pool;
  /** The service's Redis with its key prefix, as the service sees it. */
  readonly redis: ScriptedRedis;
  /** The same Redis without a prefix, for commands ioredis does not prefix (XINFO). */
  readonly rawRedis: Redis;

  readonly connections: Connections;

  private constructor(
    readonly dir: string,
    readonly ports: Ports,
  ) {
    this.url = `http://127.0.0.1:${ports.haproxy}`;
    this.connections = JSON.parse(
      readFileSync(join(dir, 'secrets', 'connections.json'), 'utf8'),
    ) as Connections;
    this.db = new pg.Pool({
      connectionString: `${this.connections.postgres}?application_name=ticketnest`,
      max: 4,
    });
    // Failovers end connections: a query fails, the pool makes a new one.
    this.db.on('error', () => undefined);
    this.redis = createRedis(this.connections.redis, KEY_PREFIX);
    this.redis.on('error', () => undefined); // Redis is restarted on purpose
    this.rawRedis = new Redis(this.connections.redis);
    this.rawRedis.on('error', () => undefined);
  }

  /**
   * Why a cluster cannot run here (a package this machine lacks and cannot install), or
   * undefined when it can.
   */
  static unavailableSync(): string | undefined {
    const check = spawnSync(process.execPath, [CLI, 'check', '--monitoring'], {
      encoding: 'utf8',
    });
    return check.status === 0
      ? undefined
      : `the cluster tests need Debian's packages: ${check.stderr.trim()}`;
  }

  /** `flags`: cluster:up's own, such as --monitoring. */
  static async up(env: Record<string, string> = {}, flags: string[] = []): Promise<TestCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'tn-cluster-'));
    chmodSync(dir, 0o755); // its PostgreSQL servers run as the postgres user
    const base = await freePortBase();
    try {
      const { clusterJson } = await TestCluster.cli(
        dir,
        ['up', '--ports', String(base), ...flags],
        env,
      );
      return new TestCluster(dir, JSON.parse(clusterJson) as Ports);
    } catch (error) {
      // Whatever did start is stopped: a half-made cluster must not outlive the test.
      await TestCluster.cli(dir, ['down']).catch(() => undefined);
      if (!process.env.TN_KEEP_CLUSTER) {
        rmSync(dir, { recursive: true, force: true });
      }
      throw error;
    }
  }

  private static async cli(
    dir: string,
    args: string[],
    env: Record<string, string> = {},
  ): Promise<{ stdout: string; clusterJson: string }> {
    const { stdout } = await run(process.execPath, [CLI, ...args, '--dir', dir], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        JWT_SECRET: TEST_JWT_SECRET,
        SEED_DEMO_DATA: 'false',
        // A dead writer's entries are claimed after 1 s, not 10.
        WRITER_CLAIM_IDLE: '1s',
        ...env,
      },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`cluster ${args.join(' ')}: ${error.stderr ?? error.message}`);
    });
    const json = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as {
      ports: unknown;
    };
    return { stdout, clusterJson: JSON.stringify(json.ports) };
  }

  /** One of the cluster's secrets (scripts/lib/cluster-secrets.mjs), as its parts read it. */
  secret(name: 'metrics-token' | 'stats-password' | 'jwt-secret'): string {
    return readFileSync(join(this.dir, 'secrets', name), 'utf8').trim();
  }

  /** What Prometheus sends to the APIs' and writers' /metrics. */
  metricsHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.secret('metrics-token')}` };
  }

  /** What Prometheus sends to HAProxy's stats frontend. */
  statsHeaders(): Record<string, string> {
    const basic = Buffer.from(`stats:${this.secret('stats-password')}`).toString('base64');
    return { authorization: `Basic ${basic}` };
  }

  async status(): Promise<PartStatus[]> {
    const { stdout } = await TestCluster.cli(this.dir, ['status', '--json']);
    return JSON.parse(stdout) as PartStatus[];
  }

  async part(name: string): Promise<PartStatus> {
    const part = (await this.status()).find((p) => p.name === name);
    if (!part) {
      throw new Error(`no part ${name}`);
    }
    return part;
  }

  /** The PostgreSQL node in a role now (primary, standby…). */
  async nodesIn(role: string): Promise<PartStatus[]> {
    return (await this.status()).filter((p) => p.name.startsWith('postgres-') && p.role === role);
  }

  /**
   * SIGKILL a part at once: for PostgreSQL its postmaster and every backend, as when its host
   * dies (a postmaster killed alone leaves backends that finish their work). Resolves with
   * the pid and the moment it was killed.
   */
  async kill(name: string): Promise<{ pid: number; at: number }> {
    const { pid } = await this.part(name);
    if (!pid) {
      throw new Error(`${name} is not running`);
    }
    const children = name.startsWith('postgres-') ? childrenOf(pid) : [];
    process.kill(pid, 'SIGKILL');
    children.forEach((child) => {
      try {
        process.kill(child, 'SIGKILL');
      } catch {
        // already gone
      }
    });
    return { pid, at: Date.now() };
  }

  async start(name: string): Promise<void> {
    await TestCluster.cli(this.dir, ['start', name]);
  }

  async stop(name: string): Promise<void> {
    await TestCluster.cli(this.dir, ['stop', name]);
  }

  async cluster(...args: string[]): Promise<string> {
    return (await TestCluster.cli(this.dir, args)).stdout;
  }

  /**
   * Stop everything and remove the directory: nothing of the test is left behind (with
   * TN_KEEP_CLUSTER=1 the directory and its logs stay, for reading a failure).
   */
  async down(): Promise<void> {
    await this.db.end().catch(() => undefined);
    this.redis.disconnect();
    this.rawRedis.disconnect();
    await TestCluster.cli(this.dir, ['down']).catch(() => undefined);
    this.reportCrashes();
    this.reportHaproxyLog();
    if (process.env.TN_KEEP_CLUSTER) {
      process.stderr.write(`cluster kept for reading: ${this.dir}\n`);
      return;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * HAProxy's log (servers marked down or up, and why; requests that ended abnormally, with
   * the termination state that says which side closed), the last lines in order: which API
   * left when, for a failure whose directory is about to go. The tests' own kills show too.
   */
  private reportHaproxyLog(): void {
    let log: string;
    try {
      log = readFileSync(join(this.dir, 'haproxy', 'haproxy.log'), 'utf8');
    } catch {
      return;
    }
    const lines = log.split('\n').filter((line) => line.trim() !== '');
    if (lines.length > 0) {
      process.stderr.write(`cluster haproxy.log, last lines:\n${lines.slice(-40).join('\n')}\n`);
    }
  }

  /**
   * A service process that died by itself (an uncaught error) left lines that are not JSON
   * log lines: its stack. They are printed before the directory goes, so a flaky failure in CI
   * still says what happened.
   */
  private reportCrashes(): void {
    const dir = join(this.dir, 'service');
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.log'));
    } catch {
      return; // the cluster never got as far as its service
    }
    for (const file of files) {
      const lines = readFileSync(join(dir, file), 'utf8').split('\n');
      const stray = lines.filter((line) => line.trim() !== '' && !line.startsWith('{'));
      if (stray.length > 0) {
        process.stderr.write(
          `cluster ${file} (not a log line: a crash?):\n${stray.slice(0, 30).join('\n')}\n`,
        );
      }
      // Warnings and errors, the last few: what an instance said while a test lost answers.
      const loud = lines.filter((line) => /^\{.*"level":(4|5|6)\d/.test(line));
      if (loud.length > 0) {
        process.stderr.write(`cluster ${file}, last warnings:\n${loud.slice(-8).join('\n')}\n`);
      }
    }
    const supervisor = join(this.dir, 'supervisor.log');
    if (existsSync(supervisor)) {
      process.stderr.write(`cluster supervisor.log:\n${readFileSync(supervisor, 'utf8')}`);
    }
  }
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Until `check` holds (a throw counts as not yet), or fail after `ms` saying `what`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) {
      throw new Error(`${what} within ${ms / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
