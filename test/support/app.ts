import { randomBytes } from 'node:crypto';

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import argon2 from 'argon2';
import Redis from 'ioredis';
import pg from 'pg';

import { createApp } from '../../src/app.factory';
import { AppConfig } from '../../src/config/app-config';
import { ARGON2_OPTIONS } from '../../src/auth/password-hasher';
import { TokenService } from '../../src/auth/token.service';
import { runMigrations } from '../../src/database/data-source';
import { createPino } from '../../src/telemetry/logger';
import { Role } from '../../src/users/user.entity';
import { freshDatabaseUrl, freshRedisPrefix, testEnv } from './env';

export const TEST_PASSWORD = 'Sup3r$ecret';
/** The run's Redis, read before any test overrides REDIS_URL for its app. */
const RUN_REDIS_URL = testEnv('REDIS_URL');
let passwordHash: Promise<string> | undefined;
/** The secret every test app signs with (tests sign tokens of their own with it). */
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-0123456789';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is, e.g. malformed JSON. */
  raw?: string;
  token?: string;
  headers?: Record<string, string>;
}

export interface TestUser {
  id: number;
  email: string;
  nickname: string;
  role: Role;
  token: string;
}

/**
 * The real application, listening on an ephemeral port, on its own database and Redis prefix.
 * `env` overrides configuration (e.g. rate limits) for this file.
 */
export class TestApp {
  private userSeq = 0;

  private constructor(
    readonly app: NestFastifyApplication,
    readonly url: string,
    readonly db: pg.Pool,
    readonly redis: Redis,
    readonly databaseUrl: string,
    readonly redisPrefix: string,
  ) {}

  /** `logs`: every log line the app writes, parsed, at LOG_LEVEL (default silent). */
  static async start(
    env: Record<string, string> = {},
    options: { logs?: Record<string, unknown>[] } = {},
  ): Promise<TestApp> {
    const databaseUrl = env.DATABASE_URL ?? (await freshDatabaseUrl());
    const redisPrefix = env.REDIS_KEY_PREFIX ?? freshRedisPrefix();
    // The app's own configuration, parsed once; process.env is never written (a setting of
    // one app would leak into the next).
    const config = AppConfig.fromEnvironment({
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      DATABASE_URL: databaseUrl,
      REDIS_URL: RUN_REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      // Production refuses every secret written in the repository (known-secrets.ts).
      ...(env.NODE_ENV === 'production'
        ? {
            JWT_SECRET: randomBytes(32).toString('base64'),
            METRICS_TOKEN: randomBytes(16).toString('hex'),
          }
        : { JWT_SECRET: TEST_JWT_SECRET }),
      LOGIN_MAX_FAILURES: '1000',
      LOGIN_MAX_FAILURES_PER_IP: '100000',
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '100000',
      AUTH_RATE_LIMIT_PER_MINUTE: '100000',
      ...env,
    });
    await runMigrations(databaseUrl);
    const logs = options.logs;
    const app = await createApp(config, {
      pino:
        logs &&
        createPino(config.logLevel, {
          write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>),
        }),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address() as { port: number };
    const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    const redis = new Redis(RUN_REDIS_URL, { keyPrefix: redisPrefix });
    return new TestApp(
      app,
      `http://127.0.0.1:${address.port}`,
      db,
      redis,
      databaseUrl,
      redisPrefix,
    );
  }

  /**
   * Another instance of the same deployment: this one's database and Redis prefix, `env` on
   * top (by default an API-only instance: this one runs the writer). Close it with
   * `{ purge: false }`; this one's close removes the shared keys.
   */
  peer(env: Record<string, string> = { APP_ROLE: 'api' }): Promise<TestApp> {
    return TestApp.start({
      ...env,
      DATABASE_URL: this.databaseUrl,
      REDIS_KEY_PREFIX: this.redisPrefix,
    });
  }

  /** Stop the app; `purge: false` keeps the Redis keys (another instance shares them). */
  async close({ purge = true }: { purge?: boolean } = {}): Promise<void> {
    await this.app.close();
    await this.db.end();
    if (!purge) {
      await this.redis.quit();
      return;
    }
    const keys = await this.redis.keys(`${this.redisPrefix}*`);
    if (keys.length > 0) {
      // KEYS returns full names; strip the prefix ioredis would add again.
      await this.redis.del(...keys.map((k) => k.slice(this.redisPrefix.length)));
    }
    await this.redis.quit();
  }

  async request<T = any>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.raw !== undefined) {
      body = options.raw;
      headers['content-type'] ??= 'application/json';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    if (options.token) {
      headers.authorization = `Bearer ${options.token}`;
    }
    const response = await fetch(`${this.url}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers, text };
  }

  /** A user made directly in the database (fast), with a real signed token. */
  async newUser(role: Role = Role.User): Promise<TestUser> {
    passwordHash ??= argon2.hash(TEST_PASSWORD, ARGON2_OPTIONS);
    const n = ++this.userSeq;
    const tag = `${process.pid.toString(36)}${n}`;
    const email = `u${tag}@test.example`;
    const nickname = `n${tag}`.slice(0, 10);
    const { rows } = await this.db.query<{ id: number }>(
      `INSERT INTO users (email, nickname, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING id`,
      [email, nickname, await passwordHash, role],
    );
    const id = rows[0].id;
    return { id, email, nickname, role, token: this.app.get(TokenService).sign({ id, role }) };
  }

  async newGoods(host: TestUser, fields: Record<string, unknown> = {}): Promise<any> {
    const reply = await this.request('POST', '/api/goods', {
      token: host.token,
      body: goodsBody(fields),
    });
    if (reply.status !== 201) {
      throw new Error(`newGoods: ${reply.status} ${reply.text}`);
    }
    return reply.body;
  }
}

export function goodsBody(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: 'Test Concert',
    content: 'A test show.',
    price: 50_000,
    imgUrl: 'https://img.example.com/a.jpg',
    showDate: '2027-03-01T19:00:00Z',
    bookingLimit: 100,
    ...fields,
  };
}

/** Every row of every application table, for before/after comparisons. */
export async function snapshot(db: pg.Pool): Promise<string> {
  const users = await db.query('SELECT * FROM users ORDER BY id');
  const goods = await db.query('SELECT * FROM goods ORDER BY id');
  const bookings = await db.query('SELECT * FROM bookings ORDER BY id');
  const waitlist = await db.query('SELECT * FROM waitlist ORDER BY id');
  return JSON.stringify({
    users: users.rows,
    goods: goods.rows,
    bookings: bookings.rows,
    waitlist: waitlist.rows,
  });
}
