// `npm run cluster -- render [--out DIR]`: the deploy/ templates filled for deploy/compose.yaml,
// whose containers reach each other by service name on one private network. The same
// templates `cluster:up` fills for one host; the compose file itself is not run by the tests
// here (no container engine on the machines they run on), the files rendered for it are
// (haproxy -c, promtool check config: test/cluster/render.cluster-spec.ts).
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
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
import { haproxyServers, metricsAuth, pgpoolBackends, renderTemplate } from './cluster.mjs';
import { root } from './services.mjs';

export const COMPOSE = {
  apis: ['api-1', 'api-2', 'api-3'],
  writers: ['writer-1', 'writer-2'],
  postgres: ['postgres-1', 'postgres-2', 'postgres-3'],
  apiPort: 3000,
  writerMetricsPort: 9464,
  pgData: '/var/lib/postgresql/data',
  pgBindir: '/usr/lib/postgresql/15/bin',
};

const quoted = (list) => list.map((t) => `'${t}'`).join(', ');

/**
 * The compose file's secrets (its `secrets:`, mounted at /run/secrets/NAME): the services'
 * connection URLs and the secrets the containers read as files.
 */
function composeSecrets(secrets) {
  const pg = (role, appName) =>
    `postgres://${role}:${pgPassword(secrets, role)}@pgpool:9999/ticketnest?application_name=${appName}`;
  if (process.env.JWT_SECRET) {
    secrets.write('jwt-secret', process.env.JWT_SECRET);
  }
  if (process.env.METRICS_TOKEN) {
    secrets.write('metrics-token', process.env.METRICS_TOKEN);
  }
  secrets.write('database-url', pg(PG_ROLES.app, 'ticketnest'));
  secrets.write('database-read-url', pg(PG_ROLES.app, 'ticketnest-read'));
  secrets.write('owner-database-url', pg(PG_ROLES.owner, 'ticketnest'));
  secrets.write(
    'redis-url',
    `redis://${REDIS_USERS.app}:${secrets.get('redis-app-password')}@redis:6379`,
  );
  secrets.write(
    'redis-exporter-passwords.json',
    JSON.stringify({ 'redis://redis:6379': secrets.get('redis-monitor-password') }),
  );
  for (const name of ['jwt-secret', 'metrics-token', 'monitor-password', 'pcp-password']) {
    secrets.get(name);
  }
}

/**
 * Writes DIR/{haproxy,redis,prometheus,pgpool,postgres,secrets}/…; returns the files written.
 * Secrets are made once and kept (a second render keeps the passwords the volumes know).
 */
