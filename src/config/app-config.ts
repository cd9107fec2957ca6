import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { projectRoot } from './project-root';
import { Env, parseDurationMs, parseDurationSeconds, parseEnv, renamed } from './env.schema';

/**
 * The development secret: random, made once and kept beside `npm start`'s databases, so
 * tokens survive a restart, every process of one checkout (the writer thread, `npm run`
 * scripts) agrees, and nobody who reads the source can sign a token. Production never gets
 * here (parseEnv refuses a missing JWT_SECRET there).
 */
function developmentSecret(): { secret: string; path: string } {
  const path = join(projectRoot(), '.data', 'jwt-secret');
  try {
    return { secret: readFileSync(path, 'utf8').trim(), path };
  } catch {
    mkdirSync(join(path, '..'), { recursive: true });
    const secret = randomBytes(48).toString('base64url');
    try {
      writeFileSync(path, `${secret}\n`, { flag: 'wx', mode: 0o600 });
      return { secret, path };
    } catch {
      // another process made it first
      return { secret: readFileSync(path, 'utf8').trim(), path };
    }
  }
}

/** The typed, validated configuration every module injects. */
export class AppConfig {
  readonly nodeEnv: Env['NODE_ENV'];
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly databaseReadUrl?: string;
  readonly databasePoolSize: number;
  readonly instanceId: string;
  readonly otlpEndpoint?: string;
  readonly serviceName: string;
  readonly metricsPort?: number;
  readonly redisUrl: string;
  readonly redisKeyPrefix: string;
  readonly redisCommandTimeoutMs: number;
  readonly jwtSecret: string;
  /** Outside production without JWT_SECRET: the random one kept in .data/jwt-secret. */
  readonly jwtSecretGenerated: boolean;
  readonly jwtExpiresInSeconds: number;
  readonly admin?: { email: string; password: string };
  readonly logLevel: Env['LOG_LEVEL'];
  /** Fastify's trustProxy: false, a hop count, or the proxies' addresses and CIDRs. */
  readonly trustProxy: false | number | string;
  /** PUBLIC_ORIGIN, or undefined: the service's own origin (by the request's Host). */
  readonly publicOrigins?: readonly string[];
  readonly apiDocs: 'public' | 'admin' | 'off';
  readonly realtimeMaxWatches: number;
  readonly realtimeEventsPerSecond: number;
  readonly realtimeMaxConnectionsPerUser: number;
  readonly metricsToken?: string;
  readonly bodyLimitBytes: number;
  readonly requestTimeoutMs: number;
  readonly loginMaxFailures: number;
  readonly loginMaxFailuresPerIp: number;
  readonly loginMaxFailuresPerAccount: number;
  readonly loginFailureWindowSeconds: number;
  readonly loginDelayAfter: number;
  readonly loginDelayMaxMs: number;
  readonly authRateLimitPerMinute: number;
  readonly goodsCacheTtlSeconds: number;
  readonly goodsLocalCacheMs: number;
  readonly seedDemoData: boolean;
  readonly role: Env['APP_ROLE'];
  readonly bookingStrategy: Env['BOOKING_STRATEGY'];
  readonly bookingRateLimitPerSecond: number;
  readonly bookingWaitersPerUser: number;
  readonly idempotencyTtlSeconds: number;
  readonly writerThread: boolean;
  readonly writerBatchSize: number;
  readonly writerConcurrency: number;
  readonly writerClaimIdleMs: number;
  readonly writerLingerMs: number;
  readonly writerMaxDeliveries: number;
  readonly writerStallAfterMs: number;
  readonly pgLockTimeoutMs: number;
  readonly fastPath: boolean;

