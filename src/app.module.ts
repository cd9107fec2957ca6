import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { AuthModule } from './auth/auth.module';
import { BookingModule } from './booking/booking.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source';
import { DatabaseModule } from './database/database.module';
import { GoodsEntity } from './goods/goods.entity';
import { GoodsModule } from './goods/goods.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RealtimeModule } from './realtime/realtime.module';
import { RedisModule } from './redis/redis.module';
import { HealthModule } from './health/health.module';
import { UserEntity } from './users/user.entity';

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        TypeOrmModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) =>
            dataSourceOptions(config.databaseUrl, config.databasePoolSize, [
              UserEntity,
              GoodsEntity,
            ]),
        }),
        DatabaseModule,
        RedisModule,
        RateLimitModule,
        AuthModule,
        GoodsModule,
        BookingModule,
        RealtimeModule,
        HealthModule,
      ],
    };
  }
}
