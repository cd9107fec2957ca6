import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import { BookingModule } from '../booking/booking.module';
import { TelemetryController } from './telemetry.controller';
import { TimeController } from './time.controller';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), BookingModule],
  controllers: [TelemetryController, TimeController],
})
export class TelemetryModule {}
