/**
 * What pressing Book does, as a pure state machine (the page only renders it and runs its
 * effects). One press is one booking, whatever happens to the request:
 * - a press makes a fresh Idempotency-Key; every retry of that press reuses it, so the
 *   server makes at most one booking of it (a double click is one press: while a press is
 *   in flight, waiting or pending, pressing again does nothing);
 * - 429 and 503 wait as long as Retry-After says (visible as a countdown), then retry;
 *   a network error waits 1, 2, 4 … 16 s, then retries; after MAX_ATTEMPTS it gives up;
 * - 202 PENDING waits for `booking.status` (Socket.IO) or a poll of the booking;
 * - 201 CONFIRMED, a refusal (409, 422) or a final status ends the press.
 */

export type BookingState =
  | { kind: 'idle' }
  | { kind: 'sending'; key: string; attempt: number }
  | { kind: 'waiting'; key: string; attempt: number; untilMs: number; code: string }
  | { kind: 'pending'; key: string; bookingId: string }
  | { kind: 'confirmed'; bookingId: string }
  | { kind: 'refused'; code: string }
  | { kind: 'failed'; code: string };

export type BookingEvent =
  | { type: 'press'; key: string }
  | { type: 'answer'; status: number; body: unknown; retryAfterMs: number; nowMs: number }
  | { type: 'networkError'; nowMs: number }
  | { type: 'retryDue' }
  | { type: 'status'; bookingId: string; status: string; reason?: string }
  /** Start again (a new press is possible after a final state anyway). */
  | { type: 'reset' };

export const MAX_ATTEMPTS = 8;
const NETWORK_BACKOFF_MS = [1000, 2000, 4000, 8000, 16_000];

export const initialBookingState: BookingState = { kind: 'idle' };

/** A press is in progress: Book stays disabled. */
export const isBusy = (state: BookingState): boolean =>
  state.kind === 'sending' || state.kind === 'waiting' || state.kind === 'pending';

function codeOf(body: unknown): string | undefined {
  const code = (body as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

type Sending = Extract<BookingState, { kind: 'sending' }>;
type Answer = Extract<BookingEvent, { type: 'answer' }>;

/** 201 or 202: the booking exists; CONFIRMED ends the press, PENDING waits for its outcome. */
function fromAccepted(state: Sending, body: unknown): BookingState {
  const { id, status } = (body ?? {}) as { id?: unknown; status?: unknown };
  if (typeof id !== 'string') {
    return { kind: 'failed', code: 'INTERNAL_ERROR' };
  }
  if (status === 'CONFIRMED') {
    return { kind: 'confirmed', bookingId: id };
  }
  return status === 'REJECTED'
    ? { kind: 'refused', code: 'REJECTED' }
    : { kind: 'pending', key: state.key, bookingId: id };
}

/** Not now (429, 503): wait as told, unless this press has tried often enough. */
function fromBusy(state: Sending, event: Answer, code: string): BookingState {
  return state.attempt >= MAX_ATTEMPTS
    ? { kind: 'failed', code }
    : {
        kind: 'waiting',
        key: state.key,
        attempt: state.attempt,
        untilMs: event.nowMs + event.retryAfterMs,
        code,
      };
}

function fromAnswer(state: Sending, event: Answer): BookingState {
  if (event.status === 201 || event.status === 202) {
    return fromAccepted(state, event.body);
  }
  const code = codeOf(event.body) ?? `HTTP_${event.status}`;
  if (event.status === 429 || event.status === 503) {
    return fromBusy(state, event, code);
  }
  const refused = event.status >= 400 && event.status < 500 && event.status !== 401;
  return refused ? { kind: 'refused', code } : { kind: 'failed', code };
}

function fromNetworkError(state: Sending, nowMs: number): BookingState {
  if (state.attempt >= MAX_ATTEMPTS) {
    return { kind: 'failed', code: 'NETWORK_ERROR' };
  }
  const wait = NETWORK_BACKOFF_MS[Math.min(state.attempt - 1, NETWORK_BACKOFF_MS.length - 1)];
  return {
    kind: 'waiting',
    key: state.key,
    attempt: state.attempt,
    untilMs: nowMs + wait,
    code: 'NETWORK_ERROR',
  };
}

function fromStatus(
  state: BookingState,
  event: Extract<BookingEvent, { type: 'status' }>,
): BookingState {
  if (
    state.kind !== 'pending' ||
    state.bookingId !== event.bookingId ||
    event.status === 'PENDING'
  ) {
    return state;
  }
  return event.status === 'CONFIRMED'
    ? { kind: 'confirmed', bookingId: event.bookingId }
    : { kind: 'refused', code: event.reason ?? event.status };
}

/** A wait is over: the same press, the same key, one more attempt. */
const retried = (state: BookingState): BookingState =>
  state.kind === 'waiting'
    ? { kind: 'sending', key: state.key, attempt: state.attempt + 1 }
    : state;

export function bookingReducer(state: BookingState, event: BookingEvent): BookingState {
  switch (event.type) {
    case 'press':
      return isBusy(state) ? state : { kind: 'sending', key: event.key, attempt: 1 };
    case 'answer':
      return state.kind === 'sending' ? fromAnswer(state, event) : state;
    case 'networkError':
      return state.kind === 'sending' ? fromNetworkError(state, event.nowMs) : state;
    case 'retryDue':
      return retried(state);
    case 'status':
      return fromStatus(state, event);
    case 'reset':
      return isBusy(state) ? state : initialBookingState;
  }
}
