import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import pg from 'pg';

import { bookingKeys } from '../../src/booking/booking.keys';
import { TestApp, TEST_JWT_SECRET } from '../support/app';
import { testEnv } from '../support/env';

interface Run {
  target: string;
  requests: number;
  confirmed?: number;
  idempotentReplays?: number;
  answers: Record<string, number>;
  byKind: Record<string, { requests: number }>;
  commitLagMs?: { p50: number | null; p99: number | null };
  audit: { ok: boolean; problems: string[] };
  latencyMs: { p50: number; p99: number };
  requestsPerSecond: number;
  throughput: { second: number; ok: number; maxMs: number }[];
  machineCpuPercent: number | null;
  redisCpuPercent: number | null;
  serviceCpuMicrosPerRequest: number | null;
  redisCpuMicrosPerRequest: number | null;
  aofRewriteSeconds: number[] | null;
}
interface Report {
  scenario: string;
  parameters: Record<string, unknown>;
  ok: boolean;
  runs: Run[];
  summary: {
    target: string;
    medianRequestsPerSecond: number;
    medianServiceCpuMicrosPerRequest: number | null;
  }[];
  ratios: Record<string, number>;
}

const dir = mkdtempSync(join(tmpdir(), 'tn-bench-'));

/** `npm run bench -- ARGS` on the test servers; its exit code and JSON report. */
async function bench(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; report: Report }> {
  const json = join(dir, `${name}.json`);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['scripts/bench.mjs', ...args, '--json', json], {
      cwd: join(__dirname, '..', '..', '..'),
      env: {
        ...process.env,
        DATABASE_URL: testEnv('TEST_PG_ADMIN_URL'),
        REDIS_URL: testEnv('REDIS_URL'),
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('exit', resolve);
  });
  return { code, report: JSON.parse(readFileSync(json, 'utf8')) as Report };
}

