import { Module } from '@nestjs/common';

import { AppConfig } from '../config/app-config';
import { GoodsModule } from '../goods/goods.module';
import { StockModule } from '../stock/stock.module';
import { BookingReader } from './booking-reader';
import { BookingStrategy } from './booking-strategy';
import { RowLockBookingStrategy } from './pg-lock-booking.strategy';
import { RedisBookingStrategy } from './redis-booking.strategy';

import { BookingState } from './booking-state';
import { BookingEvents } from './booking-events';
import { BookingController } from './booking.controller';
import { SalesController } from './sales.controller';
import { BookingMetrics } from './booking.metrics';
import { BookingWriterRepository } from './booking-writer.repository';
import { BookingRepository } from './booking.repository';
import { CancellationRepository } from './cancellation.repository';
import { RowLockRepository } from './row-lock.repository';
import { WaitlistRepository } from './waitlist.repository';
import { BookingService } from './booking.service';
import { BookingWriter } from './booking.writer';
import { WriterHealth } from './writer-health';
import { WriterThreadShutdown } from './writer-thread';

@Module({
  imports: [GoodsModule, StockModule],
  controllers: [BookingController, SalesController],
  providers: [
    BookingService,
    BookingReader,
    RedisBookingStrategy,
    RowLockBookingStrategy,
    {
      // Picked once: every caller gets the strategy BOOKING_STRATEGY names.
      provide: BookingStrategy,
      inject: [AppConfig, RedisBookingStrategy, RowLockBookingStrategy],
      useFactory: (
        config: AppConfig,
        redis: RedisBookingStrategy,
        rowLock: RowLockBookingStrategy,
      ): BookingStrategy => (config.bookingStrategy === 'redis' ? redis : rowLock),
    },
    BookingState,
    BookingRepository,
    BookingWriterRepository,
    CancellationRepository,
    RowLockRepository,
    WaitlistRepository,
    BookingEvents,
    BookingMetrics,
    BookingWriter,
    WriterThreadShutdown,
    WriterHealth,
  ],
  exports: [BookingState, BookingService, BookingRepository, BookingEvents, WriterHealth],
})
export class BookingModule {}
