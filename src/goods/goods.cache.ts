import { Inject, Injectable, Logger } from '@nestjs/common';

import { AppConfig } from '../config/app-config';
import { currentWalPosition, ReadReplica, WalPosition } from '../database/read-replica';
import { Queryable, Sql } from '../database/sql';
import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';

/** The goods read cache's keys (lua/get-cached-2.lua builds an entry's key the same way). */
export const goodsCacheKeys = {
  /** Bumped by every goods write: entries under an older generation are never read again. */
  generation: 'goods:gen',
  /** The primary's WAL position after the last goods write: a standby's answer must see it. */
  position: 'goods:lsn',
  entry: (generation: string, suffix: string) => `goods:${generation}:${suffix}`,
} as const;

/** A loader of goods rows: on the given connection (the read path), else on the primary. */
export type GoodsLoad<T> = (on?: Queryable) => Promise<T>;

/**
 * Read-through cache of goods reads in Redis. A hit costs one EVALSHA and no SQL. Writes bump
 * one generation counter, so a reader that loaded stale rows before the write stores them
 * under the old generation, where nobody reads them. A Redis failure degrades to SQL.
 *
 * A miss is loaded from the read path (DATABASE_READ_URL) when it has replayed the last goods
 * write: the write keeps its WAL position beside the generation, in the same script, so a
 * reader of the new generation never caches a standby's copy from before the write.
 */
@Injectable()
export class GoodsCache {
  private readonly logger = new Logger(GoodsCache.name);

  constructor(
    @Inject(REDIS) private readonly redis: ScriptedRedis,
    private readonly config: AppConfig,
    private readonly primary: Sql,
    private readonly replica: ReadReplica,
  ) {}

  async read<T>(suffix: string, load: GoodsLoad<T>): Promise<T> {
    let generation: string | undefined;
    let position: string | null = null;
    try {
      const [gen, cached, lsn] = await this.redis.getCached(
        goodsCacheKeys.generation,
        goodsCacheKeys.position,
        suffix,
      );
      if (cached !== null) {
        return JSON.parse(cached) as T;
      }
      generation = gen;
      position = lsn;
    } catch (error) {
      this.logger.warn(`goods cache read failed, using the database: ${(error as Error).message}`);
    }
    const value = await this.load(generation, position, load);
    if (generation !== undefined && value !== undefined) {
      const key = goodsCacheKeys.entry(generation, suffix);
      await this.redis
        .set(key, JSON.stringify(value), 'EX', this.config.goodsCacheTtlSeconds)
        .catch(() => undefined);
    }
    return value;
  }

  /** From the read path when it is current enough for `generation`, else from the primary. */
  private async load<T>(
    generation: string | undefined,
    position: string | null,
    load: GoodsLoad<T>,
  ): Promise<T> {
    if (this.replica.enabled && generation !== undefined) {
      const needed = position ?? (await this.askPosition(generation));
      const answer = await this.replica.read(needed, load);
      if (answer !== undefined) {
        return answer.value;
      }
    }
    return load();
  }

  /**
   * No position known (a fresh Redis, or a write that could not read its own): the primary's
   * current one covers every committed write, and stands if no write bumped meanwhile.
   */
  private async askPosition(generation: string): Promise<WalPosition | undefined> {
    try {
      const position = await currentWalPosition(this.primary);
      if (position === undefined) {
        return undefined;
      }
      const { generation: genKey, position: positionKey } = goodsCacheKeys;
      const stood = await this.redis.raisePosition(genKey, positionKey, generation, position);
      return stood === 1 ? position : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * After any goods write: every cached read is stale, and later reads must see the write. If
   * Redis is unreachable the write still stands; entries then live at most GOODS_CACHE_TTL.
   */
  async invalidate(): Promise<void> {
    // Asked even without a read path here: another instance may have one (one more round trip
    // a goods write, and goods writes are a host's edits, not the rush).
    const position = await currentWalPosition(this.primary).catch(() => undefined);
    await this.redis
      .bumpGeneration(goodsCacheKeys.generation, goodsCacheKeys.position, position ?? '')
      .catch((error: Error) => {
        this.logger.warn(`goods cache invalidation failed: ${error.message}`);
      });
  }
}