/** Small real runs of `npm run bench`, so the tool keeps working. No speed is asserted. */
describe('npm run bench (small real runs)', () => {
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: testEnv('TEST_PG_ADMIN_URL') });
    await admin.connect();
    const left = await admin.query(
      `SELECT datname FROM pg_database WHERE datname LIKE 'tn\\_bench\\_%'`,
    );
    await admin.end();
    assert.deepEqual(left.rows, [], 'bench databases left behind');
  });

  it('rush: both strategies and the hello baseline, audited, with JSON and HTML reports', async () => {
    const html = join(dir, 'rush.html');
    const { code, report } = await bench('rush', [
      ...['--compare', 'redis,pg-lock', '--rounds', '1', '--baseline', '--html', html],
      ...['--requests', '400', '--users', '300', '--stock', '100', '--concurrency', '20'],
    ]);
    assert.equal(code, 0);
    assert.equal(report.ok, true);
    assert.deepEqual(report.runs.map((r) => r.target).sort(), ['hello', 'pg-lock', 'redis']);
    for (const run of report.runs.filter((r) => r.target !== 'hello')) {
      assert.deepEqual(run.audit, { ok: true, problems: [] });
      assert.equal(run.requests, 400);
      assert.equal(run.confirmed, 100);
      // Retries with the first request's Idempotency-Key got its booking (else the audit fails).
      assert.ok(run.idempotentReplays! > 0, `${run.target}: no replay seen`);
      // 400 requests on 100 seats: the rest are refused as sold out or already booked.
      assert.equal(
        run.answers['409 SOLD_OUT'] + (run.answers['409 ALREADY_BOOKED'] ?? 0) > 0,
        true,
      );
      assert.equal(typeof run.latencyMs.p99, 'number');
    }
    assert.equal(typeof report.ratios['redis/pg-lock'], 'number');
    const page = readFileSync(html, 'utf8');
    assert.match(page, /<canvas id="histogram">/);
    assert.match(page, /new Chart\(/);
  });

  it('rush sent by wrk (an outside generator): the same plan, the same audit', async () => {
    const { code, report } = await bench('wrk', [
      ...['--generator', 'wrk', '--requests', '400', '--users', '300', '--stock', '100'],
      ...['--concurrency', '20', '--warmup', '100'],
    ]);
    assert.equal(code, 0);
    const [run] = report.runs;
    assert.equal((run as Run & { generator: string }).generator, 'wrk');
    assert.deepEqual(run.audit, { ok: true, problems: [] });
    assert.equal(run.requests, 400);
    assert.equal(run.confirmed, 100);
    assert.equal(
      Object.values(run.answers).reduce((n, v) => n + v, 0),
      400,
      JSON.stringify(run.answers),
    );
    assert.ok(run.answers['409 SOLD_OUT'] > 0, JSON.stringify(run.answers));
    assert.equal(typeof run.latencyMs.p99, 'number');
  });

  it('sustained, with a writer process of its own and no warm-up: every request at a fixed rate is confirmed and its commit lag measured', async () => {
    const { code, report } = await bench('sustained', [
      ...['--scenario', 'sustained', '--duration', '2', '--rate', '150', '--users', '100'],
      ...['--concurrency', '10', '--writers', '1', '--warmup', '0'],
    ]);
    assert.equal(code, 0);
    assert.equal(report.parameters.writers, 1);
    const [run] = report.runs;
    assert.equal(run.requests, 300);
    assert.equal(run.confirmed, 300);
    assert.equal(typeof run.commitLagMs?.p99, 'number');
    assert.ok(run.throughput.length >= 2);
    assert.ok(run.throughput.every((s) => s.maxMs >= 0));
    assert.ok(Math.max(...run.throughput.map((s) => s.maxMs)) > 0);
    assert.ok(run.machineCpuPercent! > 0);
    assert.equal(run.redisCpuPercent, null); // the suite's servers, not the bench's own
    assert.equal(run.redisCpuMicrosPerRequest, null);
    // CPU per request from the service's own counters, in each run and the summary.
    assert.ok(run.serviceCpuMicrosPerRequest! > 0, String(run.serviceCpuMicrosPerRequest));
    assert.equal(
      report.summary[0].medianServiceCpuMicrosPerRequest,
      run.serviceCpuMicrosPerRequest,
    );
    assert.ok(Array.isArray(run.aofRewriteSeconds));
  });

  it('read and mixed: answers by kind, audited', async () => {
    const read = await bench('read', ['--scenario', 'read', '--requests', '300', '--users', '10']);
    assert.equal(read.code, 0);
    assert.deepEqual(Object.keys(read.report.runs[0].byKind).sort(), ['detail', 'list']);
    assert.equal(read.report.runs[0].answers['200'], 300);
    const mixed = await bench('mixed', [
      ...['--scenario', 'mixed', '--requests', '600', '--users', '200', '--stock', '40'],
      ...['--concurrency', '10'],
    ]);
    assert.equal(mixed.code, 0);
    assert.deepEqual(Object.keys(mixed.report.runs[0].byKind).sort(), [
      'book',
      'cancel',
      'detail',
      'waitlist',
    ]);
    assert.equal(mixed.report.runs[0].audit.ok, true);
  });

  it('refuses a bad option with exit 2 before starting anything', async () => {
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['scripts/bench.mjs', '--scenario', 'nope'], {
        cwd: join(__dirname, '..', '..', '..'),
        stdio: 'ignore',
      });
      child.once('exit', resolve);
    });
    assert.equal(code, 2);
    assert.equal(existsSync(join(dir, 'nope.json')), false);
  });
  // Last in the file: TestApp.start sets DATABASE_URL, REDIS_KEY_PREFIX and JWT_SECRET in this
  // process's environment (the runs above give the bench their own).
  it('--url: loads a service already running, audits it, and takes away what it added', async () => {
    const t = await TestApp.start();
    try {
      const counts = () =>
        t.db.query(
          `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM goods)::int AS goods,
                  (SELECT count(*) FROM bookings)::int AS bookings`,
        );
      const before = (await counts()).rows;
      const { code, report } = await bench(
        'url',
        [
          ...['--url', t.url, '--requests', '300', '--users', '200', '--stock', '50'],
          ...['--concurrency', '10', '--warmup', '100'],
        ],
        {
          DATABASE_URL: t.databaseUrl,
          REDIS_KEY_PREFIX: t.redisPrefix,
          JWT_SECRET: TEST_JWT_SECRET,
        },
      );
      assert.equal(code, 0);
      const [run] = report.runs;
      assert.deepEqual(run.audit, { ok: true, problems: [] });
      assert.equal(run.confirmed, 50);
      assert.ok(run.idempotentReplays! > 0);
      assert.deepEqual((await counts()).rows, before);
      const left = [
        ...(await t.redis.keys(`${t.redisPrefix}${bookingKeys.recordPrefix}*`)), // gone when settled
        ...(await t.redis.keys(`${t.redisPrefix}${bookingKeys.idempotencyPrefix}*`)),
      ];
      assert.deepEqual(left, []);
    } finally {
      await t.close();
    }
  });
});
