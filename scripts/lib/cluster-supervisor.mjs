// The cluster's own supervision (`npm run cluster -- supervise`, started detached by
// cluster:up): an API or writer that dies without an operator's `stop` is started again with
// the restart policy's back-off, and what it did is kept for cluster:status. PostgreSQL,
// Pgpool-II, Redis and HAProxy are not its business: repmgr fails PostgreSQL over, and the
// rest have no second instance to stand in while one is down.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { RestartPolicy } from './restart-policy.mjs';

const CHECK_MS = 500;

/** Present while an operator (or a test) has stopped the part on purpose. */
export const stoppedMarker = (cluster, name) => cluster.path('service', `${name}.stopped`);

export function markStopped(cluster, name, stopped) {
  if (stopped) {
    writeFileSync(stoppedMarker(cluster, name), `${new Date().toISOString()}\n`);
  } else {
    rmSync(stoppedMarker(cluster, name), { force: true });
  }
}

const recordFile = (cluster, name) => cluster.path('service', `${name}.restarts.json`);

/** `{restarts, lastDiedAt?, lastPid?, lastRestartAt?}` of a service part. */
export function restartRecord(cluster, name) {
  try {
    return JSON.parse(readFileSync(recordFile(cluster, name), 'utf8'));
  } catch {
    return { restarts: 0 };
  }
}

/** Runs until killed; `alive(pid)` and `pidOf(part)` are the cluster's own. */
export async function supervise(cluster, { alive, pidOf, say }) {
  const watched = new Map();
  const watch = (part) => {
    if (!watched.has(part.name)) {
      const policy = new RestartPolicy();
      policy.restarts = restartRecord(cluster, part.name).restarts;
      watched.set(part.name, { policy, pid: undefined, startedAt: 0, restartAt: undefined });
    }
    return watched.get(part.name);
  };
  say(
    `supervising ${cluster
      .serviceParts()
      .map((p) => p.name)
      .join(', ')}`,
  );
  for (;;) {
    for (const part of cluster.serviceParts()) {
      const w = watch(part);
      if (existsSync(stoppedMarker(cluster, part.name))) {
        w.restartAt = undefined;
        continue;
      }
      const pid = pidOf(part);
      if (alive(pid)) {
        if (w.pid !== pid) {
          w.pid = pid;
          w.startedAt = Date.now();
        }
        continue;
      }
      if (w.restartAt === undefined) {
        const wait = w.policy.died(w.startedAt);
        w.restartAt = Date.now() + wait;
        const record = {
          ...restartRecord(cluster, part.name),
          restarts: w.policy.restarts,
          lastDiedAt: new Date().toISOString(),
          lastPid: w.pid ?? null,
        };
        writeFileSync(recordFile(cluster, part.name), JSON.stringify(record));
        say(
          `${part.name} (pid ${w.pid ?? '?'}) is gone: restart ${w.policy.restarts} in ${wait / 1000} s`,
        );
      } else if (Date.now() >= w.restartAt) {
        w.restartAt = undefined;
        cluster.startService(part);
        const record = {
          ...restartRecord(cluster, part.name),
          lastRestartAt: new Date().toISOString(),
        };
        writeFileSync(recordFile(cluster, part.name), JSON.stringify(record));
        say(`${part.name}: started again (pid ${pidOf(part)})`);
      }
    }
    await sleep(CHECK_MS);
  }
}
