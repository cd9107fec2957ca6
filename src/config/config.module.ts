import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule, ConfigService } from '@nestjs/config';

import { AppConfig } from './app-config';
import { parseEnv } from './env.schema';

const APP_CONFIG_KEY = '__appConfig';

@Module({})
export class ConfigModule {
  /**
   * Reads and validates the environment when the application is created (not when this file
   * is imported), so a process can build apps with different settings.
   */
  static register(): DynamicModule {
    return {
      module: ConfigModule,
      global: true,
      imports: [
        NestConfigModule.forRoot({
          ignoreEnvFile: true,
          validate: (raw: Record<string, unknown>) => ({
            [APP_CONFIG_KEY]: new AppConfig(parseEnv(raw as Record<string, string | undefined>)),
          }),
        }),
      ],
      providers: [
        {
          provide: AppConfig,
          inject: [ConfigService],
          useFactory: (config: ConfigService) => config.getOrThrow<AppConfig>(APP_CONFIG_KEY),
        },
      ],
      exports: [AppConfig],
    };
  }
}
