import { Inject, Injectable } from '@nestjs/common';

import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';
import { stockKeys } from './stock.keys';
import type { StockState } from './stock.types';

/**
 * Live stock, which booking's admission takes from and its settlement returns to: the
 * catalogue loads, edits and forgets a goods' stock here, and reads what remains, whichever
 * BOOKING_STRATEGY runs (stock.module.ts picks the provider once).
 */
export abstract class StockService {
  /** Per goods, how often this process changed its stock: local read caches compare it. */
  private readonly changes = new Map<number, number>();
  private allChanges = 0;

  /** Changes of one goods' stock by this process; without an id, of any goods' stock. */
  version(goodsId?: number): number {
    return goodsId === undefined ? this.allChanges : (this.changes.get(goodsId) ?? 0);
  }

  /** This process changed a goods' stock (an admission, a settled rejection, a release). */
  changed(goodsId: number): void {
    this.changes.set(goodsId, this.version(goodsId) + 1);
    this.allChanges++;
  }

  /**
   * Load a goods' live stock unless present (live counters are never overwritten); `held` is
   * each user's confirmed quantity, `pending` what is admitted and not yet written.
   */
  abstract load(goods: StockState, held: Map<number, number>, pending?: number): Promise<boolean>;

  /** A goods edit: the stock moves by the change of bookingLimit; limits and window replaced. */
  abstract update(goods: Omit<StockState, 'bookingCount'>, limitDelta: number): Promise<void>;

  abstract forget(goodsId: number): Promise<void>;

  /**
   * After a committed cancellation: the owner's quantity goes, each promoted user takes one,
   * the rest returns to stock. Returns what is left (-1: not loaded).
   */
  abstract release(
    goodsId: number,
    ownerId: number,
    quantity: number,
    promotedUserIds: number[],
  ): Promise<number>;

  /** Live stock of several goods in one round trip (undefined where there is none). */
  abstract remainingOf(goodsIds: number[]): Promise<(number | undefined)[]>;
}

/**
 * How long a sale's live state outlives its end. Nothing is admitted after the end and the
 * writers settle what was admitted within seconds, so an hour is long past its last use;
 * after it a cancellation finds nothing to give back to (PostgreSQL has the truth), and a late
 * request loads the state again to be told SALE_CLOSED, kept ENDED_SALE_RELOAD_MS.
 */
export const ENDED_SALE_KEEP_MS = 60 * 60 * 1000;
export const ENDED_SALE_RELOAD_MS = 10 * 60 * 1000;

/** When a goods' Redis state goes, ms since the epoch (0: never, a sale without an end). */
export function stateExpiresAt(saleEndsAt: Date | null | undefined, now = Date.now()): number {
  if (!saleEndsAt) {
    return 0;
  }
  return Math.max(saleEndsAt.getTime() + ENDED_SALE_KEEP_MS, now + ENDED_SALE_RELOAD_MS);
}

/**
 * BOOKING_STRATEGY=redis: live stock in Redis, rebuildable from PostgreSQL at any time (what
 * is left of each goods, each user's held quantity). A sale's state goes an hour after its end
 * (stateExpiresAt), so ended sales do not fill Redis and its AOF for ever.
 */
@Injectable()
export class RedisStock extends StockService {
  constructor(@Inject(REDIS) private readonly redis: ScriptedRedis) {
    super();
  }

  async load(goods: StockState, held: Map<number, number>, pending = 0): Promise<boolean> {
    const pairs = [...held].flatMap(([userId, quantity]) => [userId, quantity]);
    const loaded = await this.redis.loadGoods(
      stockKeys.goods(goods.id),
      stockKeys.goodsUsers(goods.id),
      goods.bookingLimit - goods.bookingCount - pending,
      goods.maxPerUser,
      goods.saleStartsAt?.getTime() ?? 0,
      goods.saleEndsAt?.getTime() ?? 0,
      stateExpiresAt(goods.saleEndsAt),
      ...pairs,
    );
    return loaded === 1;
  }

  async update(goods: Omit<StockState, 'bookingCount'>, limitDelta: number): Promise<void> {
    await this.redis.updateGoods(
      stockKeys.goods(goods.id),
      stockKeys.goodsUsers(goods.id),
      limitDelta,
      goods.maxPerUser,
      goods.saleStartsAt?.getTime() ?? 0,
      goods.saleEndsAt?.getTime() ?? 0,
      stateExpiresAt(goods.saleEndsAt),
    );
  }

  async forget(goodsId: number): Promise<void> {
    await this.redis.del(stockKeys.goods(goodsId), stockKeys.goodsUsers(goodsId));
  }

  async release(
    goodsId: number,
    ownerId: number,
    quantity: number,
    promotedUserIds: number[],
  ): Promise<number> {
    this.changed(goodsId);
    return this.redis.releaseBooking(
      stockKeys.goods(goodsId),
      stockKeys.goodsUsers(goodsId),
      ownerId,
      quantity,
      ...promotedUserIds,
    );
  }

  async remainingOf(goodsIds: number[]): Promise<(number | undefined)[]> {
    const pipeline = this.redis.pipeline();
    goodsIds.forEach((id) => pipeline.hget(stockKeys.goods(id), 'left'));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, left]) =>
      error || left === null ? undefined : Math.max(0, Number(left)),
    );
  }
}

/** BOOKING_STRATEGY=pg-lock: PostgreSQL's booking_count is the stock; nothing lives elsewhere. */
export class NoLiveStock extends StockService {
  load(): Promise<boolean> {
    return Promise.resolve(false);
  }

  update(): Promise<void> {
    return Promise.resolve();
  }

  forget(): Promise<void> {
    return Promise.resolve();
  }

  release(): Promise<number> {
    return Promise.resolve(-1);
  }

  remainingOf(goodsIds: number[]): Promise<(number | undefined)[]> {
    return Promise.resolve(goodsIds.map(() => undefined));
  }
}
