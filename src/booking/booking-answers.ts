import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import type { BookingDto } from './booking.dto';
import { BookingStatus } from './lifecycle';

/** What a booking request comes to: its HTTP status and the booking as the client sees it. */
export interface BookingAnswer {
  httpStatus: 200 | 201 | 202;
  booking: BookingDto;
}

export interface BookingOptions {
  idempotencyKey?: string;
  waitMs: number;
}

interface BookingLike {
  id: string;
  status: string;
  goodsId: number;
  quantity: number;
  reason?: string | null;
  requestedAt?: string;
  goodsTitle?: string;
}

export const toDto = (row: BookingLike): BookingDto => {
  const dto: BookingDto = {
    id: row.id,
    status: row.status,
    goodsId: row.goodsId,
    quantity: row.quantity,
  };
  if (row.reason) {
    dto.reason = row.reason;
  }
  if (row.requestedAt) {
    dto.requestedAt = row.requestedAt;
  }
  if (row.goodsTitle) {
    dto.goodsTitle = row.goodsTitle;
  }
  return dto;
};

export const answerFor = (booking: BookingDto): BookingAnswer => ({
  httpStatus:
    booking.status === BookingStatus.Pending
      ? 202
      : booking.status === BookingStatus.Confirmed
        ? 201
        : 200,
  booking,
});

/** Turn Redis connection trouble into a quick 503, never a hang or a 500. */
export async function redisOr503<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError) {
      throw error;
    }
    throw new AppError(ErrorCode.BookingUnavailable, undefined, { 'Retry-After': '1' });
  }
}
