import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import { BookingModule } from '../booking/booking.module';
import { HealthController } from './health.controller';
import { TimeController } from './time.controller';
import { tracing } from '../telemetry/tracing';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), BookingModule],
  controllers: [HealthController, TimeController],
})
export class HealthModule implements OnApplicationShutdown {
  /** The spans still buffered go to the collector before the process ends. */
  async onApplicationShutdown(): Promise<void> {
    await tracing.stop();
  }
}
