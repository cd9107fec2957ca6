import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import { Auth, AuthUser, Authenticated } from '../auth/auth-user';
import { ErrorBodyDto } from '../common/error-body.dto';
import { Role } from '../users/user.entity';
import {
  CreateGoodsDto,
  GoodsDto,
  GoodsIdParam,
  GoodsPageDto,
  ListGoodsQuery,
  UpdateGoodsDto,
} from './goods.dto';
import { GoodsService, JSON_TYPE } from './goods.service';

@ApiTags('goods')
@Controller('api/goods')
export class GoodsController {
  constructor(private readonly goods: GoodsService) {}

  // Both reads answer the JSON text GoodsService keeps in memory, as their fast paths do, so
  // a request the fast path declines is served from the same cache.
  @Get()
  @Header('Content-Type', JSON_TYPE)
  @ApiOperation({ summary: 'Goods, newest first, with remaining tickets' })
  @ApiOkResponse({ type: GoodsPageDto })
  list(@Query() query: ListGoodsQuery): Promise<string> {
    return this.goods.listJson(query);
  }

  @Get(':goodsId')
  @Header('Content-Type', JSON_TYPE)
  @ApiOperation({ summary: 'One goods with remaining tickets' })
  @ApiOkResponse({ type: GoodsDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto })
  get(@Param() { goodsId }: GoodsIdParam): Promise<string> {
    return this.goods.getJson(goodsId);
  }

  @Post()
  @HttpCode(201)
  @Authenticated(Role.Host, Role.Admin)
  @ApiOperation({ summary: 'Publish goods (host or admin); the caller becomes its host' })
  @ApiCreatedResponse({ type: GoodsDto })
  create(@Auth() who: AuthUser, @Body() dto: CreateGoodsDto): Promise<GoodsDto> {
    return this.goods.create(who, dto);
  }

  @Patch(':goodsId')
  @HttpCode(200)
  @Authenticated(Role.Host, Role.Admin)
  @ApiOperation({ summary: 'Edit goods (its host or an admin)' })
  @ApiOkResponse({ type: GoodsDto })
  @ApiNotFoundResponse({ type: ErrorBodyDto })
  @ApiConflictResponse({ type: ErrorBodyDto, description: 'BOOKING_LIMIT_BELOW_BOOKED' })
  update(
    @Auth() who: AuthUser,
    @Param() { goodsId }: GoodsIdParam,
    @Body() dto: UpdateGoodsDto,
  ): Promise<GoodsDto> {
    return this.goods.update(who, goodsId, dto);
  }

  @Delete(':goodsId')
  @HttpCode(204)
  @Authenticated(Role.Host, Role.Admin)
  @ApiOperation({ summary: 'Remove goods with no booked tickets (its host or an admin)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ErrorBodyDto })
  @ApiConflictResponse({ type: ErrorBodyDto, description: 'GOODS_HAS_BOOKINGS' })
  remove(@Auth() who: AuthUser, @Param() { goodsId }: GoodsIdParam): Promise<void> {
    return this.goods.remove(who, goodsId);
  }
}
