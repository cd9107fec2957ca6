// The scale-out topology on one host, from Debian's packages and deploy/'s templates:
// PostgreSQL primary + two synchronous standbys (repmgr, repmgrd), Pgpool-II, Redis with AOF,
// API and writer processes, HAProxy. Used by `npm run cluster` and by the cluster tests, each
// with its own directory and ports. Every part runs detached with a pid file, so `status` and
// `down` work from any later command.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

import {
  PG_ROLES,
  REDIS_USERS,
  pgPassword,
  pgpass,
  poolPasswd,
  redisUsers,
  roleVerifiers,
  secretsIn,
  statsUserlist,
} from './cluster-secrets.mjs';
import { markStopped, restartRecord } from './cluster-supervisor.mjs';
import { ensureCommand, root, SERVICE_NODE_FLAGS } from './services.mjs';

const PG_BINDIR = '/usr/lib/postgresql/15/bin';
const HOST = '127.0.0.1';
const DEPLOY = join(root, 'deploy');
/** Pgpool-II sends every query of this application_name to the primary (deploy/pgpool.conf). */
const APP_NAME = 'ticketnest';
/** …and balances this one's over the standbys (the APIs' DATABASE_READ_URL). */
const READ_APP_NAME = 'ticketnest-read';

/**
 * Prometheus's scrape authorization for the services' /metrics ({{METRICS_AUTH}}): the bearer
 * token in `file`, as the Prometheus that reads it finds it.
 */
export function metricsAuth(file) {
  return `    authorization:\n      credentials_file: ${file}`;
}

/** deploy/<template> with its {{NAME}} placeholders filled; a missing value is an error. */
export function renderTemplate(template, values) {
  const text = readFileSync(join(DEPLOY, template), 'utf8');
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_, key) => {
    if (!(key in values)) {
      throw new Error(`deploy/${template}: no value for {{${key}}}`);
    }
    return String(values[key]);
  });
}

/** pgpool.conf's BACKENDS: per node {host, port, data, name (its repmgr node_name)}. */
export function pgpoolBackends(nodes) {
  return nodes
    .map((n, i) =>
      [
        `backend_hostname${i} = '${n.host}'`,
        `backend_port${i} = ${n.port}`,
        `backend_weight${i} = 1`,
        `backend_data_directory${i} = '${n.data}'`,
        `backend_flag${i} = 'ALLOW_TO_FAILOVER'`,
        `backend_application_name${i} = '${n.name}'`,
      ].join('\n'),
    )
    .join('\n');
}

/** haproxy.cfg's SERVERS: one checked server line per API address; `extra` for every line. */
export function haproxyServers(addresses, extra = '') {
  return addresses
    .map((address, i) => `    server api-${i + 1} ${address} check${extra}`)
    .join('\n');
}

/**
 * Where each part listens. Without a base, the documented addresses (HAProxy on 8080, APIs on
 * 3001–3003); with one (tests), consecutive ports from it.
 */
export function portLayout(base) {
  if (base === undefined) {
    return {
      haproxy: 8080,
      stats: 8404,
      apis: [3001, 3002, 3003],
      postgres: [5441, 5442, 5443],
      pgpool: 9999,
      pcp: 9898,
      redis: 6390,
      prometheus: 9090,
      postgresExporters: [9187, 9188, 9189],
      redisExporter: 9121,
      writers: [3011, 3012],
    };
  }
  return {
    haproxy: base,
    stats: base + 1,
    apis: [base + 2, base + 3, base + 4],
    postgres: [base + 5, base + 6, base + 7],
    pgpool: base + 8,
    pcp: base + 9,
    redis: base + 10,
    prometheus: base + 11,
    postgresExporters: [base + 12, base + 13, base + 14],
    redisExporter: base + 15,
    writers: [base + 16, base + 17],
  };
}

/**
 * The service's secrets as an operator may give them (`JWT_SECRET=… npm run cluster:up`): the
 * cluster keeps them in files (serviceEnv), and no process it starts inherits them.
 */
const SECRET_ENV = [
  'DATABASE_URL',
  'DATABASE_READ_URL',
  'REDIS_URL',
  'JWT_SECRET',
  'METRICS_TOKEN',
  'ADMIN_PASSWORD',
];

