import { Module } from '@nestjs/common';

import { StockModule } from '../stock/stock.module';

import { GoodsCache } from './goods.cache';
import { GoodsController } from './goods.controller';
import { GoodsRepository } from './goods.repository';
import { GoodsService } from './goods.service';

@Module({
  imports: [StockModule],
  controllers: [GoodsController],
  providers: [GoodsService, GoodsRepository, GoodsCache],
  exports: [GoodsService, GoodsRepository, GoodsCache],
})
export class GoodsModule {}
