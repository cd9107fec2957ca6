import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { projectRoot } from '../../src/config/project-root';
import { TestCluster } from '../support/cluster';
import { freePortSync } from '../support/ports';

const root = projectRoot();
const CLI = join(root, 'scripts', 'cluster.mjs');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * The compose file is not run here (no container engine); the files it mounts are rendered
 * from the same templates and checked by the engines themselves, and the compose file and the
 * render agree on names and paths.
 */
describe(
  'cluster render: the templates filled for deploy/compose.yaml',
  {
    skip: TestCluster.unavailableSync(),
  },
  () => {
    let out: string;
    let files: string[];
    before(() => {
      out = mkdtempSync(join(tmpdir(), 'tn-render-'));
      const rendered = run(process.execPath, [CLI, 'render', '--out', out]);
      assert.equal(rendered.status, 0, rendered.output);
      files = filesUnder(out);
    });
    after(() => rmSync(out, { recursive: true, force: true }));

    it('fills every placeholder', () => {
      for (const file of files) {
        const text = readFileSync(file, 'utf8');
        // Comments may name the {{…}} syntax; no setting may hold one.
        const unfilled = text.split('\n').filter((l) => /\{\{[A-Z_]+\}\}/.test(l.split('#')[0]));
        assert.deepEqual(unfilled, [], file);
      }
    });

    it('HAProxy accepts its configuration, with the API servers not resolvable yet', () => {
      const cfg = join(out, 'haproxy', 'haproxy.cfg');
      const local = join(out, 'haproxy-check.cfg');
      // The container's mount point, here the render's own directory.
      writeFileSync(
        local,
        readFileSync(cfg, 'utf8').replaceAll('/usr/local/etc/haproxy', join(out, 'haproxy')),
      );
      const check = run('haproxy', ['-c', '-f', local]);
      assert.equal(check.status, 0, check.output);
    });

    it("HAProxy's own 502 is JSON in the error contract (the rendered error files; the 504 one loads too)", async () => {
      // A server that answers garbage: HAProxy's 502, from the rendered errorfile.
      const garbage = createServer((socket) => {
        socket.on('error', () => undefined);
        socket.on('data', () => socket.end('garbage\r\n\r\n'));
      });
      await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
      const port = (garbage.address() as { port: number }).port;
      const front = freePortSync();
      const cfg = join(out, 'haproxy-502.cfg');
      writeFileSync(
        cfg,
        [
          'defaults',
          '  mode http',
          '  timeout connect 1s',
          '  timeout client 5s',
          '  timeout server 5s',
          ...['502', '504'].map(
            (code) => `  errorfile ${code} ${join(out, 'haproxy', 'errors', `${code}.http`)}`,
          ),
          'frontend f',
          `  bind 127.0.0.1:${front}`,
          '  default_backend b',
          'backend b',
          `  server s 127.0.0.1:${port}`,
        ].join('\n') + '\n',
      );
      const haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: 'ignore' });
      try {
        let reply: Response | undefined;
        for (let i = 0; i < 50 && reply === undefined; i++) {
          reply = await fetch(`http://127.0.0.1:${front}/api/goods`).catch(async () => {
            await new Promise((r) => setTimeout(r, 100));
            return undefined;
          });
        }
        assert.equal(reply?.status, 502);
        assert.match(reply.headers.get('content-type') ?? '', /application\/json/);
        assert.deepEqual(Object.keys((await reply.json()) as object).sort(), [
          'code',
          'message',
          'statusCode',
        ]);
      } finally {
        haproxy.kill();
        garbage.close();
      }
    });

    it('Prometheus accepts its configuration and scrapes services the compose file has', () => {
      const yml = join(out, 'prometheus', 'prometheus.yml');
      // The containers' secrets mount, here the render's own directory (promtool reads them).
      const local = join(out, 'prometheus', 'prometheus-check.yml');
      writeFileSync(
        local,
        readFileSync(yml, 'utf8').replaceAll('/run/secrets/', `${join(out, 'secrets')}/`),
      );
      const check = run('promtool', ['check', 'config', local]);
      assert.equal(check.status, 0, check.output);
      const compose = readFileSync(join(root, 'deploy', 'compose.yaml'), 'utf8');
      const services = new Set([...compose.matchAll(/^ {2}([\w-]+):/gm)].map((m) => m[1]));
      const targets = [...readFileSync(yml, 'utf8').matchAll(/'([\w-]+):\d+'/g)].map((m) => m[1]);
      assert.ok(targets.length >= 10, targets.join(' '));
      assert.deepEqual(
        targets.filter((t) => !services.has(t)),
        [],
        'every target is a compose service',
      );
    });

    it('the alert rules load, and each fires on its condition and not before (promtool test rules)', () => {
      assert.ok(
        files.includes(join(out, 'prometheus', 'alerts.yml')),
        'copied beside prometheus.yml',
      );
      const check = run('promtool', ['check', 'rules', join(root, 'deploy', 'alerts.yml')]);
      assert.equal(check.status, 0, check.output);
      const unit = run('promtool', ['test', 'rules', join(root, 'deploy', 'alerts.test.yml')]);
      assert.equal(unit.status, 0, unit.output);
    });

    it('Redis starts on its configuration (in the foreground, as the compose file runs it)', () => {
      const data = mkdtempSync(join(out, 'redis-data-'));
      const conf = join(out, 'redis-check.conf');
      writeFileSync(
        conf,
        readFileSync(join(out, 'redis', 'redis.conf'), 'utf8').replace(/^dir .*$/m, `dir ${data}`),
      );
      // --test-memory is not a config check; start it for a moment instead and ask it a setting.
      const port = String(20_000 + (process.pid % 10_000));
      const server = spawnSync(
        'sh',
        [
          '-c',
          `redis-server "$0" --daemonize no --bind 127.0.0.1 --port ${port} --pidfile "$1/p" & ` +
            `for i in 1 2 3 4 5 6 7 8 9 10; do env -u REDISCLI_AUTH redis-cli -p ${port} ping 2>&1 | grep -q NOAUTH && break; sleep 0.3; done; ` +
            `env -u REDISCLI_AUTH redis-cli -p ${port} ping; ` +
            `redis-cli -p ${port} config get appendfsync; redis-cli -p ${port} shutdown nosave; wait`,
          conf,
          data,
        ],
        {
          encoding: 'utf8',
          timeout: 20_000,
          // redis-cli's password from its environment, not its command line.
          env: {
            ...process.env,
            REDISCLI_AUTH: readFileSync(join(out, 'secrets', 'redis-operator-password'), 'utf8'),
          },
        },
      );
      // Anonymous: refused; the operator: served.
      assert.match(server.stdout, /NOAUTH/, `${server.stdout}${server.stderr}`);
      assert.match(server.stdout, /appendfsync\neverysec/, `${server.stdout}${server.stderr}`);
    });

    it('every compose service restarts when it dies (restart: unless-stopped, itself or by its anchor)', () => {
      const compose = readFileSync(join(root, 'deploy', 'compose.yaml'), 'utf8');
      // Top-level blocks (x-… anchors) and the services' own, each with its text.
      const blocks = (text: string, indent: string) =>
        new Map(
          text
            .split(new RegExp(`^(?=${indent}[\\w-]+:)`, 'm'))
            .map((b) => [/^\s*([\w-]+):/.exec(b)?.[1] ?? '', b] as const),
        );
      const services = compose.slice(
        compose.indexOf('\nservices:\n'),
        compose.indexOf('\nvolumes:'),
      );
      const anchors = new Map(
        [...blocks(compose, '').values(), ...blocks(services, '  ').values()].flatMap((b) => {
          const name = /^\s*[\w-]+: &([\w-]+)/.exec(b)?.[1];
          return name ? [[name, b] as const] : [];
        }),
      );
      const restarts = (block: string, depth = 0): boolean =>
        // on-failure: the one-shot migrate job, done when it exits 0.
        /restart: (unless-stopped|on-failure)/.test(block) ||
        (depth < 4 &&
          [...block.matchAll(/<<: \*([\w-]+)/g)].some((m) =>
            restarts(anchors.get(m[1]) ?? '', depth + 1),
          ));
      const names = [...blocks(services, '  ').keys()].filter((n) => n && n !== 'services');
      assert.ok(names.length >= 12, names.join(' '));
      const without = names.filter((n) => !restarts(blocks(services, '  ').get(n) ?? ''));
      assert.deepEqual(without, [], 'services without a restart policy');
    });

    it('hardens what it renders: passwords everywhere, secrets as files, published ports on loopback (M3)', () => {
      const hba = (file: string) =>
        readFileSync(join(out, file), 'utf8')
          .split('\n')
          .filter((line) => /^host/.test(line));
      for (const file of ['postgres/pg_hba.conf', 'pgpool/pool_hba.conf']) {
        assert.ok(hba(file).length > 0, file);
        for (const line of hba(file)) {
          assert.match(line, /scram-sha-256$/, `${file}: ${line}`);
        }
      }
      const redis = readFileSync(join(out, 'redis', 'redis.conf'), 'utf8');
      assert.match(redis, /^user default on resetpass #[0-9a-f]{64} /m);
      assert.match(redis, /^user ticketnest on #[0-9a-f]{64} .*-@dangerous/m);
      const compose = readFileSync(join(root, 'deploy', 'compose.yaml'), 'utf8');
      assert.doesNotMatch(compose, /protected-mode/);
      assert.doesNotMatch(
        compose,
        /postgres:\/\/|redis:\/\/[^r]/,
        'no connection URL with credentials',
      );
      // Published: the public port on every interface, the rest on loopback only.
      const published = [...compose.matchAll(/ports: \[([^\]]*)\]/g)].flatMap((m) =>
        m[1].split(',').map((p) => p.trim().replace(/'/g, '')),
      );
      assert.deepEqual(published.sort(), [
        '127.0.0.1:8404:8404',
        '127.0.0.1:9090:9090',
        '8080:8080',
      ]);
      // Every secret the compose file names is rendered, mode 600; none is in clear in a
      // file a container's user may read.
      const named = [...compose.matchAll(/file: \.\/rendered\/secrets\/([\w.-]+)/g)].map(
        (m) => m[1],
      );
      assert.ok(named.length >= 8, named.join(' '));
      const secrets = named.map((name) => {
        const file = join(out, 'secrets', name);
        assert.equal(statSync(file).mode & 0o777, 0o600, name);
        return readFileSync(file, 'utf8');
      });
      for (const file of files.filter((f) => statSync(f).mode & 0o044)) {
        const text = readFileSync(file, 'utf8');
        for (const secret of secrets.filter((s) => !s.startsWith('{') && !s.includes('://'))) {
          assert.ok(!text.includes(secret), `a secret in clear in ${file}`);
        }
      }
      const renderedAgain = run(process.execPath, [CLI, 'render', '--out', out]);
      assert.equal(renderedAgain.status, 0, renderedAgain.output);
      assert.deepEqual(
        named.map((name) => readFileSync(join(out, 'secrets', name), 'utf8')),
        secrets,
        'a second render keeps the secrets',
      );
    });

    it('mounts only directories the render writes, and every part the render names exists', () => {
      const compose = readFileSync(join(root, 'deploy', 'compose.yaml'), 'utf8');
      const mounted = [...compose.matchAll(/\.\/rendered\/(\w+):/g)].map((m) => m[1]);
      assert.ok(mounted.length >= 5);
      for (const dir of mounted) {
        assert.ok(statSync(join(out, dir)).isDirectory(), dir);
      }
      const pgpool = readFileSync(join(out, 'pgpool', 'pgpool.conf'), 'utf8');
      const backends = [...pgpool.matchAll(/^backend_hostname\d+ = '([\w-]+)'/gm)].map((m) => m[1]);
      assert.deepEqual(backends, ['postgres-1', 'postgres-2', 'postgres-3']);
      for (const name of backends) {
        assert.match(compose, new RegExp(`^ {2}${name}:`, 'm'));
      }
      for (const id of [1, 2, 3]) {
        const repmgr = readFileSync(join(out, 'postgres', `repmgr-${id}.conf`), 'utf8');
        assert.match(repmgr, new RegExp(`^node_id = ${id}$`, 'm'));
        assert.match(repmgr, new RegExp(`host=postgres-${id} port=5432`));
      }
    });
  },
);