/** `env` without SECRET_ENV. */
function withoutSecrets(env) {
  const copy = { ...env };
  for (const name of SECRET_ENV) {
    delete copy[name];
  }
  return copy;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * What the cluster needs from Debian, installed with apt when we are root: the engines, and
 * with `monitoring` Prometheus and its exporters.
 */
export function ensureClusterPackages({ monitoring = false } = {}) {
  const advice = (pkg) => `Install it: \`sudo apt-get install ${pkg}\` (Debian 12 / Ubuntu).`;
  const packages = [
    ['haproxy', 'haproxy'],
    ['pgpool', 'pgpool2'],
    ['repmgr', 'postgresql-15-repmgr'],
    ['redis-server', 'redis-server'],
    ['openssl', 'openssl'], // the stats password's hash (cluster-secrets.mjs)
    ...(monitoring
      ? [
          ['prometheus', 'prometheus'],
          ['prometheus-postgres-exporter', 'prometheus-postgres-exporter'],
          ['prometheus-redis-exporter', 'prometheus-redis-exporter'],
        ]
      : []),
  ];
  for (const [command, pkg] of packages) {
    ensureCommand(command, pkg, advice(pkg));
  }
  if (!existsSync(join(PG_BINDIR, 'initdb'))) {
    throw new Error(`PostgreSQL 15 is not in ${PG_BINDIR}. ${advice('postgresql-15')}`);
  }
}

export class Cluster {
  /** @param {{dir: string, ports: ReturnType<typeof portLayout>, monitoring?: boolean}} settings */
  constructor({ dir, ports, monitoring = false }) {
    this.dir = dir;
    this.ports = ports;
    this.monitoring = monitoring;
  }

  /** The cluster in `dir`: its ports as first chosen, or `ports` for a new one. */
  static open(dir, ports) {
    const file = join(dir, 'cluster.json');
    if (existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, 'utf8'));
      // Parts added since it was made take this layout's ports.
      return new Cluster({ ...saved, ports: { ...ports, ...saved.ports } });
    }
    const cluster = new Cluster({ dir, ports });
    mkdirSync(dir, { recursive: true });
    cluster.save();
    return cluster;
  }

  save() {
    writeFileSync(
      this.path('cluster.json'),
      JSON.stringify({ dir: this.dir, ports: this.ports, monitoring: this.monitoring }, null, 2),
    );
  }

  path(...parts) {
    return join(this.dir, ...parts);
  }

  // ---- names and addresses --------------------------------------------------------------

  pgNodes() {
    return this.ports.postgres.map((port, i) => ({
      id: i + 1,
      name: `postgres-${i + 1}`,
      port,
      home: this.path(`postgres-${i + 1}`),
      data: this.path(`postgres-${i + 1}`, 'data'),
      log: this.path(`postgres-${i + 1}`, 'postgres.log'),
      repmgrConf: this.path(`postgres-${i + 1}`, 'repmgr.conf'),
      repmgrdPid: this.path(`postgres-${i + 1}`, 'repmgrd.pid'),
    }));
  }

  node(name) {
    const node = this.pgNodes().find((n) => n.name === name);
    if (!node) {
      throw new Error(`no PostgreSQL node named ${name}`);
    }
    return node;
  }

  /** The cluster's secrets (cluster-secrets.mjs), in its own directory of mode 700. */
  secrets() {
    return secretsIn(this.path('secrets'));
  }

  /**
   * A PostgreSQL URL with `role`'s password: through Pgpool-II unless `port` names a node.
   * The services get theirs in files (serviceEnv), never on a command line.
   */
  pgUrl({ role = PG_ROLES.app, port = this.ports.pgpool, database = 'ticketnest', appName } = {}) {
    const password = pgPassword(this.secrets(), role);
    const query = appName ? `?application_name=${appName}` : '';
    return `postgres://${role}:${password}@${HOST}:${port}/${database}${query}`;
  }

  /** What the services write with: the application role, its queries to the primary. */
  databaseUrl(appName = APP_NAME) {
    return this.pgUrl({ appName });
  }

  /** A Redis URL as one of REDIS_USERS. */
  redisUrl(user = REDIS_USERS.app) {
    const name = {
      [REDIS_USERS.app]: 'redis-app-password',
      [REDIS_USERS.operator]: 'redis-operator-password',
      [REDIS_USERS.monitor]: 'redis-monitor-password',
    }[user];
    return `redis://${user}:${this.secrets().get(name)}@${HOST}:${this.ports.redis}`;
  }

  /** The postgres user's .pgpass (cluster-secrets.mjs pgpass): repmgr and pg_rewind read it. */
  pgpassFile() {
    return this.path('pgpass');
  }

  publicUrl() {
    return `http://${HOST}:${this.ports.haproxy}`;
  }

  // ---- running as the postgres user ----------------------------------------------------

  /** PostgreSQL refuses to run as root: as root its tools run as `postgres`. */
  pgCommand(command, args) {
    const env = {
      ...withoutSecrets(process.env),
      PATH: `${PG_BINDIR}:${process.env.PATH}`,
      PGPASSFILE: this.pgpassFile(),
    };
    return isRoot()
      ? { command: 'runuser', args: ['-u', 'postgres', '--', command, ...args], env }
      : { command, args, env };
  }

  pgRun(command, args, { allowFailure = false, log, input } = {}) {
    const c = this.pgCommand(command, args);
    if (log && !existsSync(log)) {
      this.pgFile(log, ''); // the server it starts appends to it as postgres
    }
    const out = log ? openSync(log, 'a') : 'pipe';
    const result = spawnSync(c.command, c.args, {
      env: c.env,
      cwd: '/',
      stdio: [input === undefined ? 'ignore' : 'pipe', out, out],
      input,
      encoding: 'utf8',
    });
    if (log) {
      closeSync(out);
    }
    if (result.status !== 0 && !allowFailure) {
      const said = log ? `see ${log}` : `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
      throw new Error(`${command} ${args.join(' ')} failed: ${said}`);
    }
    return result;
  }

  /** A directory the postgres user owns (as root), so its servers can write there. */
  pgDir(path) {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    if (isRoot()) {
      const { uid, gid } = pgUser();
      chownSync(path, uid, gid);
    }
  }

  pgFile(path, text, mode = 0o644) {
    writeFileSync(path, text, { mode });
    chmodSync(path, mode); // an existing file keeps its mode otherwise
    if (isRoot()) {
      const { uid, gid } = pgUser();
      chownSync(path, uid, gid);
    }
  }

  /** Detached, with its output in `log`: it outlives this command. */
  launch(command, args, { log, env = process.env, asPostgres = false, pidFile }) {
    const c = asPostgres
      ? this.pgCommand(command, args)
      : { command, args, env: withoutSecrets(env) };
    if (asPostgres && !existsSync(log)) {
      this.pgFile(log, '');
    }
    const fd = openSync(log, 'a');
    const child = spawn(c.command, c.args, {
      env: asPostgres ? { ...c.env, ...withoutSecrets(env) } : c.env,
      cwd: root,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    child.unref();
    if (pidFile) {
      writeFileSync(pidFile, `${child.pid}\n`);
    }
    return child.pid;
  }

  // ---- templates ------------------------------------------------------------------------

  render(template, values) {
    return renderTemplate(template, values);
  }

  writePgNodeConfig(node) {
    this.pgFile(this.pgpassFile(), pgpass(this.secrets()), 0o600);
    this.pgFile(
      join(node.home, 'postgresql.cluster.conf'),
      this.render('postgresql.conf', { LISTEN: HOST, PORT: node.port, SOCKET_DIR: node.home }),
    );
    this.pgFile(
      node.repmgrConf,
      this.render('repmgr.conf', {
        NODE_ID: node.id,
        NODE_NAME: node.name,
        HOST,
        PORT: node.port,
        DATA_DIR: node.data,
        PG_BINDIR,
        LOG_FILE: join(node.home, 'repmgr.log'),
        PG_LOG_FILE: node.log,
        PID_FILE: node.repmgrdPid,
        CONFIG_FILE: node.repmgrConf,
        PASSFILE: this.pgpassFile(),
      }),
    );
  }

  /** initdb's own files point at ours: the shared fragment and the access rules. */
  adoptDataDir(node) {
    const conf = join(node.data, 'postgresql.conf');
    const text = readFileSync(conf, 'utf8');
    if (!text.includes('postgresql.cluster.conf')) {
      this.pgFile(conf, `${text}\ninclude '../postgresql.cluster.conf'\n`);
    }
    this.pgFile(
      join(node.data, 'pg_hba.conf'),
      this.render('pg_hba.conf', { PEERS: `${HOST}/32` }),
    );
  }

  // ---- PostgreSQL -----------------------------------------------------------------------

  pgStart(node, { options = [], fenced = false } = {}) {
    const opts = [...options];
    if (fenced) {
      // An old primary: up, readable for inspection, but it takes no write until rejoined.
      opts.push('-c default_transaction_read_only=on', "-c synchronous_standby_names=''");
    }
    const args = ['-w', '-t', '60', '-D', node.data, '-l', node.log];
    if (opts.length > 0) {
      args.push('-o', opts.join(' '));
    }
    this.pgRun(join(PG_BINDIR, 'pg_ctl'), [...args, 'start'], { log: node.log });
  }

  pgStop(node, mode = 'fast') {
    if (this.pgPid(node) === undefined) {
      return;
    }
    this.pgRun(join(PG_BINDIR, 'pg_ctl'), ['-w', '-t', '60', '-D', node.data, '-m', mode, 'stop'], {
      log: node.log,
      allowFailure: true,
    });
  }

  /** The postmaster's pid while it runs. */
  pgPid(node) {
    const file = join(node.data, 'postmaster.pid');
    if (!existsSync(file)) {
      return undefined;
    }
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return alive(pid) ? pid : undefined;
  }

  timeline(node) {
    const out = this.pgRun(join(PG_BINDIR, 'pg_controldata'), ['-D', node.data]).stdout;
    return Number(/Latest checkpoint's TimeLineID:\s+(\d+)/.exec(out)?.[1] ?? 0);
  }

  /** psql's arguments for the superuser over `node`'s local socket (pg_hba: trusted). */
  localPsql(node, database = 'postgres') {
    return ['-X', '-h', node.home, '-p', String(node.port), '-U', 'postgres', '-d', database];
  }

  psql(node, sql, database = 'postgres') {
    return this.pgRun('psql', [
      ...this.localPsql(node, database),
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      sql,
    ]);
  }

  /** deploy/roles.sql on the primary (psql reads it from stdin: no secret on a command line). */
  applyRoles(node) {
    this.pgRun('psql', [...this.localPsql(node), '-q', '-f', '-'], {
      input: this.render('roles.sql', roleVerifiers(this.secrets())),
    });
  }

  repmgr(node, args, options) {
    return this.pgRun('repmgr', ['-f', node.repmgrConf, ...args], options);
  }

  startRepmgrd(node) {
    if (alive(readPid(node.repmgrdPid))) {
      return;
    }
    this.pgRun('repmgrd', ['-f', node.repmgrConf, '--daemonize=true'], {
      log: join(node.home, 'repmgr.log'),
    });
  }

  stopRepmgrd(node) {
    stopPid(readPid(node.repmgrdPid));
  }

  /** The first node, made primary: initdb, the repmgr user and database, registration. */
  bootstrapPrimary(node, say) {
    say(`${node.name}: initdb (primary)`);
    this.pgRun(join(PG_BINDIR, 'initdb'), [
      '-D',
      node.data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
    ]);
    this.adoptDataDir(node);
    // Until a standby streams, a synchronous commit would wait for ever.
    this.pgStart(node, { options: ["-c synchronous_standby_names=''"] });
    this.applyRoles(node);
    this.repmgr(node, ['primary', 'register', '--force']);
  }

  cloneStandby(node, primary, say) {
    say(`${node.name}: cloning from ${primary.name} (standby)`);
    rmSync(node.data, { recursive: true, force: true });
    this.repmgr(node, [
      '-h',
      HOST,
      '-p',
      String(primary.port),
      '-U',
      'repmgr',
      '-d',
      'repmgr',
      'standby',
      'clone',
      '--fast-checkpoint',
    ]);
    this.pgStart(node);
    this.repmgr(node, ['standby', 'register', '--force', '--wait-sync=30']);
  }

  /**
   * Which node is the primary. A running node that is out of recovery and takes writes is it
   * (right after a promotion the control file may still name the old timeline). With none
   * running: of the nodes that are not standbys, the one on the newest timeline (a promoted
   * standby moved to a new one). The others are old primaries: fenced until rejoined.
   */
  pgRoles() {
    const nodes = this.pgNodes().filter((n) => existsSync(join(n.data, 'PG_VERSION')));
    const standbys = nodes.filter((n) => existsSync(join(n.data, 'standby.signal')));
    const candidates = nodes.filter((n) => !standbys.includes(n));
    const live = candidates.find((n) => this.liveRole(n) === 'primary');
    const primaries = live
      ? [live, ...candidates.filter((n) => n !== live)]
      : candidates
          .map((n) => ({ node: n, timeline: this.timeline(n) }))
          .sort((a, b) => b.timeline - a.timeline)
          .map((p) => p.node);
    return {
      primary: primaries[0],
      fenced: primaries.slice(1),
      standbys,
      missing: this.pgNodes().filter((n) => !nodes.some((m) => m.name === n.name)),
    };
  }

  /** primary, standby or fenced, asked of the running node; undefined when it is not running. */
  liveRole(node) {
    if (this.pgPid(node) === undefined) {
      return undefined;
    }
    const result = this.pgRun(
      'psql',
      [
        ...this.localPsql(node),
        '-A',
        '-t',
        '-c',
        `SELECT CASE WHEN pg_is_in_recovery() THEN 'standby'
                     WHEN current_setting('default_transaction_read_only') = 'on' THEN 'fenced'
                     ELSE 'primary' END`,
      ],
      { allowFailure: true },
    );
    return result.status === 0 ? result.stdout.trim() : undefined;
  }

  /** Every PostgreSQL node running, in its role; repmgrd beside each but the fenced ones. */
  upPostgres(say) {
    for (const node of this.pgNodes()) {
      this.pgDir(node.home);
      this.writePgNodeConfig(node);
      if (existsSync(join(node.data, 'PG_VERSION'))) {
        // Access rules as deploy/ has them now (a node made before, started next, reads them).
        this.adoptDataDir(node);
      }
    }
    let roles = this.pgRoles();
    if (!roles.primary) {
      if (roles.standbys.length > 0) {
        throw new Error(
          'no PostgreSQL node is a primary (only standbys have data): promote one by hand (repmgr standby promote)',
        );
      }
      const first = this.pgNodes()[0];
      this.bootstrapPrimary(first, say);
      for (const node of this.pgNodes().slice(1)) {
        this.cloneStandby(node, first, say);
      }
      // Synchronous replication from here on.
      this.pgStop(first);
      this.pgStart(first);
      roles = this.pgRoles();
    }
    const { primary, standbys, fenced, missing } = roles;
    if (this.pgPid(primary) === undefined) {
      say(`${primary.name}: starting (primary)`);
      this.pgStart(primary);
    }
    for (const node of standbys) {
      if (this.pgPid(node) === undefined) {
        say(`${node.name}: starting (standby)`);
        this.pgStart(node);
      }
    }
    for (const node of missing) {
      this.cloneStandby(node, primary, say);
    }
    for (const node of fenced) {
      // Its repmgrd (still running when only PostgreSQL died) would act for an old primary.
      this.stopRepmgrd(node);
      if (this.pgPid(node) === undefined) {
        say(
          `${node.name}: an old primary: starting fenced (read-only) until the supervisor rejoins it as a standby`,
        );
        this.pgStart(node, { fenced: true });
      }
    }
    for (const node of [primary, ...standbys, ...missing]) {
      this.startRepmgrd(node);
    }
    // Every start: roles and passwords as deploy/roles.sql says (a cluster made before it, or
    // a password file replaced, is brought in line).
    this.applyRoles(primary);
  }

  /**
   * An old primary back as a standby of the current primary: stopped cleanly (pg_rewind needs
   * that), rewound, following. Pgpool-II re-attaches it by itself (auto_failback).
   */
  rejoin(name, say) {
    const node = this.node(name);
    const { primary } = this.pgRoles();
    if (!primary || primary.name === name) {
      throw new Error(`${name} is the primary: nothing to rejoin`);
    }
    this.stopRepmgrd(node);
    if (!this.rewind(node, primary, say)) {
      // A node that cannot be rewound (one started as a standby on its diverged WAL before
      // it was rewound) is copied afresh: slower, never wrong.
      say(`${name}: could not be rewound; cloning it from ${primary.name} instead`);
      this.pgStop(node, 'immediate');
      this.cloneStandby(node, primary, say);
    } else if (this.pgPid(node) === undefined) {
      this.pgStart(node);
    }
    this.startRepmgrd(node);
    this.attachStandbys(say);
  }

  /** repmgr node rejoin with pg_rewind; false when it could not be done. */
  rewind(node, primary, say) {
    try {
      if (this.pgPid(node) === undefined) {
        // A crashed node must finish crash recovery before pg_rewind will read it.
        this.pgStart(node, { fenced: true });
      }
      this.pgStop(node);
      // pg_rewind reads the source's timeline from its control file, which a promoted standby
      // updates only at its next checkpoint: without one it sees "the same timeline", rewinds
      // nothing, and the node can never follow.
      this.psql(primary, 'CHECKPOINT');
      say(
        `${node.name}: rewinding and following ${primary.name} (repmgr's words in ${join(node.home, 'repmgr.log')})`,
      );
      this.repmgr(
        node,
        [
          'node',
          'rejoin',
          '-d',
          `host=${HOST} port=${primary.port} user=repmgr dbname=repmgr`,
          '--force-rewind',
          '--no-wait',
          '--verbose',
        ],
        { log: join(node.home, 'repmgr.log') },
      );
      return true;
    } catch {
      return false;
    }
  }

  // ---- Pgpool-II, Redis ----------------------------------------------------------------

  /**
   * Attach to Pgpool-II every standby that streams but is detached: one restarted or rejoined
   * while Pgpool ran. (auto_failback does it too, but not for a node detached before Pgpool's
   * own start.) An old primary streams from nobody, so it is never attached.
   */
  attachStandbys(say) {
    const files = this.pgpoolFiles();
    if (!alive(readPid(files.pid))) {
      return;
    }
    const shown = spawnSync(
      'psql',
      [
        '-X',
        '-A',
        '-t',
        '-F',
        ' ',
        '-h',
        HOST,
        '-p',
        String(this.ports.pgpool),
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-c',
        'SHOW pool_nodes',
      ],
      { encoding: 'utf8', env: { ...process.env, PGPASSFILE: this.pgpassFile() } },
    );
    if (shown.status !== 0) {
      return;
    }
    const passFile = join(files.home, 'pcppass');
    writeFileSync(
      passFile,
      `${HOST}:${this.ports.pcp}:pcp:${this.secrets().get('pcp-password')}\n`,
      { mode: 0o600 },
    );
    for (const line of shown.stdout.trim().split('\n')) {
      const [id, , port, status] = line.split(' ');
      const node = this.pgNodes().find((n) => String(n.port) === port);
      if (node && status === 'down' && this.liveRole(node) === 'standby') {
        say(`pgpool: attaching ${node.name}`);
        spawnSync(
          'pcp_attach_node',
          ['-h', HOST, '-p', String(this.ports.pcp), '-U', 'pcp', '-w', '-n', id],
          {
            env: { ...process.env, PCPPASSFILE: passFile },
            stdio: 'ignore',
          },
        );
      }
    }
  }

  pgpoolFiles() {
    const home = this.path('pgpool');
    return {
      home,
      conf: join(home, 'pgpool.conf'),
      pcp: join(home, 'pcp.conf'),
      hba: join(home, 'pool_hba.conf'),
      pid: join(home, 'pgpool.pid'),
      log: join(home, 'pgpool.log'),
    };
  }

  upPgpool(say) {
    const files = this.pgpoolFiles();
    if (alive(readPid(files.pid))) {
      return;
    }
    this.pgDir(files.home);
    const backends = pgpoolBackends(this.pgNodes().map((n) => ({ ...n, host: HOST })));
    this.pgFile(
      files.conf,
      this.render('pgpool.conf', {
        LISTEN: HOST,
        PORT: this.ports.pgpool,
        PCP_PORT: this.ports.pcp,
        SOCKET_DIR: files.home,
        PID_FILE: files.pid,
        STATE_DIR: files.home,
        BACKENDS: backends,
      }),
    );
    const secrets = this.secrets();
    const pcpPassword = secrets.get('pcp-password');
    this.pgFile(files.pcp, `pcp:${createHash('md5').update(pcpPassword).digest('hex')}\n`, 0o600);
    this.pgFile(join(files.home, 'pool_passwd'), poolPasswd(secrets), 0o600);
    this.pgFile(files.hba, this.render('pool_hba.conf', { PEERS: `${HOST}/32` }));
    // Which nodes Pgpool-II starts with attached: the primary and the streaming standbys, never
    // an old primary (its pgpool_status would otherwise keep a node that was down once
    // detached for good: auto_failback re-attaches only nodes it detached itself).
    const { primary } = this.pgRoles();
    this.pgFile(
      join(files.home, 'pgpool_status'),
      this.pgNodes()
        .map((n) => (n.name === primary?.name || this.liveRole(n) === 'standby' ? 'up' : 'down'))
        .join('\n') + '\n',
    );
    say('pgpool: starting');
    this.launch('pgpool', ['-n', '-f', files.conf, '-F', files.pcp, '-a', files.hba], {
      log: files.log,
      asPostgres: true,
      pidFile: join(files.home, 'launched.pid'),
    });
  }

  upRedis(say) {
    const home = this.path('redis');
    const pid = join(home, 'redis.pid');
    if (alive(readPid(pid))) {
      return;
    }
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const conf = join(home, 'redis.conf');
    writeFileSync(
      conf,
      this.render('redis.conf', {
        LISTEN: HOST,
        PORT: this.ports.redis,
        DATA_DIR: home,
        PID_FILE: pid,
        LOG_FILE: join(home, 'redis.log'),
        USERS: redisUsers(this.secrets()),
      }),
      { mode: 0o600 },
    );
    say('redis: starting (AOF everysec)');
    const result = spawnSync('redis-server', [conf], {
      stdio: 'inherit',
      env: withoutSecrets(process.env),
    });
    if (result.status !== 0) {
      throw new Error(`redis-server failed: see ${join(home, 'redis.log')}`);
    }
  }

  /**
   * A secret the operator may give in the environment (JWT_SECRET, METRICS_TOKEN): then it is
   * the one kept in its file, else the file's own. Returns the file.
   */
  givenOrKept(name, given) {
    const secrets = this.secrets();
    if (given) {
      secrets.write(name, given);
    }
    secrets.get(name);
    return secrets.file(name);
  }

  /**
   * Where the operator's connection strings are (mode 600): psql and redis-cli as the
   * superuser and Redis's operator, and the tests' audits.
   */
  writeConnections() {
    const secrets = this.secrets();
    return secrets.write(
      'connections.json',
      JSON.stringify(
        {
          postgres: this.pgUrl({ role: PG_ROLES.superuser }),
          postgresNodes: this.ports.postgres.map((port) =>
            this.pgUrl({ role: PG_ROLES.superuser, port }),
          ),
          owner: this.pgUrl({ role: PG_ROLES.owner }),
          app: this.databaseUrl(),
          redis: this.redisUrl(REDIS_USERS.operator),
          redisApp: this.redisUrl(),
        },
        null,
        2,
      ),
    );
  }

  // ---- the service ------------------------------------------------------------------

  serviceParts() {
    const apis = this.ports.apis.map((port, i) => ({
      name: `api-${i + 1}`,
      role: 'api',
      port,
    }));
    const writers = this.ports.writers.map((metricsPort, i) => ({
      name: `writer-${i + 1}`,
      role: 'writer',
      metricsPort,
    }));
    return [...writers, ...apis];
  }

  serviceEnv(part) {
    const secrets = this.secrets();
    // Every secret in a file of mode 600 (NAME_FILE, src/config/env.schema.ts): none in the
    // environment /proc shows, none on a command line.
    const env = withoutSecrets(process.env);
    Object.assign(env, {
      APP_ROLE: part.role,
      INSTANCE_ID: part.name,
      HOST,
      DATABASE_URL_FILE: secrets.write('database-url', this.databaseUrl()),
      REDIS_URL_FILE: secrets.write('redis-url', this.redisUrl()),
      // Behind HAProxy: client addresses come from the X-Forwarded-For HAProxy (on this host)
      // writes, and the page's origin is HAProxy's, not the instance's own Host.
      TRUST_PROXY: HOST,
      PUBLIC_ORIGIN:
        process.env.PUBLIC_ORIGIN ?? `${this.publicUrl()},http://localhost:${this.ports.haproxy}`,
      JWT_SECRET_FILE: this.givenOrKept('jwt-secret', process.env.JWT_SECRET),
      METRICS_TOKEN_FILE: this.givenOrKept('metrics-token', process.env.METRICS_TOKEN),
      // 5 processes × 10 stay well inside Pgpool-II's children (deploy/pgpool.conf).
      DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? '10',
      SEED_DEMO_DATA: 'false',
    });
    if (process.env.ADMIN_PASSWORD) {
      secrets.write('admin-password', process.env.ADMIN_PASSWORD);
    }
    if (existsSync(secrets.file('admin-password'))) {
      env.ADMIN_PASSWORD_FILE = secrets.file('admin-password');
    }
    if (part.port) {
      env.PORT = String(part.port);
      // Catalogue reads that miss the cache go to a standby that has replayed the last edit.
      env.DATABASE_READ_URL_FILE = secrets.write(
        'database-read-url',
        process.env.DATABASE_READ_URL ?? this.databaseUrl(READ_APP_NAME),
      );
    }
    if (part.metricsPort) {
      env.METRICS_PORT = String(part.metricsPort);
    }
    return env;
  }

  partPidFile(name) {
    return this.path('service', `${name}.pid`);
  }

  startService(part) {
    mkdirSync(this.path('service'), { recursive: true });
    markStopped(this, part.name, false);
    if (alive(readPid(this.partPidFile(part.name)))) {
      return;
    }
    this.launch(process.execPath, [...SERVICE_NODE_FLAGS, join(root, 'dist', 'main.js')], {
      log: this.path('service', `${part.name}.log`),
      env: this.serviceEnv(part),
      pidFile: this.partPidFile(part.name),
    });
  }

  /** The cluster's supervisor (cluster-supervisor.mjs): dead APIs and writers come back. */
  upSupervisor(say) {
    const pidFile = this.path('supervisor.pid');
    if (alive(readPid(pidFile))) {
      return;
    }
    say('supervisor: starting');
    this.launch(
      process.execPath,
      [join(root, 'scripts', 'cluster.mjs'), 'supervise', '--dir', this.dir],
      { log: this.path('supervisor.log'), pidFile },
    );
  }

  /** Migrations (and the demo data outside production) once, before any instance starts. */
  async prepareDatabase(say) {
    const { createRequire } = await import('node:module');
    const load = createRequire(import.meta.url);
    // Migrations as the schema's owner; the services, as the application role, cannot change it.
    const url = this.pgUrl({ role: PG_ROLES.owner, appName: APP_NAME });
    const done = await retry(() =>
      load(join(root, 'dist', 'database', 'data-source.js')).runMigrations(url),
    );
    say(done.length ? `migrations applied: ${done.join(', ')}` : 'migrations: up to date');
    if (process.env.NODE_ENV !== 'production' && process.env.SEED_DEMO_DATA !== 'false') {
      const seeded = await load(join(root, 'dist', 'seed.js')).seedDemoData(url);
      if (seeded) {
        say('seeded the demo accounts and goods (README)');
      }
    }
  }

  upHaproxy(say) {
    const home = this.path('haproxy');
    const pidFile = join(home, 'haproxy.pid');
    if (alive(readPid(pidFile))) {
      return;
    }
    mkdirSync(home, { recursive: true });
    const conf = join(home, 'haproxy.cfg');
    writeFileSync(
      conf,
      this.render('haproxy.cfg', {
        STATS_USERS: statsUserlist(this.secrets()),
        LISTEN: HOST,
        PORT: this.ports.haproxy,
        STATS_PORT: this.ports.stats,
        PID_FILE: join(home, 'haproxy-master.pid'),
        STATE_DIR: home,
        ERRORS_DIR: join(DEPLOY, 'errors'),
        SERVERS: haproxyServers(this.ports.apis.map((port) => `${HOST}:${port}`)),
      }),
      { mode: 0o600 },
    );
    const check = spawnSync('haproxy', ['-c', '-q', '-f', conf], { encoding: 'utf8' });
    if (check.status !== 0) {
      throw new Error(`haproxy.cfg is not valid: ${check.stdout}${check.stderr}`);
    }
    say('haproxy: starting');
    this.launch('haproxy', ['-db', '-f', conf], { log: join(home, 'haproxy.log'), pidFile });
  }

  // ---- monitoring (npm run cluster:up -- --monitoring) -----------------------------------

  monitorParts() {
    const home = this.path('monitoring');
    const part = (name, port, ready) => ({
      name,
      kind: 'monitor',
      role: 'monitoring',
      port,
      ready,
      pidFile: join(home, `${name}.pid`),
      log: join(home, `${name}.log`),
      address: `${HOST}:${port}`,
    });
    return [
      ...this.ports.postgresExporters.map((port, i) =>
        part(`postgres-exporter-${i + 1}`, port, '/metrics'),
      ),
      part('redis-exporter', this.ports.redisExporter, '/metrics'),
      part('prometheus', this.ports.prometheus, '/-/ready'),
    ];
  }

  /** Prometheus (deploy/prometheus.yml) and the PostgreSQL and Redis exporters. */
  upMonitoring(say) {
    ensureClusterPackages({ monitoring: true });
    const home = this.path('monitoring');
    mkdirSync(join(home, 'data'), { recursive: true });
    const targets = (ports) => ports.map((p) => `'${HOST}:${p}'`).join(', ');
    const secrets = this.secrets();
    const auth = metricsAuth(this.givenOrKept('metrics-token', process.env.METRICS_TOKEN));
    const conf = join(home, 'prometheus.yml');
    copyFileSync(join(DEPLOY, 'alerts.yml'), join(home, 'alerts.yml'));
    writeFileSync(
      conf,
      this.render('prometheus.yml', {
        API_TARGETS: targets(this.ports.apis),
        WRITER_TARGETS: targets(this.ports.writers),
        HAPROXY_STATS: `${HOST}:${this.ports.stats}`,
        POSTGRES_EXPORTERS: targets(this.ports.postgresExporters),
        REDIS_EXPORTER: `${HOST}:${this.ports.redisExporter}`,
        METRICS_AUTH: auth,
        STATS_PASSWORD_FILE: secrets.file('stats-password'),
      }),
    );
    const parts = this.monitorParts();
    const prometheus = parts.pop();
    const redisExporter = parts.pop();
    const commands = [
      // One exporter beside each node, as on separate hosts (one exporter with several
      // DSNs answers 500: its collectors report each metric once per node under one name).
      ...parts.map((exporter, i) => [
        exporter,
        'prometheus-postgres-exporter',
        [`--web.listen-address=${exporter.address}`],
        {
          DATA_SOURCE_URI: `${HOST}:${this.ports.postgres[i]}/postgres?sslmode=disable`,
          DATA_SOURCE_USER: PG_ROLES.monitor,
          DATA_SOURCE_PASS_FILE: secrets.file('monitor-password'),
        },
      ]),
      [
        redisExporter,
        'prometheus-redis-exporter',
        [
          `--redis.addr=redis://${HOST}:${this.ports.redis}`,
          `--web.listen-address=${redisExporter.address}`,
        ],
        {
          REDIS_USER: REDIS_USERS.monitor,
          // redis_exporter's password file: a JSON map of address to password.
          REDIS_PASSWORD_FILE: secrets.write(
            'redis-exporter-passwords.json',
            JSON.stringify({
              [`redis://${HOST}:${this.ports.redis}`]: secrets.get('redis-monitor-password'),
            }),
          ),
        },
      ],
      [
        prometheus,
        'prometheus',
        [
          `--config.file=${conf}`,
          `--storage.tsdb.path=${join(home, 'data')}`,
          `--web.listen-address=${prometheus.address}`,
          '--storage.tsdb.retention.time=7d',
        ],
        {},
      ],
    ];
    for (const [part, command, args, env] of commands) {
      if (!alive(readPid(part.pidFile))) {
        say(`${part.name}: starting`);
        this.launch(command, args, {
          log: part.log,
          env: { ...process.env, ...env },
          pidFile: part.pidFile,
        });
      }
    }
  }

  // ---- whole cluster ----------------------------------------------------------------

  async up({ say, monitoring = false }) {
    ensureClusterPackages();
    for (const dir of ['service', 'haproxy']) {
      mkdirSync(this.path(dir), { recursive: true });
    }
    if (isRoot()) {
      // Its servers run as postgres: it must reach its directories.
      if (this.pgRun('test', ['-x', this.dir], { allowFailure: true }).status !== 0) {
        throw new Error(
          `the postgres user cannot enter ${this.dir}: let it (chmod o+x on it and its parents) or choose another --dir`,
        );
      }
    }
    this.upPostgres(say);
    this.upRedis(say);
    this.upPgpool(say);
    await waitFor('Pgpool-II', () => querySucceeds(this.databaseUrl()), 30_000);
    this.writeConnections();
    await this.prepareDatabase(say);
    for (const part of this.serviceParts()) {
      this.startService(part);
    }
    for (const part of this.serviceParts()) {
      const port = part.port ?? part.metricsPort;
      await waitFor(
        part.name,
        () => httpOk(`http://${HOST}:${port}/health/live`),
        60_000,
        this.path('service', `${part.name}.log`),
      );
    }
    this.upSupervisor(say);
    this.upHaproxy(say);
    await waitFor(
      'HAProxy',
      () => httpOk(`${this.publicUrl()}/health/ready`),
      30_000,
      this.path('haproxy', 'haproxy.log'),
    );
    if (monitoring && !this.monitoring) {
      this.monitoring = true;
      this.save();
    }
    if (this.monitoring) {
      this.upMonitoring(say);
      for (const part of this.monitorParts()) {
        await waitFor(
          part.name,
          () => httpOk(`http://${part.address}${part.ready}`),
          30_000,
          part.log,
        );
      }
    }
  }

  /** Every part, in start order. */
  parts() {
    const pgpool = this.pgpoolFiles();
    return [
      ...this.pgNodes().flatMap((n) => [
        { name: n.name, kind: 'postgres', node: n, address: `${HOST}:${n.port}` },
        { name: `repmgrd-${n.id}`, kind: 'repmgrd', node: n, role: 'failover' },
      ]),
      { name: 'redis', kind: 'redis', role: 'primary', address: `${HOST}:${this.ports.redis}` },
      {
        name: 'pgpool',
        kind: 'pgpool',
        role: 'pooler',
        pidFile: pgpool.pid,
        address: `${HOST}:${this.ports.pgpool}`,
      },
      ...this.serviceParts().map((p) => ({
        name: p.name,
        kind: 'service',
        part: p,
        role: p.role === 'api' ? 'api' : 'writer',
        pidFile: this.partPidFile(p.name),
        address: `${HOST}:${p.port ?? p.metricsPort}`,
      })),
      {
        name: 'supervisor',
        kind: 'supervisor',
        role: 'supervision',
        pidFile: this.path('supervisor.pid'),
      },
      {
        name: 'haproxy',
        kind: 'haproxy',
        role: 'balancer',
        pidFile: this.path('haproxy', 'haproxy.pid'),
        address: `${HOST}:${this.ports.haproxy}`,
      },
      ...(this.monitoring ? this.monitorParts() : []),
    ];
  }

  part(name) {
    const part = this.parts().find((p) => p.name === name);
    if (!part) {
      throw new Error(`no part named ${name} (see npm run cluster:status)`);
    }
    return part;
  }

  pidOf(part) {
    switch (part.kind) {
      case 'postgres':
        return this.pgPid(part.node);
      case 'repmgrd':
        return readPid(part.node.repmgrdPid);
      case 'redis':
        return readPid(this.path('redis', 'redis.pid'));
      default:
        return readPid(part.pidFile);
    }
  }

  async status() {
    return Promise.all(this.parts().map((part) => this.partStatus(part)));
  }

  async partStatus(part) {
    const pid = this.pidOf(part);
    const running = alive(pid);
    const base = { name: part.name, role: part.role ?? null, pid: running ? pid : null };
    const address = part.address ?? null;
    if (!running) {
      return {
        ...base,
        role: part.kind === 'postgres' ? 'down' : base.role,
        address,
        healthy: false,
        ...(['service', 'postgres'].includes(part.kind)
          ? { restarts: restartRecord(this, part.name).restarts }
          : {}),
      };
    }
    switch (part.kind) {
      case 'postgres': {
        const state = await pgState(
          this.pgUrl({ role: PG_ROLES.monitor, port: part.node.port, database: 'postgres' }),
        );
        // restarts: rejoins and starts by the supervisor (cluster-supervisor.mjs).
        return {
          ...base,
          role: state.role,
          address,
          healthy: state.healthy,
          restarts: restartRecord(this, part.name).restarts,
        };
      }
      case 'redis':
        return {
          ...base,
          role: 'primary',
          address,
          healthy: await redisPing(this.ports.redis, this.secrets().get('redis-monitor-password')),
        };
      case 'pgpool':
        return { ...base, address, healthy: await querySucceeds(this.databaseUrl()) };
      case 'haproxy':
        return { ...base, address, healthy: await httpOk(`${this.publicUrl()}/health/live`) };
      case 'service':
        return {
          ...base,
          address,
          healthy: await httpOk(`http://${address}/health/live`),
          restarts: restartRecord(this, part.name).restarts,
        };
      case 'monitor':
        return { ...base, address, healthy: await httpOk(`http://${address}${part.ready}`) };
      default:
        return { ...base, address, healthy: true };
    }
  }

  /** Start one stopped part again (after a test or an operator stopped it). */
  async start(name, { say }) {
    const part = this.part(name);
    switch (part.kind) {
      case 'postgres':
      case 'repmgrd':
        mkdirSync(this.path('service'), { recursive: true });
        markStopped(this, part.node.name, false);
        this.upPostgres(say);
        this.attachStandbys(say);
        break;
      case 'redis':
        this.upRedis(say);
        break;
      case 'pgpool':
        this.upPgpool(say);
        break;
      case 'service':
        this.startService(part.part);
        if (part.address) {
          await waitFor(part.name, () => httpOk(`http://${part.address}/health/live`), 60_000);
        }
        break;
      case 'haproxy':
        this.upHaproxy(say);
        break;
      case 'supervisor':
        this.upSupervisor(say);
        break;
      case 'monitor':
        this.upMonitoring(say);
        break;
    }
  }

  /** Stop one part: SIGTERM (PostgreSQL: a fast shutdown), SIGKILL after 15 s. */
  async stop(name) {
    const part = this.part(name);
    if (part.kind === 'postgres') {
      // Stopped on purpose: the supervisor neither starts nor rejoins it until `start`.
      mkdirSync(this.path('service'), { recursive: true });
      markStopped(this, name, true);
      this.pgStop(part.node);
      return;
    }
    if (part.kind === 'service') {
      markStopped(this, name, true); // stopped on purpose: the supervisor leaves it down
    }
    await stopPid(this.pidOf(part));
  }

  /** Everything, front to back: no request arrives at a part that is gone. */
  async down({ say }) {
    // repmgrd first: one still running while the primary stops would promote its standby.
    const parts = [...this.parts()].reverse();
    // The supervisor before that: it would start again the services being stopped.
    const first = ['supervisor', 'repmgrd'];
    const order = [
      ...parts.filter((p) => p.kind === 'supervisor'),
      ...parts.filter((p) => p.kind === 'repmgrd'),
      ...parts.filter((p) => !first.includes(p.kind)),
    ];
    for (const part of order) {
      if (alive(this.pidOf(part))) {
        say(`${part.name}: stopping`);
        await this.stop(part.name);
      }
    }
  }
}

