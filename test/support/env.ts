import { randomBytes } from 'node:crypto';

import pg from 'pg';

/** Set by scripts/test.mjs; a test file run any other way fails here with a clear message. */
export function testEnv(
  name: 'TEST_RUN_ID' | 'TEST_PG_ADMIN_URL' | 'TEST_TEMPLATE_DB' | 'REDIS_URL',
): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the tests with \`npm test\``);
  }
  return value;
}

export function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A migrated database of this file's own, cloned from the run's template. */
export async function freshDatabaseUrl(): Promise<string> {
  const name = `tn_test_${testEnv('TEST_RUN_ID')}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testEnv('TEST_PG_ADMIN_URL') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${testEnv('TEST_TEMPLATE_DB')}"`);
  } finally {
    await admin.end();
  }
  return withDatabase(testEnv('TEST_PG_ADMIN_URL'), name);
}

/** A Redis key prefix of this file's own; scripts/test.mjs deletes `tn-test-<run>*`. */
export function freshRedisPrefix(): string {
  return `tn-test-${testEnv('TEST_RUN_ID')}-${randomBytes(4).toString('hex')}:`;
}
