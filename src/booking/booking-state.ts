import { Inject, Injectable } from '@nestjs/common';

import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';
import { bookingKeys } from './booking.keys';
import type { BookingOutcome, GoodsBookingState } from './booking.types';

export enum Admission {
  Admitted = 1,
  Replay = 0,
  NotLoaded = -1,
  NotOpen = -2,
  Closed = -3,
  OverLimit = -4,
  SoldOut = -5,
  RateLimited = -6,
  KeyReused = -7,
  QuantityAboveMax = -8,
}

export interface AdmissionResult {
  code: Admission;
  bookingId: string;
  detail: string | number;
}

const SETTLED_TTL_SECONDS = 3600;
const PENDING_TTL_SECONDS = 86_400;

/** The Redis half of the booking path: one script call per operation. */
@Injectable()
export class BookingState {
  /** Per goods, how often this process changed its stock: local read caches compare it. */
  private readonly stockChanges = new Map<number, number>();

  private allStockChanges = 0;

  /** Changes of one goods' stock by this process; without an id, of any goods' stock. */
  stockVersion(goodsId?: number): number {
    return goodsId === undefined ? this.allStockChanges : (this.stockChanges.get(goodsId) ?? 0);
  }

  private changedStock(goodsId: number): void {
    this.stockChanges.set(goodsId, this.stockVersion(goodsId) + 1);
    this.allStockChanges++;
  }

  constructor(
    @Inject(REDIS) private readonly redis: ScriptedRedis,
    private readonly config: AppConfig,
  ) {}

  async admit(request: {
    goodsId: number;
    userId: number;
    quantity: number;
    bookingId: string;
    idempotencyKey?: string;
  }): Promise<AdmissionResult> {
    const { goodsId, userId, quantity, bookingId, idempotencyKey } = request;
    if (this.redis.status !== 'ready') {
      // Disconnected: say so now (503) rather than queue behind the reconnect attempts.
      throw new Error(`redis is ${this.redis.status}`);
    }
    const answer = await this.redis.admitBooking(
      bookingKeys.goods(goodsId),
      bookingKeys.goodsUsers(goodsId),
      // Without a key the script never reads KEYS[3]; a fixed name saves a hash per request.
      idempotencyKey ? bookingKeys.idempotency(userId, idempotencyKey) : bookingKeys.noIdempotency,
      bookingKeys.log,
      bookingKeys.booking(bookingId),
      bookingKeys.rate(userId),
      goodsId,
      userId,
      quantity,
      bookingId,
      Date.now(),
      idempotencyKey ? `${goodsId}:${quantity}` : '',
      idempotencyKey ?? '',
      this.config.idempotencyTtlSeconds,
      this.config.bookingRateLimitPerSecond,
      1000,
      PENDING_TTL_SECONDS,
    );
    const [code, id, detail] = answer;
    if (code === (Admission.Admitted as number)) {
      this.changedStock(goodsId);
    }
    return { code: code as Admission, bookingId: id, detail };
  }

  /** Load a goods' live state unless present; `active` is each user's confirmed quantity. */
  async load(goods: GoodsBookingState, active: Map<number, number>, pending = 0): Promise<boolean> {
    const pairs = [...active].flatMap(([userId, quantity]) => [userId, quantity]);
    const loaded = await this.redis.loadGoods(
      bookingKeys.goods(goods.id),
      bookingKeys.goodsUsers(goods.id),
      goods.bookingLimit - goods.bookingCount - pending,
      goods.maxPerUser,
      goods.saleStartsAt?.getTime() ?? 0,
      goods.saleEndsAt?.getTime() ?? 0,
      ...pairs,
    );
    return loaded === 1;
  }

  async update(goods: Omit<GoodsBookingState, 'bookingCount'>, limitDelta: number): Promise<void> {
    await this.redis.updateGoods(
      bookingKeys.goods(goods.id),
      limitDelta,
      goods.maxPerUser,
      goods.saleStartsAt?.getTime() ?? 0,
      goods.saleEndsAt?.getTime() ?? 0,
    );
  }

  async forget(goodsId: number): Promise<void> {
    await this.redis.del(bookingKeys.goods(goodsId), bookingKeys.goodsUsers(goodsId));
  }

  /**
   * Record committed outcomes (rejected bookings give their stock back, once) and take their
   * entries off the booking log: acknowledged for `group` and deleted, in the same script.
   */
  async settle(outcomes: BookingOutcome[], logEntryIds: string[], group: string): Promise<void> {
    if (outcomes.length === 0 && logEntryIds.length === 0) {
      return;
    }
    outcomes.forEach((o) => o.status === 'REJECTED' && this.changedStock(o.goodsId));
    const args = outcomes.flatMap((o) => [
      o.id,
      o.goodsId,
      o.userId,
      o.quantity,
      o.status,
      o.reason ?? '',
    ]);
    await this.redis.settleBookings(
      bookingKeys.bookingPrefix,
      bookingKeys.goodsPrefix,
      bookingKeys.log,
      SETTLED_TTL_SECONDS,
      group,
      logEntryIds.length,
      ...logEntryIds,
      ...args,
    );
  }

  async release(
    goodsId: number,
    ownerId: number,
    quantity: number,
    promotedUserIds: number[],
  ): Promise<number> {
    this.changedStock(goodsId);
    return this.redis.releaseBooking(
      bookingKeys.goods(goodsId),
      bookingKeys.goodsUsers(goodsId),
      ownerId,
      quantity,
      ...promotedUserIds,
    );
  }

  hitRateLimit(userId: number): Promise<[number, number, number]> {
    return this.redis.hitWindow(
      bookingKeys.rate(userId),
      1000,
      this.config.bookingRateLimitPerSecond,
    );
  }

  async getBooking(bookingId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(bookingKeys.booking(bookingId));
  }

  /** Live stock of several goods in one round trip (undefined where not loaded). */
  async remainingOf(goodsIds: number[]): Promise<(number | undefined)[]> {
    const pipeline = this.redis.pipeline();
    goodsIds.forEach((id) => pipeline.hget(bookingKeys.goods(id), 'left'));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, left]) =>
      error || left === null ? undefined : Math.max(0, Number(left)),
    );
  }

  async publish(outcomes: BookingOutcome[]): Promise<void> {
    if (outcomes.length > 0) {
      await this.redis.publish(
        `${this.config.redisKeyPrefix}${bookingKeys.events}`,
        JSON.stringify(outcomes),
      );
    }
  }
}