let pgUserCache;
function pgUser() {
  if (!pgUserCache) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout);
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout);
    if (!uid) {
      throw new Error('there is no postgres user (apt-get install postgresql-15 makes one)');
    }
    pgUserCache = { uid, gid };
  }
  return pgUserCache;
}

export function readPid(file) {
  if (!file || !existsSync(file)) {
    return undefined;
  }
  // Pgpool-II ends its pid with a NUL byte.
  const pid = Number(
    readFileSync(file, 'utf8')
      .split(/[\n\0]/)[0]
      .trim(),
  );
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function alive(pid) {
  if (!pid) {
    return false;
  }
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (killed, not yet reaped by its parent) is gone for our purposes.
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !/^\d+ \(.*\) Z/.test(stat);
}

async function stopPid(pid, graceMs = 15_000) {
  if (!alive(pid)) {
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) {
    await sleep(100);
  }
  if (alive(pid)) {
    process.kill(pid, 'SIGKILL');
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Until `check` holds; else an error naming `what`, with the end of its `log` when given. */
async function waitFor(what, check, timeoutMs, log) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) {
      const tail = log && existsSync(log) ? readFileSync(log, 'utf8').slice(-1500) : '';
      throw new Error(
        `${what} is not ready after ${timeoutMs / 1000} s${tail ? ` (end of ${log}:\n${tail})` : ''}`,
      );
    }
    await sleep(250);
  }
}