export function renderCompose(outDir = join(root, 'deploy', 'rendered')) {
  const written = [];
  const put = (path, text, mode = 0o644) => {
    const file = join(outDir, path);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text, { mode });
    written.push(file);
  };
  const secrets = secretsIn(join(outDir, 'secrets'));
  composeSecrets(secrets);

  put(
    'haproxy/haproxy.cfg',
    `${renderTemplate('haproxy.cfg', {
      STATS_USERS: statsUserlist(secrets),
      LISTEN: '*',
      PORT: 8080,
      STATS_PORT: 8404,
      PID_FILE: '/tmp/haproxy.pid',
      STATE_DIR: '/tmp',
      ERRORS_DIR: '/usr/local/etc/haproxy/errors',
      // An API container not up yet (or restarting) is not a start-up error: HAProxy asks the
      // container network's DNS again and marks it up when its check passes.
      SERVERS: haproxyServers(
        COMPOSE.apis.map((name) => `${name}:${COMPOSE.apiPort}`),
        ' resolvers compose init-addr last,libc,none',
      ),
    })}
# The container engine's DNS (compose networks), so a re-created API's new address is found.
resolvers compose
    nameserver dns 127.0.0.11:53
    hold valid 5s
`,
  );
  mkdirSync(join(outDir, 'haproxy', 'errors'), { recursive: true });
  for (const file of readdirSync(join(root, 'deploy', 'errors'))) {
    copyFileSync(join(root, 'deploy', 'errors', file), join(outDir, 'haproxy/errors', file));
    written.push(join(outDir, 'haproxy/errors', file));
  }

  mkdirSync(join(outDir, 'prometheus'), { recursive: true });
  copyFileSync(join(root, 'deploy', 'alerts.yml'), join(outDir, 'prometheus/alerts.yml'));
  written.push(join(outDir, 'prometheus/alerts.yml'));

  put(
    'redis/redis.conf',
    renderTemplate('redis.conf', {
      LISTEN: '0.0.0.0',
      PORT: 6379,
      DATA_DIR: '/data',
      PID_FILE: '/data/redis.pid',
      LOG_FILE: '""',
      USERS: redisUsers(secrets),
    }),
  );

  put(
    'prometheus/prometheus.yml',
    renderTemplate('prometheus.yml', {
      API_TARGETS: quoted(COMPOSE.apis.map((n) => `${n}:${COMPOSE.apiPort}`)),
      WRITER_TARGETS: quoted(COMPOSE.writers.map((n) => `${n}:${COMPOSE.writerMetricsPort}`)),
      HAPROXY_STATS: 'haproxy:8404',
      POSTGRES_EXPORTERS: quoted(COMPOSE.postgres.map((n) => `${n}-exporter:9187`)),
      REDIS_EXPORTER: 'redis-exporter:9121',
      // Production requires METRICS_TOKEN: Prometheus sends the one the services have.
      METRICS_AUTH: metricsAuth('/run/secrets/metrics-token'),
      STATS_PASSWORD_FILE: '/run/secrets/stats-password',
    }),
  );

  put(
    'pgpool/pgpool.conf',
    renderTemplate('pgpool.conf', {
      LISTEN: '*',
      PORT: 9999,
      PCP_PORT: 9898,
      SOCKET_DIR: '/var/run/postgresql',
      PID_FILE: '/var/run/postgresql/pgpool.pid',
      STATE_DIR: '/var/lib/pgpool',
      BACKENDS: pgpoolBackends(
        COMPOSE.postgres.map((name) => ({ name, host: name, port: 5432, data: COMPOSE.pgData })),
      ),
    }),
  );
  put('pgpool/pool_hba.conf', renderTemplate('pool_hba.conf', { PEERS: 'samenet' }));
  // Passwords in clear (Pgpool-II logs in as its clients): only its container's user reads it.
  put('pgpool/pool_passwd', poolPasswd(secrets), 0o600);

  put(
    'postgres/postgresql.cluster.conf',
    renderTemplate('postgresql.conf', {
      LISTEN: '*',
      PORT: 5432,
      SOCKET_DIR: '/var/run/postgresql',
    }),
  );
  put('postgres/pg_hba.conf', renderTemplate('pg_hba.conf', { PEERS: 'samenet' }));
  put('postgres/roles.sql', renderTemplate('roles.sql', roleVerifiers(secrets)));
  put('postgres/pgpass', pgpass(secrets), 0o600);
  COMPOSE.postgres.forEach((name, i) => {
    put(
      `postgres/repmgr-${i + 1}.conf`,
      renderTemplate('repmgr.conf', {
        NODE_ID: i + 1,
        NODE_NAME: name,
        HOST: name,
        PORT: 5432,
        DATA_DIR: COMPOSE.pgData,
        PG_BINDIR: COMPOSE.pgBindir,
        LOG_FILE: '/var/lib/postgresql/repmgr.log',
        PG_LOG_FILE: '/var/lib/postgresql/postgresql.log',
        PID_FILE: '/var/run/postgresql/repmgrd.pid',
        CONFIG_FILE: `/etc/ticketnest/repmgr-${i + 1}.conf`,
        PASSFILE: '/var/lib/postgresql/.pgpass',
      }),
    );
  });
  return written;
}
