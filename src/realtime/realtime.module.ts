import { Module } from '@nestjs/common';

import { BookingModule } from '../booking/booking.module';
import { GoodsModule } from '../goods/goods.module';
import { StockModule } from '../stock/stock.module';
import { RealtimeGateway } from './realtime.gateway';

@Module({ imports: [BookingModule, GoodsModule, StockModule], providers: [RealtimeGateway] })
export class RealtimeModule {}