async function retry(fn, attempts = 20) {
  for (let i = 1; ; i += 1) {
    try {
      return await fn();
    } catch (error) {
      if (i >= attempts) {
        throw error;
      }
      await sleep(500);
    }
  }
}

async function httpOk(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

async function withClient(connectionString, fn) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function querySucceeds(url) {
  return withClient(url, async (c) => {
    await c.query('SELECT 1');
    return true;
  }).catch(() => false);
}

/** primary, standby (healthy when streaming) or fenced (an old primary, read-only). */
async function pgState(url) {
  return withClient(url, async (c) => {
    const { rows } = await c.query(
      `SELECT pg_is_in_recovery() AS standby,
              current_setting('default_transaction_read_only') = 'on' AS fenced,
              (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver`,
    );
    const [r] = rows;
    if (r.standby) {
      return { role: 'standby', healthy: r.receiver === 'streaming' };
    }
    return r.fenced ? { role: 'fenced', healthy: true } : { role: 'primary', healthy: true };
  }).catch(() => ({ role: 'down', healthy: false }));
}

/** PING as the monitor user (deploy/redis.conf admits no one without a password). */
function redisPing(port, password) {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    socket.setTimeout(2000);
    const command = (...words) =>
      `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`;
    socket.once('connect', () =>
      socket.write(command('AUTH', REDIS_USERS.monitor, password) + command('PING')),
    );
    let said = '';
    socket.on('data', (data) => {
      said += data.toString();
      if (said.includes('+PONG') || said.startsWith('-') || said.split('\r\n').length > 2) {
        socket.destroy();
        resolve(said === '+OK\r\n+PONG\r\n');
      }
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
