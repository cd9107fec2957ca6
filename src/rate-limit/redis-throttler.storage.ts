import { Inject, Injectable } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';

import { AppError } from '../common/app-error';
import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * @nestjs/throttler storage shared by every API instance: one fixed-window counter per key,
 * counted and checked in one Lua call (lua/hit-window-1.lua).
 */
@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(@Inject(REDIS) private readonly redis: ScriptedRedis) {}

  async increment(
    key: string,
    ttlMs: number,
    limit: number,
    _blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const [hits, msLeft, blocked] = await this.redis
      .hitWindow(`throttle:${throttlerName}:${key}`, ttlMs, limit)
      .catch(() => {
        throw AppError.limitsUnavailable();
      });
    const secondsLeft = Math.max(1, Math.ceil(msLeft / 1000));
    return {
      totalHits: hits,
      timeToExpire: secondsLeft,
      isBlocked: blocked === 1,
      timeToBlockExpire: blocked === 1 ? secondsLeft : 0,
    };
  }
}
