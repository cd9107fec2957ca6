import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { testEnv } from '../support/env';
import { apiEnv } from '../support/main-process';

const ROOT = join(__dirname, '..', '..', '..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `npm start` (scripts/start.mjs) as a child, with its output collected. */
function npmStart(env: Record<string, string>): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out };
}

async function until<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  ms: number,
  out: () => string,
): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    await sleep(200);
  }
  throw new Error(`${what} not within ${ms} ms; output:\n${out().slice(-3000)}`);
}

const apiPids = (out: string) =>
  [...out.matchAll(/API process (\d+) starting/g)].map((m) => Number(m[1]));
/** The pids npm start has seen answer /health/live (only those it restarts). */
const servingPids = (out: string) =>
  [...out.matchAll(/API process (\d+) serving/g)].map((m) => Number(m[1]));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start supervises its API', () => {
  const children: ChildProcess[] = [];
  after(() => children.forEach((c) => c.kill('SIGKILL')));

  it('an API killed with SIGKILL is started again and serves; Ctrl-C still stops everything', async () => {
    const env = await apiEnv({ LOG_LEVEL: 'warn', SEED_DEMO_DATA: 'false' });
    const port = Number(env.PORT);
    const started = npmStart(env);
    children.push(started.child);
    const live = async () =>
      await fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(1000) })
        .then((r) => r.ok || undefined)
        .catch(() => undefined);
    const first = await until(
      'the API serving',
      () => servingPids(started.out())[0],
      60_000,
      started.out,
    );
    assert.equal(await live(), true);

    process.kill(first, 'SIGKILL');
    const second = await until(
      'a second API process',
      () => apiPids(started.out())[1],
      20_000,
      started.out,
    );
    assert.notEqual(second, first);
    assert.match(started.out(), /the API was killed \(SIGKILL\); restart 1 in 1 s/);
    await until(
      'the restarted API serving',
      () => servingPids(started.out())[1],
      60_000,
      started.out,
    );
    assert.equal(await live(), true);
    assert.equal(started.child.exitCode, null, 'npm start itself goes on');

    started.child.kill('SIGINT');
    const code = await new Promise((resolve) => started.child.once('exit', resolve));
    assert.equal(code, 0, started.out());
    assert.ok(!alive(second), 'the API stopped with it');
    assert.match(started.out(), /stopped/);
  });

  it('an API that dies before it ever served is a failed start: no restart loop', async () => {
    const started = npmStart({
      NODE_ENV: 'test',
      PORT: 'not-a-port',
      DATABASE_URL: 'postgres://127.0.0.1:1/none',
      REDIS_URL: testEnv('REDIS_URL'),
    });
    children.push(started.child);
    const code = await new Promise((resolve) => started.child.once('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(started.out(), /before it served: not restarting it/);
    assert.equal(apiPids(started.out()).length, 1);
  });
});
