import { Inject, Injectable, Logger } from '@nestjs/common';

import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';

/** The goods read cache's keys (lua/get-cached-1.lua builds an entry's key the same way). */
export const goodsCacheKeys = {
  /** Bumped by every goods write: entries under an older generation are never read again. */
  generation: 'goods:gen',
  entry: (generation: string, suffix: string) => `goods:${generation}:${suffix}`,
} as const;

/**
 * Read-through cache of goods reads in Redis. A hit costs one EVALSHA and no SQL. Writes bump
 * one generation counter, so a reader that loaded stale rows before the write stores them
 * under the old generation, where nobody reads them. A Redis failure degrades to SQL.
 */
@Injectable()
export class GoodsCache {
  private readonly logger = new Logger(GoodsCache.name);

  constructor(
    @Inject(REDIS) private readonly redis: ScriptedRedis,
    private readonly config: AppConfig,
  ) {}

  async read<T>(suffix: string, load: () => Promise<T>): Promise<T> {
    let generation: string | undefined;
    try {
      const [gen, cached] = await this.redis.getCached(goodsCacheKeys.generation, suffix);
      if (cached !== null) {
        return JSON.parse(cached) as T;
      }
      generation = gen;
    } catch (error) {
      this.logger.warn(`goods cache read failed, using the database: ${(error as Error).message}`);
    }
    const value = await load();
    if (generation !== undefined && value !== undefined) {
      const key = goodsCacheKeys.entry(generation, suffix);
      await this.redis
        .set(key, JSON.stringify(value), 'EX', this.config.goodsCacheTtlSeconds)
        .catch(() => undefined);
    }
    return value;
  }

  /**
   * After any goods write: every cached read is stale. If Redis is unreachable the write
   * still stands; entries then live at most GOODS_CACHE_TTL.
   */
  async invalidate(): Promise<void> {
    await this.redis.incr(goodsCacheKeys.generation).catch((error: Error) => {
      this.logger.warn(`goods cache invalidation failed: ${error.message}`);
    });
  }
}
