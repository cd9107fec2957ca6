import { Module } from '@nestjs/common';

import { BookingState } from './booking-state';
import { BookingEvents } from './booking-events';
import { BookingController } from './booking.controller';
import { BookingMetrics } from './booking.metrics';
import { BookingRepository } from './booking.repository';
import { BookingService } from './booking.service';
import { BookingWorker } from './booking.worker';

@Module({
  controllers: [BookingController],
  providers: [
    BookingService,
    BookingState,
    BookingRepository,
    BookingEvents,
    BookingMetrics,
    BookingWorker,
  ],
  exports: [BookingState, BookingService, BookingRepository, BookingEvents],
})
export class BookingModule {}
