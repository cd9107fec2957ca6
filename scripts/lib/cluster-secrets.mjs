// Who may reach the cluster's data stores, and with what (issue 23, M3): every password made
// here at random into files of mode 600, and what PostgreSQL, Pgpool-II, Redis, HAProxy and
// the exporters need of them. `cluster:up` and `cluster render` (compose) both come here, so
// one rule holds for both. A secret goes to a process in a file or its environment, never on
// its command line (`ps` shows that to every user).
import { spawnSync } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PostgreSQL roles (deploy/roles.sql says what each may do). */
export const PG_ROLES = {
  superuser: 'postgres',
  repmgr: 'repmgr',
  owner: 'ticketnest_owner',
  app: 'ticketnest_app',
  monitor: 'ticketnest_monitor',
};

/** Redis ACL users (redisUsers). */
export const REDIS_USERS = { app: 'ticketnest', operator: 'default', monitor: 'monitor' };

/** HAProxy's stats page and its Prometheus exporter: basic auth as this user. */
export const STATS_USER = 'stats';

/** Every secret, by the file name it has in the secrets directory. */
const SECRET_NAMES = [
  'postgres-password',
  'repmgr-password',
  'owner-password',
  'app-password',
  'monitor-password',
  'redis-app-password',
  'redis-operator-password',
  'redis-monitor-password',
  'pcp-password',
  'stats-password',
  'jwt-secret',
  'metrics-token',
  // Only when the operator gives ADMIN_PASSWORD (serviceEnv).
  'admin-password',
];

/**
 * The secrets in `dir` (mode 700), each made at random on first use and kept: a cluster
 * restarted keeps its passwords. `secrets.file(name)` is where one is; `secrets.get(name)` it.
 */
export function secretsIn(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name) => {
    if (!SECRET_NAMES.includes(name)) {
      throw new Error(`no secret named ${name}`);
    }
    return join(dir, name);
  };
  const get = (name) => {
    const path = file(name);
    if (!existsSync(path)) {
      // base64url: no character that needs quoting in a URL, a .pgpass line or a config file.
      writeFileSync(path, randomBytes(32).toString('base64url'), { mode: 0o600 });
    }
    return readFileSync(path, 'utf8').trim();
  };
  /** A derived file (a URL with a password in it), mode 600; returns its path. */
  const write = (name, text) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  return { dir, file, get, write };
}

/**
 * PostgreSQL's stored form of a password (SCRAM-SHA-256, RFC 5802/7677, as PostgreSQL's own
 * `password_encryption = scram-sha-256` makes it): ALTER ROLE … PASSWORD with it sends the
 * server no password in clear, so none can reach its log.
 */
export function scramVerifier(password, salt = randomBytes(16), iterations = 4096) {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const hmac = (text) => createHmac('sha256', salted).update(text).digest();
  const storedKey = createHash('sha256').update(hmac('Client Key')).digest('base64');
  const serverKey = hmac('Server Key').toString('base64');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey}:${serverKey}`;
}

/** deploy/roles.sql's values: a verifier of each role's password. */
export function roleVerifiers(secrets) {
  return {
    POSTGRES_VERIFIER: scramVerifier(secrets.get('postgres-password')),
    REPMGR_VERIFIER: scramVerifier(secrets.get('repmgr-password')),
    OWNER_VERIFIER: scramVerifier(secrets.get('owner-password')),
    APP_VERIFIER: scramVerifier(secrets.get('app-password')),
    MONITOR_VERIFIER: scramVerifier(secrets.get('monitor-password')),
  };
}

/** The password of a PostgreSQL role (PG_ROLES' values). */
export function pgPassword(secrets, role) {
  const name = {
    [PG_ROLES.superuser]: 'postgres-password',
    [PG_ROLES.repmgr]: 'repmgr-password',
    [PG_ROLES.owner]: 'owner-password',
    [PG_ROLES.app]: 'app-password',
    [PG_ROLES.monitor]: 'monitor-password',
  }[role];
  if (!name) {
    throw new Error(`no PostgreSQL role ${role}`);
  }
  return secrets.get(name);
}

/**
 * A .pgpass for the postgres user's tools (repmgr, repmgrd, pg_rewind, the walreceiver through
 * repmgr's `passfile`): the roles they log in as, on every host.
 */
export function pgpass(secrets) {
  return [PG_ROLES.superuser, PG_ROLES.repmgr, PG_ROLES.monitor]
    .map((role) => `*:*:*:${role}:${pgPassword(secrets, role)}`)
    .join('\n')
    .concat('\n');
}

/**
 * Pgpool-II's pool_passwd: with scram-sha-256 on both sides it must log in to PostgreSQL as
 * the client's user, so it keeps each password. `TEXT` marks one in clear (a random one could
 * otherwise start with `md5` or `AES` and be read as a hash).
 */
export function poolPasswd(secrets) {
  return Object.values(PG_ROLES)
    .map((role) => `${role}:TEXT${pgPassword(secrets, role)}`)
    .join('\n')
    .concat('\n');
}

/** Redis ACL lines: passwords as SHA-256 (`#…`), so the config file holds none in clear. */
export function redisUsers(secrets) {
  const hash = (name) => createHash('sha256').update(secrets.get(name)).digest('hex');
  return [
    // The operator is Redis's `default` user, with a password: no connection is served before
    // it AUTHs. Not `default off`: Redis replays the AOF as the default user and, before 8.0
    // (redis#14541; Debian 12 has 7.0), re-checks its permissions at each EXEC, so with it
    // off every Lua script's effects (MULTI/EXEC in the AOF) are dropped on restart.
    `user default on resetpass #${hash('redis-operator-password')} ~* &* +@all`,
    // The service: every key and channel, no administration (@dangerous: CONFIG, FLUSHALL,
    // KEYS, DEBUG, MODULE, SHUTDOWN, REPLICAOF, ACL, …). INFO stays: ioredis's ready check.
    `user ${REDIS_USERS.app} on #${hash('redis-app-password')} ~* &* +@all -@dangerous +info`,
    // The exporter: what redis_exporter reads, no key.
    `user ${REDIS_USERS.monitor} on #${hash('redis-monitor-password')} resetkeys -@all +@connection +ping +info +config|get +slowlog|get +slowlog|len +latency|latest +client|list +select +dbsize`,
  ].join('\n');
}

/**
 * HAProxy's userlist for the stats frontend, with the password as a SHA-512 crypt(3) hash
 * (`openssl passwd -6`, the password on its stdin): the file holds no password in clear, so
 * a container's user may read it. HAProxy checks the hash per request; Prometheus's scrape
 * every 5 s is all that asks.
 */
export function statsUserlist(secrets) {
  const hashed = spawnSync('openssl', ['passwd', '-6', '-stdin'], {
    input: `${secrets.get('stats-password')}\n`,
    encoding: 'utf8',
  });
  if (hashed.status !== 0) {
    throw new Error(`openssl passwd failed: ${hashed.stderr || hashed.error?.message}`);
  }
  return `userlist stats_users\n    user ${STATS_USER} password ${hashed.stdout.trim()}`;
}
