import { Module } from '@nestjs/common';

import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';
import { StockRepository } from './stock.repository';
import { NoLiveStock, RedisStock, StockService } from './stock.service';

/** Under both the catalogue (goods) and booking; imports neither. */
@Module({
  providers: [
    {
      provide: StockService,
      inject: [AppConfig, REDIS],
      useFactory: (config: AppConfig, redis: ScriptedRedis): StockService =>
        config.bookingStrategy === 'redis' ? new RedisStock(redis) : new NoLiveStock(),
    },
    StockRepository,
  ],
  exports: [StockService, StockRepository],
})
export class StockModule {}
