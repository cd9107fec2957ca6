import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

import { toPositiveId } from './ids';

/** The bounds and defaults of `?page&limit` (the fast paths read the same). */
export const PAGE = { maxPage: 100_000, maxLimit: 100, defaultLimit: 20 } as const;

/** `?page&limit` for every paged list: page from 1, at most PAGE.maxLimit items a page. */
export class PageQuery {
  @ApiPropertyOptional({ example: 1, minimum: 1, maximum: PAGE.maxPage, default: 1 })
  @IsOptional()
  @Transform(toPositiveId)
  @IsInt()
  @Min(1)
  @Max(PAGE.maxPage)
  page: number = 1;

  @ApiPropertyOptional({
    example: PAGE.defaultLimit,
    minimum: 1,
    maximum: PAGE.maxLimit,
    default: PAGE.defaultLimit,
  })
  @IsOptional()
  @Transform(toPositiveId)
  @IsInt()
  @Min(1)
  @Max(PAGE.maxLimit)
  limit: number = PAGE.defaultLimit;
}
