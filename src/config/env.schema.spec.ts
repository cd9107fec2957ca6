import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { PasswordProblem, passwordProblemMessages } from '../passwords/password-policy';
import { projectRoot } from './project-root';

import { AppConfig } from './app-config';
import { ConfigError, parseDurationSeconds, parseEnv, secretBits } from './env.schema';
import { KNOWN_SECRETS } from './known-secrets';

/** Secrets made now: any written here would be one production refuses (known-secrets.ts). */
const fresh = () => ({
  JWT_SECRET: randomBytes(24).toString('base64'),
  METRICS_TOKEN: randomBytes(16).toString('hex'),
});

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

  it('listens on loopback outside production unless HOST says otherwise, on every interface in production', () => {
    assert.equal(new AppConfig(parseEnv(base)).host, '127.0.0.1');
    assert.equal(new AppConfig(parseEnv({ ...base, HOST: '0.0.0.0' })).host, '0.0.0.0');
    const prod = { ...base, NODE_ENV: 'production', ...fresh() };
    assert.equal(new AppConfig(parseEnv(prod)).host, '0.0.0.0');
  });

  it('without JWT_SECRET outside production, makes a random secret once and keeps it in .data/jwt-secret', () => {
    const file = join(projectRoot(), '.data', 'jwt-secret');
    const existed = existsSync(file);
    try {
      const first = AppConfig.fromEnvironment(base);
      const second = AppConfig.fromEnvironment(base);
      assert.equal(first.jwtSecretGenerated, true);
      assert.equal(first.jwtSecret, second.jwtSecret, 'every process of the checkout agrees');
      assert.ok(secretBits(first.jwtSecret) >= 128, 'as strong as production asks');
      assert.equal(readFileSync(file, 'utf8').trim(), first.jwtSecret);
      assert.equal(statSync(file).mode & 0o077, 0, 'readable by its owner only');
      const given = AppConfig.fromEnvironment({ ...base, JWT_SECRET: 'given-secret' });
      assert.deepEqual([given.jwtSecret, given.jwtSecretGenerated], ['given-secret', false]);
    } finally {
      if (!existed) {
        rmSync(file, { force: true });
      }
    }
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

  it('never prints the password of a connection URL it refuses (L7)', () => {
    const found = problems({
      ...base,
      DATABASE_URL: 'mysql://app:hunter2-db@db.example:5432/x',
      DATABASE_READ_URL: 'postgres://app:hunter2-read@:bad:port/x',
      REDIS_URL: 'http://default:hunter2-redis@cache.example:6379',
    });
    assert.equal(found.length, 3, found.join('\n'));
    for (const line of found) {
      assert.doesNotMatch(line, /hunter2/, line);
      assert.match(line, /:\*\*\*@/, line);
    }
  });

  it('reads NAME_FILE for any variable, refuses both at once, names an unreadable file only (M3)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tn-env-'));
    try {
      const url = join(dir, 'database-url');
      const secret = join(dir, 'jwt-secret');
      writeFileSync(url, 'postgres://app:hunter2-file@127.0.0.1:5432/db\n', { mode: 0o600 });
      writeFileSync(secret, fresh().JWT_SECRET, { mode: 0o600 });
      const env = parseEnv({
        ...base,
        DATABASE_URL: undefined,
        DATABASE_URL_FILE: url,
        JWT_SECRET_FILE: secret,
      });
      assert.equal(env.DATABASE_URL, 'postgres://app:hunter2-file@127.0.0.1:5432/db');
      assert.equal(env.JWT_SECRET, readFileSync(secret, 'utf8'));

      const found = problems({
        ...base,
        DATABASE_URL_FILE: url,
        REDIS_URL: undefined,
        REDIS_URL_FILE: join(dir, 'missing'),
      });
      assert.deepEqual(
        found.map((p) => p.split(' ')[0]),
        ['DATABASE_URL', 'REDIS_URL_FILE'],
        found.join('\n'),
      );
      assert.match(found[0], /both set/);
      assert.match(found[1], /ENOENT/);
      for (const line of found) {
        assert.doesNotMatch(line, /hunter2/, line);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the writer's old names (WORKER_*, APP_ROLE=worker) as the new, with a warning; both at once is an error", () => {
    const old = { ...base, WORKER_BATCH_SIZE: '20', WORKER_CLAIM_IDLE: '1s', APP_ROLE: 'worker' };
    const config = AppConfig.fromEnvironment(old);
    assert.equal(config.writerBatchSize, 20);
    assert.equal(config.writerClaimIdleMs, 1000);
    assert.equal(config.role, 'writer');
    assert.equal(config.servesHttp, false);
    assert.deepEqual(
      config.warnings.map((w) => w.split(' ')[0]),
      ['WORKER_BATCH_SIZE', 'WORKER_CLAIM_IDLE', 'APP_ROLE=worker'],
    );
    assert.deepEqual(AppConfig.fromEnvironment({ ...base, WRITER_BATCH_SIZE: '20' }).warnings, []);
    const both = problems({ ...base, WORKER_BATCH_SIZE: '20', WRITER_BATCH_SIZE: '30' });
    assert.equal(both.length, 1, both.join('\n'));
    assert.match(both[0], /WORKER_BATCH_SIZE and WRITER_BATCH_SIZE are both set/);
  });

  it('takes TRUST_PROXY as addresses and CIDRs or a hop count, and refuses true (M1)', () => {
    const trust = (v?: string) => new AppConfig(parseEnv({ ...base, TRUST_PROXY: v })).trustProxy;
    assert.equal(trust(undefined), false);
    assert.equal(trust('false'), false);
    assert.equal(trust('1'), 1);
    assert.equal(trust('127.0.0.1, 10.0.0.0/8 ,fd00::/8'), '127.0.0.1,10.0.0.0/8,fd00::/8');
    for (const bad of ['true', '10.0.0.0/33', 'haproxy', '127.0.0.1,', '::1/129', '1.2.3.4/8/8']) {
      assert.match(problems({ ...base, TRUST_PROXY: bad }).join(), /TRUST_PROXY/, bad);
    }
    assert.match(problems({ ...base, TRUST_PROXY: 'true' }).join(), /trusts every hop/);
  });

  it('holds ADMIN_PASSWORD to the password rules', () => {
    assert.deepEqual(problems({ ...base, ADMIN_EMAIL: 'a@b.co', ADMIN_PASSWORD: 'Password1!' }), [
      `ADMIN_PASSWORD: ${passwordProblemMessages[PasswordProblem.TooCommon]}`,
    ]);
    assert.deepEqual(
      problems({ ...base, ADMIN_EMAIL: 'a@b.co', ADMIN_PASSWORD: 'a long admin phrase' }),
      [],
    );
  });

  it('needs ADMIN_EMAIL and ADMIN_PASSWORD together', () => {
    assert.deepEqual(problems({ ...base, ADMIN_EMAIL: 'a@b.co' }), [
      'ADMIN_EMAIL and ADMIN_PASSWORD must be set together',
    ]);
  });

  it('refuses production with a missing, short or guessable JWT secret', () => {
    const prod = { ...base, NODE_ENV: 'production', METRICS_TOKEN: fresh().METRICS_TOKEN };
    assert.match(problems(prod)[0], /JWT_SECRET must be set in production/);
    assert.match(problems({ ...prod, JWT_SECRET: 'x'.repeat(31) })[0], /at least 32 characters/);
    for (const weak of ['a'.repeat(32), 'ab'.repeat(20), 'abcabcabcabcabcabcabcabcabcabcabc']) {
      assert.match(problems({ ...prod, JWT_SECRET: weak })[0], /too easy to guess/, weak);
    }
    const strong = [
      randomBytes(24).toString('base64'), // 32 random base64 characters
      randomBytes(20).toString('hex'), // 40 hex digits: 160 bits
    ];
    for (const secret of strong) {
      assert.deepEqual(problems({ ...prod, JWT_SECRET: secret }), [], secret);
    }
    assert.equal(secretBits('a'.repeat(64)), 0);
  });

  it('refuses in production every secret published in the repository, however strong (L1)', () => {
    const prod = { ...base, NODE_ENV: 'production', ...fresh() };
    assert.ok(KNOWN_SECRETS.has('dev-only-insecure-jwt-secret-change-me'));
    for (const known of KNOWN_SECRETS) {
      assert.match(problems({ ...prod, JWT_SECRET: known }).join(), /published in the/, known);
      if (known.length >= 16) {
        assert.match(problems({ ...prod, METRICS_TOKEN: known }).join(), /published/, known);
      }
    }
  });

  it('refuses production without METRICS_TOKEN (M2)', () => {
    const prod = { ...base, NODE_ENV: 'production', ...fresh() };
    assert.deepEqual(problems(prod), []);
    const { METRICS_TOKEN: _unset, ...without } = prod;
    assert.match(problems(without).join(), /METRICS_TOKEN must be set in production/);
  });

  it('has no default secret at all: the source holds none', () => {
    const spec = readFileSync(join(projectRoot(), 'src', 'config', 'env.schema.ts'), 'utf8');
    assert.doesNotMatch(spec, /JWT_SECRET: \{\s*schema: [^\n]*\.default\(/);
    assert.equal(parseEnv(base).JWT_SECRET, undefined);
  });

  it('refuses demo seeding in production', () => {
    const found = problems({
      ...base,
      NODE_ENV: 'production',
      ...fresh(),
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
