import { Injectable } from '@nestjs/common';

import type { AuthUser } from '../auth/auth-user';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
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

@Injectable()
export class GoodsService {
  constructor(
    private readonly goods: GoodsRepository,
    private readonly cache: GoodsCache,
  ) {}

  get(goodsId: number): Promise<GoodsDto> {
    return this.cache
      .read(`d:${goodsId}`, () => this.goods.getById(goodsId))
      .then((goods) => {
        if (!goods) {
          throw new AppError(ErrorCode.NotFound, 'No such goods.');
        }
        return goods;
      });
  }

  async list({ page, limit }: ListGoodsQuery): Promise<GoodsPageDto> {
    const { items, total } = await this.cache.read(`l:${page}:${limit}`, () =>
      this.goods.getPage(page, limit),
    );
    return { items, page, limit, total };
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
    return updated;
  }

  async remove(who: AuthUser, goodsId: number): Promise<void> {
    await this.getOwned(who, goodsId);
    const outcome = await this.write(() => this.goods.deleteUnbooked(goodsId));
    if (outcome === 'booked') {
      throw new AppError(ErrorCode.GoodsHasBookings);
    }
    if (outcome === 'missing') {
      throw new AppError(ErrorCode.NotFound, 'No such goods.');
    }
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
      await this.cache.invalidate();
    }
  }
}
