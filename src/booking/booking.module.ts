import { Module } from '@nestjs/common';

import { StockModule } from '../stock/stock.module';

import { BookingState } from './booking-state';
import { BookingEvents } from './booking-events';
import { BookingController } from './booking.controller';
import { BookingMetrics } from './booking.metrics';
import { BookingRepository } from './booking.repository';
import { BookingService } from './booking.service';
import { BookingWorker } from './booking.worker';
import { WriterHealth } from './writer-health';
import { WriterThreadShutdown } from './writer-thread';

@Module({
  imports: [StockModule],
  controllers: [BookingController],
  providers: [
    BookingService,
    BookingState,
    BookingRepository,
    BookingEvents,
    BookingMetrics,
    BookingWorker,
    WriterThreadShutdown,
    WriterHealth,
  ],
  exports: [BookingState, BookingService, BookingRepository, BookingEvents, WriterHealth],
})
export class BookingModule {}
