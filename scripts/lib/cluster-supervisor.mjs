// The cluster's own supervision (`npm run cluster -- supervise`, started detached by
// cluster:up): an API or writer that dies without an operator's `stop` is started again with
// the restart policy's back-off, and what it did is kept for cluster:status. For PostgreSQL,
// repmgr fails over and the supervisor does what a person did after it (issue 23): an old
// primary is rewound and rejoined as a standby of the new one, and a dead standby is started
// again, so the next failure finds a standby to promote. Pgpool-II, Redis and HAProxy are not
// its business: they have no second instance to stand in while one is down.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { RestartPolicy } from './restart-policy.mjs';

const CHECK_MS = 500;
/** PostgreSQL's roles are asked of each node (psql): less often than the services. */
const PG_CHECK_MS = 2000;

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

/** Counted in the part's record (cluster:status `restarts`): a rejoin or a start. */
function recordPgAction(cluster, name) {
  const record = restartRecord(cluster, name);
  writeFileSync(
    recordFile(cluster, name),
    JSON.stringify({
      ...record,
      restarts: record.restarts + 1,
      lastRestartAt: new Date().toISOString(),
    }),
  );
}

/**
 * Once repmgr has a primary that takes writes: every old primary (killed, or started fenced)
 * is rejoined to it (pg_rewind, or a fresh clone when it cannot be rewound), and every standby
 * that is down is started. Nothing is done while no node is a live primary (repmgrd is
 * promoting one), nor to a node an operator stopped.
 */
export function supervisePostgres(cluster, say) {
  const { primary, fenced, standbys } = cluster.pgRoles();
  if (!primary || cluster.liveRole(primary) !== 'primary') {
    return;
  }
  const stopped = (node) => existsSync(stoppedMarker(cluster, node.name));
  for (const node of fenced.filter((n) => !stopped(n))) {
    say(`${node.name}: an old primary; rejoining it as a standby of ${primary.name}`);
    cluster.rejoin(node.name, say);
    recordPgAction(cluster, node.name);
    say(`${node.name}: rejoined`);
  }
  for (const node of standbys.filter((n) => !stopped(n))) {
    if (cluster.pgPid(node) === undefined) {
      say(`${node.name}: a standby, down: starting it`);
      cluster.pgStart(node);
      cluster.startRepmgrd(node);
      cluster.attachStandbys(say);
      recordPgAction(cluster, node.name);
    }
  }
}

/** Runs until killed; `alive(pid)` and `pidOf(part)` are the cluster's own. */
export async function supervise(cluster, { alive, pidOf, say }) {
  let nextPgCheck = 0;
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
    `supervising ${[...cluster.serviceParts(), ...cluster.pgNodes()]
      .map((p) => p.name)
      .join(', ')}`,
  );
  for (;;) {
    if (Date.now() >= nextPgCheck) {
      try {
        supervisePostgres(cluster, say);
      } catch (error) {
        say(`postgres: ${error.message}`); // tried again at the next check
      }
      nextPgCheck = Date.now() + PG_CHECK_MS;
    }
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
