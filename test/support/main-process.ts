import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import { TEST_JWT_SECRET } from './app';
import { freshDatabaseUrl, freshRedisPrefix, testEnv } from './env';
import { freePortSync } from './ports';

/** The compiled entry point (`.build/src/main.js`), as `node dist/main.js` runs in production. */
const MAIN = join(__dirname, '..', '..', 'src', 'main.js');

/**
 * The real entry point as a child process, resolved once its output shows `ready`; rejected
 * if it exits first. `children` collects it for the suite's clean-up.
 */
export function startMain(
  env: Record<string, string>,
  ready: string,
  children: ChildProcess[],
): Promise<{ child: ChildProcess; out: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes(ready)) {
        resolve({ child, out: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

/**
 * The environment of one API process of its own (`startMain`): a fresh database and Redis
 * prefix, a free port on loopback, logging at info (its `listening on` line is the ready
 * signal); `env` on top.
 */
export async function apiEnv(
  env: Record<string, string> = {},
): Promise<Record<string, string> & { DATABASE_URL: string; PORT: string }> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: await freshDatabaseUrl(),
    REDIS_URL: testEnv('REDIS_URL'),
    REDIS_KEY_PREFIX: freshRedisPrefix(),
    JWT_SECRET: TEST_JWT_SECRET,
    HOST: '127.0.0.1',
    PORT: String(freePortSync()),
    ...env,
  };
}
