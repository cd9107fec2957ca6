import { Injectable } from '@nestjs/common';

import type { StockState } from '../stock/stock.types';
import type { AuthUser } from '../auth/auth-user';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { AppConfig } from '../config/app-config';
import { StockService } from '../stock/stock.service';
import { PG_CHECK_VIOLATION, pgError } from '../database/sql';
import { Role } from '../users/user.entity';
import { GoodsCache } from './goods.cache';
import {
  CreateGoodsDto,
  GoodsDto,
  GoodsPageDto,
  ListGoodsQuery,
  UpdateGoodsDto,
} from './goods.dto';
import { GoodsFields, GoodsRepository } from './goods.repository';

const constraintErrors: Record<string, AppError> = {
  goods_not_oversold: new AppError(ErrorCode.BookingLimitBelowBooked),
  goods_sale_window: new AppError(
    ErrorCode.ValidationFailed,
    'saleEndsAt must be after saleStartsAt.',
  ),
};

const toStockState = (goods: GoodsDto): StockState => ({
  id: goods.id,
  bookingLimit: goods.bookingLimit,
  bookingCount: goods.bookingCount,
  maxPerUser: goods.maxPerUser,
  saleStartsAt: goods.saleStartsAt ? new Date(goods.saleStartsAt) : null,
  saleEndsAt: goods.saleEndsAt ? new Date(goods.saleEndsAt) : null,
});

interface LocalEntry {
  json: string;
  expires: number;
  stockVersion: number;
  writes: number;
}

const LOCAL_ENTRIES_MAX = 10_000;

/** The type of the JSON text goods reads answer (getJson, listJson). */
export const JSON_TYPE = 'application/json; charset=utf-8';

@Injectable()
export class GoodsService {
  /** Rendered goods reads in this process's memory, for GOODS_LOCAL_CACHE_MS at most. */
  private readonly local = new Map<string, LocalEntry>();
  /** Goods writes made by this process: any of them makes every local entry stale. */
  private writes = 0;

  constructor(
    private readonly goods: GoodsRepository,
    private readonly cache: GoodsCache,
    private readonly stock: StockService,
    private readonly config: AppConfig,
  ) {}

  private async get(goodsId: number): Promise<GoodsDto> {
    const goods = await this.cache.read(`d:${goodsId}`, (on) => this.goods.getById(goodsId, on));
    if (!goods) {
      throw new AppError(ErrorCode.NotFound, 'No such goods.');
    }
    return (await this.withLiveStock([goods]))[0];
  }

  /** Is there such goods? (Realtime watches only goods that exist; read through the cache.) */
  async exists(goodsId: number): Promise<boolean> {
    const goods = await this.cache.read(`d:${goodsId}`, (on) => this.goods.getById(goodsId, on));
    return goods !== undefined;
  }

  /**
   * Goods reads as JSON text, for the fast paths: from this process's memory when the entry
   * is younger than GOODS_LOCAL_CACHE_MS and nothing this process did since changed the goods
   * or its stock (its own bookings, cancels and edits show at once; other instances' within
   * the TTL). Otherwise as get() and list(): from Redis, then PostgreSQL.
   */
  getJson(goodsId: number): Promise<string> {
    return this.localJson(`d:${goodsId}`, this.stock.version(goodsId), () => this.get(goodsId));
  }

  listJson(query: ListGoodsQuery): Promise<string> {
    return this.localJson(`l:${query.page}:${query.limit}`, this.stock.version(), () =>
      this.list(query),
    );
  }

  private async localJson(
    key: string,
    stockVersion: number,
    load: () => Promise<unknown>,
  ): Promise<string> {
    const now = Date.now();
    const hit = this.local.get(key);
    if (
      hit !== undefined &&
      hit.expires > now &&
      hit.stockVersion === stockVersion &&
      hit.writes === this.writes
    ) {
      return hit.json;
    }
    const writes = this.writes;
    const json = JSON.stringify(await load());
    if (this.config.goodsLocalCacheMs > 0) {
      if (this.local.size >= LOCAL_ENTRIES_MAX) {
        this.local.clear();
      }
      this.local.set(key, {
        json,
        expires: now + this.config.goodsLocalCacheMs,
        stockVersion,
        writes,
      });
    }
    return json;
  }

