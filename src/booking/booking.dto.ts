import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsUUID, Max, Min, ValidateIf } from 'class-validator';

import { PageQuery } from '../common/page-query';
import { BOOKING_STATUSES, BookingStatus } from './lifecycle';

/** Tickets one request may ask for; the goods' maxPerUser may allow fewer. */
export const BOOKING_QUANTITY = { min: 1, max: 100, default: 1 } as const;

export class BookRequestDto {
  @ApiPropertyOptional({
    example: 1,
    minimum: BOOKING_QUANTITY.min,
    maximum: BOOKING_QUANTITY.max,
    default: BOOKING_QUANTITY.default,
    description: "at most the goods' maxPerUser",
  })
  @ValidateIf((_, v) => v !== undefined)
  @IsInt()
  @Min(BOOKING_QUANTITY.min)
  @Max(BOOKING_QUANTITY.max)
  quantity?: number;
}

export class BookingIdParam {
  @ApiProperty({ example: '0b8f7c1e-5d1a-4c3e-9d7a-2f6e1b0c9a11' })
  @IsUUID('all', { message: 'bookingId must be a UUID' })
  bookingId: string;
}

export class ListBookingsQuery extends PageQuery {}

export class BookingDto {
  @ApiProperty({ example: '0b8f7c1e-5d1a-4c3e-9d7a-2f6e1b0c9a11' }) id: string;
  @ApiProperty({ enum: BOOKING_STATUSES, example: BookingStatus.Pending })
  status: string;
  @ApiProperty({ example: 1 }) goodsId: number;
  @ApiProperty({ example: 1 }) quantity: number;
  @ApiPropertyOptional({ example: 'SOLD_OUT', description: 'why a booking was REJECTED' })
  reason?: string;
  @ApiPropertyOptional({ example: '2026-11-24T10:00:00.000Z' }) requestedAt?: string;
  @ApiPropertyOptional({ example: 'Aurora Live in Seoul' }) goodsTitle?: string;
}

export class BookingPageDto {
  @ApiProperty({ type: [BookingDto] }) items: BookingDto[];
  @ApiProperty({ example: 1 }) page: number;
  @ApiProperty({ example: 20 }) limit: number;
  @ApiProperty({ example: 3 }) total: number;
}

export class WaitlistPositionDto {
  @ApiProperty({ example: 1 }) goodsId: number;
  @ApiProperty({ example: 3, description: '1 = next to get a returned ticket' }) position: number;
  @ApiProperty({ example: 12 }) waiting: number;
}
