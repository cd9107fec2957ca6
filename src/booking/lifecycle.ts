/**
 * A booking's life, in one place (issue 24): its statuses, the moves between them, and which
 * statuses hold a seat. No status literal stands outside this file: TypeScript names
 * `BookingStatus.*`, SQL takes the fragments below (a test scans src/ for strays, another
 * compares STORED_STATUSES with the table's CHECK constraint). A new status (the checkout's
 * HELD and EXPIRED) is a change here, its transitions and its tests.
 *
 *   PENDING ──► CONFIRMED ──► CANCELLED
 *      │
 *      └──────► REJECTED
 *
 * PENDING lives in Redis only (admitted, not yet written); a row in PostgreSQL is one of the
 * others.
 */
export const BookingStatus = {
  Pending: 'PENDING',
  Confirmed: 'CONFIRMED',
  Rejected: 'REJECTED',
  Cancelled: 'CANCELLED',
} as const;

export type BookingStatus = (typeof BookingStatus)[keyof typeof BookingStatus];

/** Every status, in the order of the diagram. */
export const BOOKING_STATUSES: readonly BookingStatus[] = Object.values(BookingStatus);

/** The moves a booking may make; a status with none is final. */
export const TRANSITIONS: { readonly [S in BookingStatus]: readonly BookingStatus[] } = {
  [BookingStatus.Pending]: [BookingStatus.Confirmed, BookingStatus.Rejected],
  [BookingStatus.Confirmed]: [BookingStatus.Cancelled],
  [BookingStatus.Rejected]: [],
  [BookingStatus.Cancelled]: [],
};

export function canMove(from: BookingStatus, to: BookingStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** What a writer may decide for a PENDING booking. */
export type DecidedStatus = (typeof TRANSITIONS)['PENDING'][number];

/** The statuses a row of `bookings` may have (its CHECK constraint says the same). */
export const STORED_STATUSES: readonly BookingStatus[] = BOOKING_STATUSES.filter(
  (s) => s !== BookingStatus.Pending,
);

/** What holds a seat: counted against the stock and against the per-user limit. */
export const SEAT_HOLDING: readonly BookingStatus[] = [BookingStatus.Confirmed];

/** One status as an SQL literal: `'CONFIRMED'`. */
export function sqlStatus(status: BookingStatus): string {
  return `'${status}'`;
}

/**
 * SQL: "`column` holds a seat", with the statuses as literals (a constant in the statement's
 * text, so the planner sees it and a prepared statement stays one plan): `b.status IN
 * ('CONFIRMED')`.
 */
export function holdsSeat(column = 'status'): string {
  return `${column} IN (${SEAT_HOLDING.map(sqlStatus).join(', ')})`;
}
