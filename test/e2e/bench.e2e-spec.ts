import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import pg from 'pg';

import { testEnv } from '../support/env';

/** A small real run of `npm run bench`, so the tool keeps working. No speed is asserted. */
describe('npm run bench (small real run)', () => {
  it('runs a rush for both strategies, audits it, writes JSON, and leaves nothing behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tn-bench-'));
    const json = join(dir, 'bench.json');
    try {
      const args = [
        'scripts/bench.mjs',
        '--compare',
        'redis,pg-lock',
        '--rounds',
        '1',
        '--requests',
        '400',
        '--users',
        '300',
        '--stock',
        '100',
        '--concurrency',
        '20',
        '--json',
        json,
      ];
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, args, {
          cwd: join(__dirname, '..', '..', '..'),
          env: {
            ...process.env,
            DATABASE_URL: testEnv('TEST_PG_ADMIN_URL'),
            REDIS_URL: testEnv('REDIS_URL'),
          },
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        child.once('exit', resolve);
      });
      assert.equal(code, 0);
      const report = JSON.parse(readFileSync(json, 'utf8')) as {
        runs: {
          strategy: string;
          confirmed: number;
          audit: { ok: boolean };
          latencyMs: { p99: number };
          requestsPerSecond: number;
        }[];
      };
      assert.deepEqual(report.runs.map((r) => r.strategy).sort(), ['pg-lock', 'redis']);
      for (const run of report.runs) {
        assert.equal(run.audit.ok, true);
        assert.equal(run.confirmed, 100);
        assert.equal(typeof run.latencyMs.p99, 'number');
      }
      const admin = new pg.Client({ connectionString: testEnv('TEST_PG_ADMIN_URL') });
      await admin.connect();
      const left = await admin.query(
        `SELECT datname FROM pg_database WHERE datname LIKE 'tn\\_bench\\_%'`,
      );
      await admin.end();
      assert.deepEqual(left.rows, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
