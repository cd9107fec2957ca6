import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import { BookingModule } from '../booking/booking.module';
import { TelemetryController } from './telemetry.controller';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), BookingModule],
  controllers: [TelemetryController],
})
export class TelemetryModule {}