  constructor(private readonly env: Env) {
    this.nodeEnv = env.NODE_ENV;
    this.port = env.PORT;
    this.host = env.HOST ?? (env.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1');
    this.databaseUrl = env.DATABASE_URL;
    this.databaseReadUrl = env.DATABASE_READ_URL;
    this.databasePoolSize = env.DATABASE_POOL_SIZE;
    this.instanceId = env.INSTANCE_ID ?? `${hostname()}-${process.pid}`;
    this.metricsPort = env.METRICS_PORT;
    this.otlpEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
    this.serviceName = env.OTEL_SERVICE_NAME;
    this.redisUrl = env.REDIS_URL;
    this.redisKeyPrefix = env.REDIS_KEY_PREFIX;
    this.redisCommandTimeoutMs = env.REDIS_COMMAND_TIMEOUT_MS;
    this.jwtSecret = env.JWT_SECRET ?? developmentSecret().secret;
    this.jwtSecretGenerated = env.JWT_SECRET === undefined;
    this.jwtExpiresInSeconds = parseDurationSeconds(env.JWT_EXPIRES_IN);
    this.admin =
      env.ADMIN_EMAIL && env.ADMIN_PASSWORD
        ? { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD }
        : undefined;
    this.logLevel = env.LOG_LEVEL;
    this.trustProxy = env.TRUST_PROXY;
    this.publicOrigins = env.PUBLIC_ORIGIN?.split(',').map((o) => o.trim());
    this.apiDocs = env.API_DOCS ?? (env.NODE_ENV === 'production' ? 'off' : 'public');
    this.realtimeMaxWatches = env.REALTIME_MAX_WATCHES;
    this.realtimeEventsPerSecond = env.REALTIME_EVENTS_PER_SECOND;
    this.realtimeMaxConnectionsPerUser = env.REALTIME_MAX_CONNECTIONS_PER_USER;
    this.metricsToken = env.METRICS_TOKEN;
    this.bodyLimitBytes = env.BODY_LIMIT_BYTES;
    this.requestTimeoutMs = parseDurationMs(env.REQUEST_TIMEOUT);
    this.loginMaxFailures = env.LOGIN_MAX_FAILURES;
    this.loginDelayAfter = env.LOGIN_DELAY_AFTER;
    this.loginDelayMaxMs = parseDurationMs(env.LOGIN_DELAY_MAX);
    this.loginMaxFailuresPerIp = env.LOGIN_MAX_FAILURES_PER_IP;
    this.loginMaxFailuresPerAccount = env.LOGIN_MAX_FAILURES_PER_ACCOUNT;
    this.loginFailureWindowSeconds = parseDurationSeconds(env.LOGIN_FAILURE_WINDOW);
    this.authRateLimitPerMinute = env.AUTH_RATE_LIMIT_PER_MINUTE;
    this.goodsCacheTtlSeconds = parseDurationSeconds(env.GOODS_CACHE_TTL);
    this.goodsLocalCacheMs = env.GOODS_LOCAL_CACHE_MS;
    this.seedDemoData = env.SEED_DEMO_DATA;
    this.role = env.APP_ROLE;
    this.bookingStrategy = env.BOOKING_STRATEGY;
    this.bookingRateLimitPerSecond = env.BOOKING_RATE_LIMIT_PER_SECOND;
    this.bookingWaitersPerUser = env.BOOKING_WAITERS_PER_USER;
    this.idempotencyTtlSeconds = parseDurationSeconds(env.IDEMPOTENCY_TTL);
    this.writerThread = env.WRITER_THREAD;
    this.writerBatchSize = env.WRITER_BATCH_SIZE;
    this.writerConcurrency = env.WRITER_CONCURRENCY;
    this.writerClaimIdleMs = parseDurationMs(env.WRITER_CLAIM_IDLE);
    this.writerLingerMs = env.WRITER_LINGER_MS;
    this.writerMaxDeliveries = env.WRITER_MAX_DELIVERIES;
    this.writerStallAfterMs = parseDurationMs(env.WRITER_STALL_AFTER);
    this.pgLockTimeoutMs = parseDurationMs(env.PG_LOCK_TIMEOUT);
    this.fastPath = env.FAST_PATH;
  }

  /** The environment as parsed; only this folder reads process.env. */
  static fromEnvironment(source: Record<string, string | undefined>): AppConfig {
    const config = new AppConfig(parseEnv(source));
    config.warnings = renamed(source).warnings;
    return config;
  }

  /** What start should say about the environment: old names still read (env.schema.ts). */
  warnings: readonly string[] = [];

  /** The same configuration for another role (main.ts: the API thread beside the writer thread). */
  withRole(role: Env['APP_ROLE']): AppConfig {
    const config = new AppConfig({ ...this.env, APP_ROLE: role });
    config.warnings = this.warnings;
    return config;
  }

  get servesHttp(): boolean {
    return this.role !== 'writer';
  }

  get runsWorker(): boolean {
    return this.role !== 'api' && this.bookingStrategy === 'redis';
  }

  get isProduction(): boolean {
    return this.nodeEnv === 'production';
  }
}
