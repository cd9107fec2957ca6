import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import { TelemetryController } from './telemetry.controller';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' })],
  controllers: [TelemetryController],
})
export class TelemetryModule {}
