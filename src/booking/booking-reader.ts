import { Injectable } from '@nestjs/common';

import type { AuthUser } from '../auth/auth-user';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { toDto } from './booking-answers';
import { BookingState } from './booking-state';
import type { BookingDto } from './booking.dto';
import { BookingRepository } from './booking.repository';
import { BookingStatus } from './lifecycle';

/** A booking as its owner reads it: PENDING from Redis while it is in flight, then PostgreSQL. */
@Injectable()
export class BookingReader {
  constructor(
    private readonly state: BookingState,
    private readonly repository: BookingRepository,
  ) {}

  /** A booking of the caller's; anyone else's is "not found" (existence is not leaked). */
  async owned(who: AuthUser, bookingId: string): Promise<BookingDto> {
    const live = await this.state.getBooking(bookingId).catch(() => undefined);
    if (live?.status === BookingStatus.Pending && Number(live.u) === who.id) {
      return {
        id: bookingId,
        status: BookingStatus.Pending,
        goodsId: Number(live.g),
        quantity: Number(live.q),
      };
    }
    const row = await this.repository.getById(bookingId);
    if (!row || row.userId !== who.id) {
      throw new AppError(ErrorCode.NotFound, 'No such booking.');
    }
    return toDto(row);
  }
}
