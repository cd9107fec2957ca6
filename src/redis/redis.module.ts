import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';

import { AppConfig } from '../config/app-config';
import { defineScripts, ScriptedRedis } from './scripts';

export const REDIS = Symbol('REDIS');

export function createRedis(url: string, keyPrefix: string): ScriptedRedis {
  const redis = new Redis(url, {
    keyPrefix,
    connectTimeout: 2000,
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

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        const redis = createRedis(config.redisUrl, config.redisKeyPrefix);
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
