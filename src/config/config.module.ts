import { DynamicModule, Module } from '@nestjs/common';

import { AppConfig } from './app-config';

@Module({})
export class ConfigModule {
  /**
   * The configuration the caller parsed once (main.ts, a test, the bench), so a process can
   * build apps with different settings without writing them into process.env.
   */
  static register(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      global: true,
      providers: [{ provide: AppConfig, useValue: config }],
      exports: [AppConfig],
    };
  }
}
