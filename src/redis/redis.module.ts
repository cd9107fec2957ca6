import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';

import { AppConfig } from '../config/app-config';
import { defineScripts, ScriptedRedis } from './scripts';

export const REDIS = Symbol('REDIS');

/**
 * `commandTimeoutMs` (the service's REDIS_COMMAND_TIMEOUT_MS): a command unanswered that long
 * fails, counted from when it is sent or queued (a Redis that accepts connections and never
 * answers, or one still loading its AOF). Its bytes may still reach Redis and run later, so a
 * caller for whom that matters checks a deadline inside its script (BookingState.admit).
 * Without it commands wait, as an operator's tool should (the bench's FLUSHALL of a large
 * leftover, reconcile on a Redis loading its AOF).
 */
export function createRedis(
  url: string,
  keyPrefix: string,
  commandTimeoutMs?: number,
): ScriptedRedis {
  const redis = new Redis(url, {
    keyPrefix,
    connectTimeout: 2000,
    commandTimeout: commandTimeoutMs,
    // Fail fast instead of queueing forever: callers turn errors into 503s.
    maxRetriesPerRequest: 1,
    // Reconnect soon: while disconnected, bookings answer 503 at once (BookingState.admit).
    retryStrategy: (times) => Math.min(times * 50, 500),
    // No auto-pipelining. The hot paths batch for themselves (admission: one script call per
    // event-loop turn; the writer: one per batch), and with it on, every command's arguments,
    // reply and caller outlived two young-generation collections, so the API thread's old
    // generation grew and mark-compacts paused it (figures: docs/performance.md).
    enableAutoPipelining: false,
  });
  defineScripts(redis);
  return redis as ScriptedRedis;
}

/**
 * A subscriber's connection (a duplicate of the shared client): no key prefix (channels are
 * named in full), its subscriptions wait for Redis however long (ioredis sends them again
 * after a reconnect), and no command timeout: a SUBSCRIBE given up on would still take effect
 * when a frozen Redis woke, and ioredis's own record of the subscription would disagree.
 */
export const SUBSCRIBER_OPTIONS = {
  keyPrefix: '',
  maxRetriesPerRequest: null,
  commandTimeout: undefined,
};

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        const redis = createRedis(
          config.redisUrl,
          config.redisKeyPrefix,
          config.redisCommandTimeoutMs,
        );
        const logger = new Logger('Redis');
        redis.on('error', (err: Error) => logger.warn(`redis: ${err.message}`));
        return redis;
      },
    },
  ],
  exports: [REDIS],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: ScriptedRedis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
