import { Module } from '@nestjs/common';

import { BookingModule } from '../booking/booking.module';
import { RealtimeGateway } from './realtime.gateway';

@Module({ imports: [BookingModule], providers: [RealtimeGateway] })
export class RealtimeModule {}
