import { Global, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';

import { AppConfig } from '../config/app-config';
import { RateLimitGuard } from './rate-limit.guard';
import { RedisThrottlerStorage } from './redis-throttler.storage';
import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';

@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, REDIS],
      useFactory: (config: AppConfig, redis: ScriptedRedis) => ({
        throttlers: [{ name: 'default', ttl: 60_000, limit: config.authRateLimitPerMinute }],
        storage: new RedisThrottlerStorage(redis),
      }),
    }),
  ],
  providers: [RateLimitGuard],
  exports: [ThrottlerModule, RateLimitGuard],
})
export class RateLimitModule {}
