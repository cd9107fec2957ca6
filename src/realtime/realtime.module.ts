import { Module } from '@nestjs/common';

import { BookingModule } from '../booking/booking.module';
import { StockModule } from '../stock/stock.module';
import { RealtimeGateway } from './realtime.gateway';

@Module({ imports: [BookingModule, StockModule], providers: [RealtimeGateway] })
export class RealtimeModule {}
