import type { DecidedStatus } from './lifecycle';

export type { BookingStatus } from './lifecycle';

/** One admitted request, as the booking log carries it. */
export interface LoggedBooking {
  streamId: string;
  id: string;
  goodsId: number;
  userId: number;
  quantity: number;
  idempotencyKey: string | null;
  requestedAtMs: number;
  /** The admitting request's W3C traceparent (tracing on): the writer's batch span links it. */
  traceparent?: string;
}

export interface BookingOutcome {
  id: string;
  goodsId: number;
  userId: number;
  quantity: number;
  status: DecidedStatus;
  reason: string | null;
  /** A waitlisted user's new booking, made by a cancellation. */
  promoted?: boolean;
}
