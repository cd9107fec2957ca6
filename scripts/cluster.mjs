// `npm run cluster:up | cluster:status | cluster:down`, and `npm run cluster -- <command>`:
// the scale-out topology on this host (scripts/lib/cluster.mjs, deploy/). Options:
//   --dir DIR     the cluster's directory (default .cluster/)
//   --ports BASE  consecutive ports from BASE instead of the documented ones (tests)
//   --json        status as a JSON array of {name, role, pid, address, healthy, restarts?}
//   --monitoring  up: also Prometheus (deploy/prometheus.yml) and the PostgreSQL and Redis
//                 exporters, from then on part of this cluster
//   --out DIR     render: where (default deploy/rendered/)
// Commands: up, status, down, start NAME, stop NAME, rejoin NAME (an old primary → standby),
// check (the Debian packages are there, installing them as root), render (the deploy/
// templates filled for deploy/compose.yaml's containers), supervise (the supervisor that
// up starts: it restarts a dead API or writer, rejoins an old primary and starts a dead
// standby; `stop NAME` tells it to leave one down).
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { alive, Cluster, ensureClusterPackages, portLayout, readPid } from './lib/cluster.mjs';
import { supervise } from './lib/cluster-supervisor.mjs';
import { renderCompose } from './lib/compose.mjs';
import { ensureBuild, ensureDependencies, root, say } from './lib/services.mjs';

/** The command line, or exit 2 naming what is wrong (an unknown flag, a value missing). */
function commandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        dir: { type: 'string', default: join(root, '.cluster') },
        ports: { type: 'string' },
        json: { type: 'boolean', default: false },
        monitoring: { type: 'boolean', default: false },
        out: { type: 'string' },
      },
    });
  } catch (error) {
    say(`cluster: ${error.message} (options: --dir, --ports, --json, --monitoring, --out)`);
    process.exit(2);
  }
}
const { values, positionals } = commandLine();
const [command = 'status', name] = positionals;
const base = values.ports === undefined ? undefined : Number(values.ports);
if (base !== undefined && !(Number.isInteger(base) && base > 1024 && base < 65000)) {
  say(`--ports must be a port number between 1025 and 64999, not ${values.ports}`);
  process.exit(2);
}

function table(rows) {
  const head = ['name', 'role', 'pid', 'address', 'healthy', 'restarts'];
  const cells = rows.map((r) => [
    r.name,
    r.role ?? '-',
    r.pid ?? '-',
    r.address ?? '-',
    r.healthy ? 'yes' : 'NO',
    r.restarts ?? '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => String(c[i]).length)));
  const line = (c) => c.map((v, i) => String(v).padEnd(widths[i])).join('  ');
  return [line(head), ...cells.map(line)].join('\n');
}

async function main() {
  if (command === 'check') {
    // The packages are here (installed with apt as root when they were not).
    ensureClusterPackages({ monitoring: values.monitoring });
    return;
  }
  if (command === 'render') {
    const files = renderCompose(values.out);
    say(
      `cluster: rendered ${files.length} files for deploy/compose.yaml under ${join(files[0], '../..')}`,
    );
    return;
  }
  const cluster = Cluster.open(values.dir, portLayout(base));
  const log = (message) => say(`cluster: ${message}`);
  const needName = () => {
    if (!name) {
      throw new Error(`${command} needs a part's name (see npm run cluster:status)`);
    }
    return name;
  };
  switch (command) {
    case 'up': {
      ensureDependencies();
      ensureBuild();
      await cluster.up({ say: log, monitoring: values.monitoring });
      process.stdout.write(`${table(await cluster.status())}\n\n`);
      log(
        `ready: ${cluster.publicUrl()}/ (HAProxy stats: http://127.0.0.1:${cluster.ports.stats}/ as stats, password in ${cluster.path('secrets', 'stats-password')})`,
      );
      if (cluster.monitoring) {
        log(`Prometheus: http://127.0.0.1:${cluster.ports.prometheus}/targets`);
      }
      break;
    }
    case 'status': {
      const rows = await cluster.status();
      process.stdout.write(values.json ? `${JSON.stringify(rows, null, 2)}\n` : `${table(rows)}\n`);
      break;
    }
    case 'down':
      await cluster.down({ say: log });
      break;
    case 'start':
      await cluster.start(needName(), { say: log });
      break;
    case 'stop':
      await cluster.stop(needName());
      break;
    case 'rejoin':
      cluster.rejoin(needName(), log);
      break;
    case 'supervise':
      await supervise(cluster, {
        alive,
        pidOf: (part) => readPid(cluster.partPidFile(part.name)),
        say: (message) => process.stdout.write(`${new Date().toISOString()} ${message}\n`),
      });
      break;
    default:
      say(
        `cluster: unknown command ${command}: up, status, down, start, stop, rejoin, check, render or supervise`,
      );
      process.exit(2);
  }
}

main().catch((error) => {
  say(`cluster ${command}: ${error.message}`);
  process.exit(1);
});
