// `npm test`: every tier (unit, web, integration, e2e, browser) against real PostgreSQL and
// Redis; the browser tier drives Debian's Chromium (installed with apt as root when missing).
// Uses DATABASE_URL / REDIS_URL when set (as servers: each run makes its own databases and
// key prefix there and removes them); otherwise starts private ones like `npm start` does.
// Extra arguments filter test files: `npm test -- goods` runs files whose path has "goods".
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';

import {
  cleanUpOnSignals,
  createDatabaseIfMissing,
  deleteKeys,
  dropDatabases,
  ensureBuild,
  ensureChromium,
  ensureDependencies,
  provisionServers,
  root,
  run,
  say,
  withDatabase,
} from './lib/services.mjs';

const tiers = [
  { name: 'unit', dir: '.build/src', suffix: '.spec.js', concurrency: 2 },
  // The web app's component and logic tests (Vitest, jsdom).
  { name: 'web', dir: 'web/src', suffix: ['.test.ts', '.test.tsx'], concurrency: 2, vitest: true },
  { name: 'integration', dir: '.build/test/integration', suffix: '.int-spec.js', concurrency: 2 },
  { name: 'e2e', dir: '.build/test/e2e', suffix: '.e2e-spec.js', concurrency: 2 },
  // One Chromium at a time: two would fight over this machine's two cores.
  { name: 'browser', dir: '.build/test/browser', suffix: '.browser-spec.js', concurrency: 1 },
  // Whole clusters (scripts/lib/cluster.mjs): three PostgreSQL nodes, Pgpool-II, HAProxy and
  // five service processes each, so one file at a time.
  // A file's tests share one cluster and take minutes (149 s for topology in a fresh-clone run
  // on a loaded machine, near the 180 s every other tier gets).
  {
    name: 'cluster',
    dir: '.build/test/cluster',
    suffix: '.cluster-spec.js',
    concurrency: 1,
    timeoutMs: 600_000,
  },
];

/** The tier's command: node's test runner over the compiled files, or Vitest over web/. */
function tierCommand(tier, files) {
  if (tier.vitest) {
    return [
      join(root, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      '--config',
      'web/vitest.config.mts',
      ...files.map((f) => relative(join(root, 'web'), f)),
    ];
  }
  return [
    '--enable-source-maps',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${tier.concurrency}`,
    `--test-timeout=${tier.timeoutMs ?? 180_000}`,
    ...files.map((f) => relative(root, f)),
  ];
}

function findFiles(dir, suffix) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      out = out.concat(findFiles(path, suffix));
    } else if ([suffix].flat().some((end) => name.endsWith(end))) {
      out.push(path);
    }
  }
  return out.sort();
}

async function main() {
  const filters = process.argv.slice(2);
  ensureDependencies();
  if (filters.length === 0) {
    say('static checks: prettier, eslint, dependency-cruiser, commitlint');
    try {
      run(process.execPath, [
        join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'),
        '--check',
        '--log-level',
        'warn',
        '.',
      ]);
      run(process.execPath, [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.']);
      // The layers of src/ (scripts/lib/module-layers.cjs): no import they do not allow.
      run(process.execPath, [
        join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'),
        'src',
        '--config',
        '.dependency-cruiser.cjs',
        '--ignore-known',
      ]);
      lintCommits();
    } catch {
      say(
        'static checks failed: `npm run format` fixes formatting; `npm run lint` and `npm run deps` list the rest',
      );
      process.exit(1);
    }
  }
  // The API and the web app as `npm start` serves them: the browser tier loads the built app.
  ensureBuild();
  say('compiling (tsc → .build)…');
  rmSync(join(root, '.build'), { recursive: true, force: true });
  run(process.execPath, [
    join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    'tsconfig.json',
  ]);

  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const scratch = join(root, '.data', 'test', runId);
  let failed = false;
  const servers = await provisionServers({ dataDir: scratch });
  cleanUpOnSignals([() => rmSync(scratch, { recursive: true, force: true }), servers.stop]);
  const { adminUrl, redisUrl } = servers;
  try {
    const template = `tn_test_${runId}`;
    await createTemplate(adminUrl, template);
    const env = {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      TEST_RUN_ID: runId,
      TEST_PG_ADMIN_URL: adminUrl,
      TEST_TEMPLATE_DB: template,
      REDIS_URL: redisUrl,
      DATABASE_URL: withDatabase(adminUrl, template),
    };
    try {
      for (const tier of tiers) {
        const files = findFiles(join(root, tier.dir), tier.suffix).filter(
          (f) => filters.length === 0 || filters.some((word) => f.includes(word)),
        );
        if (files.length === 0) {
          continue;
        }
        if (tier.name === 'browser') {
          ensureChromium();
        }
        say(`${tier.name}: ${files.length} file(s)`);
        const result = spawnSync(process.execPath, tierCommand(tier, files), {
          cwd: root,
          env,
          stdio: 'inherit',
        });
        if (result.status !== 0) {
          failed = true;
          say(`${tier.name} tier failed`);
        }
      }
    } finally {
      await dropDatabases(adminUrl, `tn_test_${runId}`);
      await deleteKeys(redisUrl, `tn-test-${runId}`);
    }
  } finally {
    await servers.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  say(failed ? 'FAILED' : 'all tiers passed');
  process.exit(failed ? 1 : 0);
}

/**
 * Commit subjects since COMMITLINT_FROM (commitlint.config.cjs): conventional, at most 72
 * characters. Older history stays as written; a clone without that commit (shallow) is told so.
 */
const COMMITLINT_FROM = '411259b';

function lintCommits() {
  const known = spawnSync('git', ['cat-file', '-e', `${COMMITLINT_FROM}^{commit}`], { cwd: root });
  if (known.status !== 0) {
    say(
      `commitlint: ${COMMITLINT_FROM} is not in this clone (shallow?): commit subjects not checked`,
    );
    return;
  }
  run(process.execPath, [
    join(root, 'node_modules', '@commitlint', 'cli', 'cli.js'),
    '--from',
    COMMITLINT_FROM,
    '--to',
    'HEAD',
  ]);
}

/** One migrated database per run; every test file clones it (CREATE DATABASE … TEMPLATE). */
async function createTemplate(adminUrl, template) {
  await createDatabaseIfMissing(adminUrl, template);
  const { runMigrations } = createRequire(import.meta.url)(
    join(root, '.build', 'src', 'database', 'data-source.js'),
  );
  await runMigrations(withDatabase(adminUrl, template));
}

main().catch((error) => {
  say(`test run failed to set up: ${error.stack ?? error.message}`);
  process.exit(1);
});
