import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsInt,
  IsString,
  IsUrl,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';

import { IsDateTime } from '../common/date-time';
import { PageQuery } from '../common/page-query';
import { PG_INT_MAX, toPositiveId } from '../common/ids';

export class CreateGoodsDto {
  @ApiProperty({ example: 'IU 2027 World Tour — Seoul', minLength: 1, maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  title: string;

  @ApiProperty({ example: 'Olympic Park KSPO Dome, 2 hours, all ages.', maxLength: 10_000 })
  @IsString()
  @MaxLength(10_000)
  content: string;

  @ApiProperty({
    example: 99_000,
    minimum: 0,
    description: 'integer, in the smallest currency unit',
  })
  @IsInt()
  @Min(0)
  @Max(PG_INT_MAX)
  price: number;

  @ApiProperty({ example: 'https://img.example.com/iu-2027.jpg', maxLength: 2048 })
  @IsString()
  @MaxLength(2048)
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  imgUrl: string;

  @ApiProperty({ example: '2027-03-01T19:00:00+09:00', description: 'ISO 8601 date-time' })
  @IsDateTime()
  showDate: string;

  @ApiProperty({ example: 1000, minimum: 1, description: 'number of tickets' })
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  bookingLimit: number;

  @ApiPropertyOptional({
    type: String,
    example: '2027-01-10T20:00:00+09:00',
    nullable: true,
    description: 'sale opens (none: open now)',
  })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsDateTime()
  saleStartsAt?: string | null;

  @ApiPropertyOptional({
    type: String,
    example: '2027-02-28T23:59:59+09:00',
    nullable: true,
    description: 'sale closes (none: never)',
  })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsDateTime()
  saleEndsAt?: string | null;

  @ApiPropertyOptional({
    example: 2,
    minimum: 1,
    maximum: 100,
    default: 1,
    description: 'tickets one user may hold',
  })
  @ValidateIf((_, v) => v !== undefined) // null is refused, not taken as "default"
  @IsInt()
  @Min(1)
  @Max(100)
  maxPerUser?: number;
}

/** Every field optional, but `null` only where the field is nullable (sale window). */
export class UpdateGoodsDto extends PartialType(CreateGoodsDto, { skipNullProperties: false }) {}

export class GoodsIdParam {
  @ApiProperty({ example: 1 })
  @Transform(toPositiveId)
  @IsInt({ message: 'goodsId must be a positive integer' })
  @Min(1)
  @Max(PG_INT_MAX)
  goodsId: number;
}

export class ListGoodsQuery extends PageQuery {}

export class GoodsDto {
  @ApiProperty({ example: 1 }) id: number;
  @ApiProperty({ example: 'IU 2027 World Tour — Seoul' }) title: string;
  @ApiProperty({ example: 'Olympic Park KSPO Dome, 2 hours, all ages.' }) content: string;
  @ApiProperty({ example: 99_000 }) price: number;
  @ApiProperty({ example: 'https://img.example.com/iu-2027.jpg' }) imgUrl: string;
  @ApiProperty({ example: '2027-03-01T10:00:00.000Z' }) showDate: string;
  @ApiProperty({ example: 1000 }) bookingLimit: number;
  @ApiProperty({ example: 120 }) bookingCount: number;
  @ApiProperty({ example: 880, description: 'bookingLimit − bookingCount' }) remaining: number;
  @ApiProperty({ example: '2027-01-10T11:00:00.000Z', nullable: true, type: String }) saleStartsAt:
    string | null;
  @ApiProperty({ example: null, nullable: true, type: String }) saleEndsAt: string | null;
  @ApiProperty({ example: 1 }) maxPerUser: number;
  @ApiProperty({ example: 3 }) hostId: number;
  @ApiProperty({ example: '2026-11-24T10:00:00.000Z' }) createdAt: string;
  @ApiProperty({ example: '2026-11-24T10:00:00.000Z' }) updatedAt: string;
}

export class GoodsPageDto {
  @ApiProperty({ type: [GoodsDto] }) items: GoodsDto[];
  @ApiProperty({ example: 1 }) page: number;
  @ApiProperty({ example: 20 }) limit: number;
  @ApiProperty({ example: 57 }) total: number;
}
