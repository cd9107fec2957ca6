import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AppConfig } from './app-config';
import { ConfigError, DEV_JWT_SECRET, parseDurationSeconds, parseEnv } from './env.schema';

const base = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    parseEnv(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  return [];
}

describe('parseEnv', () => {
  it('applies the defaults', () => {
    const config = new AppConfig(parseEnv(base));
    assert.equal(config.port, 3000);
    assert.equal(config.jwtExpiresInSeconds, 3600);
    assert.equal(config.loginMaxFailures, 10);
    assert.equal(config.loginFailureWindowSeconds, 900);
    assert.equal(config.nodeEnv, 'development');
    assert.equal(config.admin, undefined);
  });

  it('names every bad variable in one error', () => {
    const found = problems({
      PORT: 'eighty',
      REDIS_URL: 'http://x',
      JWT_EXPIRES_IN: 'soon',
      LOG_LEVEL: 'loud',
    });
    const names = found.map((p) => p.split(' ')[0]).sort();
    assert.deepEqual(names, ['DATABASE_URL', 'JWT_EXPIRES_IN', 'LOG_LEVEL', 'PORT', 'REDIS_URL']);
    assert.match(
      found.find((p) => p.startsWith('DATABASE_URL'))!,
      /is required/,
    );
    assert.match(
      found.find((p) => p.startsWith('PORT'))!,
      /got 'eighty'/,
    );
  });

  it('never echoes a secret in the message', () => {
    const found = problems({ ...base, ADMIN_EMAIL: 'a@b.co', ADMIN_PASSWORD: 'short' });
    assert.equal(found.length, 1);
    assert.ok(!found[0].includes('short'), found[0]);
  });

  it('needs ADMIN_EMAIL and ADMIN_PASSWORD together', () => {
    assert.deepEqual(problems({ ...base, ADMIN_EMAIL: 'a@b.co' }), [
      'ADMIN_EMAIL and ADMIN_PASSWORD must be set together',
    ]);
  });

  it('refuses production with a missing, default or short JWT secret', () => {
    const prod = { ...base, NODE_ENV: 'production' };
    assert.match(problems(prod)[0], /JWT_SECRET must be set in production/);
    assert.match(
      problems({ ...prod, JWT_SECRET: DEV_JWT_SECRET })[0],
      /JWT_SECRET must be set in production/,
    );
    assert.match(problems({ ...prod, JWT_SECRET: 'x'.repeat(31) })[0], /at least 32 characters/);
    assert.deepEqual(problems({ ...prod, JWT_SECRET: 'x'.repeat(32) }), []);
  });

  it('refuses demo seeding in production', () => {
    const found = problems({
      ...base,
      NODE_ENV: 'production',
      JWT_SECRET: 'x'.repeat(40),
      SEED_DEMO_DATA: 'true',
    });
    assert.match(found[0], /SEED_DEMO_DATA/);
  });
});

describe('parseDurationSeconds', () => {
  it('reads bare seconds and units', () => {
    assert.equal(parseDurationSeconds('90'), 90);
    assert.equal(parseDurationSeconds('15m'), 900);
    assert.equal(parseDurationSeconds('1h'), 3600);
    assert.equal(parseDurationSeconds('7d'), 604_800);
    assert.equal(parseDurationSeconds('1500ms'), 1);
  });
  it('throws on anything else', () => {
    assert.throws(() => parseDurationSeconds('1 hour'));
    assert.throws(() => parseDurationSeconds('-5s'));
  });
});
