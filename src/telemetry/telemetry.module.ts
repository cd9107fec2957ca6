import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import { BookingModule } from '../booking/booking.module';
import { TelemetryController } from './telemetry.controller';
import { TimeController } from './time.controller';
import { tracing } from './tracing';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), BookingModule],
  controllers: [TelemetryController, TimeController],
})
export class TelemetryModule implements OnApplicationShutdown {
  /** The spans still buffered go to the collector before the process ends. */
  async onApplicationShutdown(): Promise<void> {
    await tracing.stop();
  }
}