  private async list({ page, limit }: ListGoodsQuery): Promise<GoodsPageDto> {
    const { items, total } = await this.cache.read(`l:${page}:${limit}`, (on) =>
      this.goods.getPage(page, limit, on),
    );
    return { items: await this.withLiveStock(items), page, limit, total };
  }

  /** The caller's goods (an admin's: all), fresh from PostgreSQL with live stock. */
  async hostedPage(who: AuthUser, { page, limit }: ListGoodsQuery): Promise<GoodsPageDto> {
    const hostId = who.role === Role.Admin ? undefined : who.id;
    const { items, total } = await this.goods.getPageOfHost(hostId, page, limit);
    return { items: await this.withLiveStock(items), page, limit, total };
  }

  /**
   * Cached rows carry the stock of when they were cached; under the Redis strategy the live
   * stock is in Redis (one pipelined read for a whole page).
   */
  private async withLiveStock(items: GoodsDto[]): Promise<GoodsDto[]> {
    if (items.length === 0) {
      return items;
    }
    const live = await this.stock
      .remainingOf(items.map((g) => g.id))
      .catch(() => items.map(() => undefined));
    return items.map((g, i) => (live[i] === undefined ? g : { ...g, remaining: live[i] }));
  }

  async create(who: AuthUser, dto: CreateGoodsDto): Promise<GoodsDto> {
    const created = await this.write(() =>
      this.goods.create(who.id, {
        ...dto,
        saleStartsAt: dto.saleStartsAt ?? null,
        saleEndsAt: dto.saleEndsAt ?? null,
        maxPerUser: dto.maxPerUser ?? 1,
      }),
    );
    await this.stock.load(toStockState(created), new Map()).catch(() => undefined);
    return created;
  }

  async update(who: AuthUser, goodsId: number, dto: UpdateGoodsDto): Promise<GoodsDto> {
    const current = await this.getOwned(who, goodsId);
    if (dto.bookingLimit !== undefined && dto.bookingLimit < current.bookingCount) {
      throw new AppError(ErrorCode.BookingLimitBelowBooked);
    }
    if (Object.values(dto).every((v) => v === undefined)) {
      return current; // nothing to change: no write, no new updatedAt
    }
    const updated = await this.write(() => this.goods.update(goodsId, dto as Partial<GoodsFields>));
    if (!updated) {
      throw new AppError(ErrorCode.NotFound, 'No such goods.');
    }
    await this.syncStock(updated, updated.bookingLimit - current.bookingLimit);
    return updated;
  }

  async remove(who: AuthUser, goodsId: number): Promise<void> {
    await this.getOwned(who, goodsId);
    const outcome = await this.write(() => this.goods.deleteUnbooked(goodsId));
    if (outcome === 'booked') {
      throw new AppError(ErrorCode.GoodsHasBookings);
    }
    if (outcome === 'history') {
      throw new AppError(
        ErrorCode.GoodsHasBookings,
        'Goods with cancelled or refused bookings cannot be deleted: they are their users’ history.',
      );
    }
    if (outcome === 'missing') {
      throw new AppError(ErrorCode.NotFound, 'No such goods.');
    }
    await this.stock.forget(goodsId).catch(() => undefined);
  }

  /** Keep the live stock in step with an edit (if Redis is away, reconcile repairs it). */
  private async syncStock(goods: GoodsDto, limitDelta: number): Promise<void> {
    await this.stock.update(toStockState(goods), limitDelta).catch(() => undefined);
  }

  /** Its host or an admin; reads the database, not the cache, before a write. */
  private async getOwned(who: AuthUser, goodsId: number): Promise<GoodsDto> {
    const goods = await this.goods.getById(goodsId);
    if (!goods) {
      throw new AppError(ErrorCode.NotFound, 'No such goods.');
    }
    if (goods.hostId !== who.id && who.role !== Role.Admin) {
      throw new AppError(ErrorCode.Forbidden, 'Only its host or an admin can change this goods.');
    }
    return goods;
  }

  /** Run a write, map constraint violations to 4xx, and invalidate the read cache. */
  private async write<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const { code, constraint } = pgError(error);
      if (
        code === PG_CHECK_VIOLATION &&
        constraint !== undefined &&
        constraint in constraintErrors
      ) {
        throw constraintErrors[constraint];
      }
      throw error;
    } finally {
      this.writes++;
      this.local.clear();
      await this.cache.invalidate();
    }
  }
}
