import { Global, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule, ConfigService } from '@nestjs/config';

import { AppConfig } from './app-config';
import { parseEnv } from './env.schema';

const APP_CONFIG_KEY = '__appConfig';

@Global()
@Module({
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
})
export class ConfigModule {}
