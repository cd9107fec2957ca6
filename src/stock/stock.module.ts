import { Module } from '@nestjs/common';

import { StockRepository } from './stock.repository';
import { StockService } from './stock.service';

/** Under both the catalogue (goods) and booking; imports neither. */
@Module({
  providers: [StockService, StockRepository],
  exports: [StockService, StockRepository],
})
export class StockModule {}
