import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';

import { Auth, AuthUser, Authenticated } from '../auth/auth-user';
import { GoodsDto, ListGoodsQuery } from '../goods/goods.dto';
import { GoodsService } from '../goods/goods.service';
import { Role } from '../users/user.entity';
import { WaitlistRepository } from './waitlist.repository';

export class SalesDto {
  @ApiProperty({ type: GoodsDto }) goods: GoodsDto;
  @ApiProperty({ example: 12, description: 'people on the waitlist' }) waitlist: number;
}

export class SalesPageDto {
  @ApiProperty({ type: [SalesDto] }) items: SalesDto[];
  @ApiProperty({ example: 1 }) page: number;
  @ApiProperty({ example: 20 }) limit: number;
  @ApiProperty({ example: 3 }) total: number;
}

/** A host's own goods with how each sells (an admin sees every goods). */
@ApiTags('goods')
@Controller('api/me/sales')
export class SalesController {
  constructor(
    private readonly goods: GoodsService,
    private readonly waitlist: WaitlistRepository,
  ) {}

  @Get()
  @Authenticated(Role.Host, Role.Admin)
  @ApiOperation({
    summary: "The caller's goods, newest first, with booked / limit and the waitlist's length",
  })
  @ApiOkResponse({ type: SalesPageDto })
  async list(@Auth() who: AuthUser, @Query() query: ListGoodsQuery): Promise<SalesPageDto> {
    const page = await this.goods.hostedPage(who, query);
    const waiting = await this.waitlist.waitingFor(page.items.map((g) => g.id));
    return {
      ...page,
      items: page.items.map((goods) => ({ goods, waitlist: waiting.get(goods.id) ?? 0 })),
    };
  }
}
