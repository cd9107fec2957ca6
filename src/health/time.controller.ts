import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';

import { PRIVATE_NO_STORE } from '../common/cache-control';

export class ServerTimeDto {
  @ApiProperty({ example: 1796126882504, description: "the server's clock, ms since 1970" })
  now: number;
}

/**
 * The server's clock for the web app: a sale opens by it, so a page counts down by it, not by
 * a laptop's clock that may run minutes off (the page measures the round trip as well).
 */
@ApiTags('ops')
@Controller('api/time')
export class TimeController {
  @Get()
  @Header('Cache-Control', PRIVATE_NO_STORE)
  @ApiOperation({ summary: "The server's time (for countdowns)" })
  @ApiOkResponse({ type: ServerTimeDto })
  now(): ServerTimeDto {
    return { now: Date.now() };
  }
}
