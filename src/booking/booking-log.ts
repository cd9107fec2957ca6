import { plainId } from '../common/ids';
import { TRACEPARENT } from '../telemetry/tracing';
import type { LoggedBooking } from './booking.types';

/** An entry as XREADGROUP / XAUTOCLAIM / XRANGE return it (fields null: deleted meanwhile). */
export type StreamEntry = [id: string, fields: string[] | null];

/** An entry the writer cannot take: it goes to the dead letters alone, with why. */
export interface RefusedEntry {
  streamId: string;
  fields: string[];
  error: string;
  /** Its booking id, when that at least is one (the booking then ends REJECTED UNPROCESSABLE). */
  bookingId?: string;
}

export type ReadEntry = { ok: true; booking: LoggedBooking } | ({ ok: false } & RefusedEntry);

/** The fields lua/admit-bookings-5.lua writes (tp only with tracing on), and nothing else. */
const KNOWN_FIELDS = new Set(['id', 'g', 'u', 'q', 'k', 't', 'tp']);
const UUID = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i;
const EPOCH_MS = /^\d{1,15}$/;
/** The API accepts 1-255 printable ASCII characters (booking.controller.ts). */
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{0,255}$/;

const isPositiveInt = (v: string | undefined): boolean => plainId(v) !== undefined;

/** Every field but the id, checked in this order; the first that fails says why. */
const FIELD_CHECKS: [name: string, valid: (v: string | undefined) => boolean, error: string][] = [
  ['g', isPositiveInt, 'goods id (g) is not a positive integer'],
  ['u', isPositiveInt, 'user id (u) is not a positive integer'],
  ['q', isPositiveInt, 'quantity (q) is not a positive integer'],
  ['t', (v) => v !== undefined && EPOCH_MS.test(v), 'time (t) is not a time in ms'],
  [
    'k',
    (v) => v !== undefined && IDEMPOTENCY_KEY.test(v),
    'idempotency key (k) is missing or not 0-255 printable characters',
  ],
];

/** Field names to values, or why the list is not one. */
function fieldMap(fields: string[]): Map<string, string> | string {
  if (fields.length % 2 !== 0) {
    return 'an odd number of field names and values';
  }
  const f = new Map<string, string>();
  for (let i = 0; i < fields.length; i += 2) {
    if (f.has(fields[i])) {
      return `field '${fields[i]}' twice`;
    }
    f.set(fields[i], fields[i + 1]);
  }
  return f;
}

/**
 * Read one booking log entry, checking every field: a bug, a deploy with two versions of the
 * log format or a damaged AOF can put anything there, and one entry the batch cannot write
 * must not hold the others back.
 */
export function readEntry([streamId, raw]: StreamEntry): ReadEntry {
  const fields = raw ?? [];
  const refuse = (error: string, bookingId?: string): ReadEntry => ({
    ok: false,
    streamId,
    fields,
    error,
    ...(bookingId ? { bookingId } : {}),
  });
  const f = fieldMap(fields);
  if (typeof f === 'string') {
    return refuse(f);
  }
  const id = f.get('id');
  const bookingId = id !== undefined && UUID.test(id) ? id.toLowerCase() : undefined;
  if (!bookingId) {
    return refuse('id is not a UUID');
  }
  const unknown = [...f.keys()].filter((name) => !KNOWN_FIELDS.has(name));
  if (unknown.length > 0) {
    return refuse(`unknown field(s) ${unknown.join(', ')}`, bookingId);
  }
  const failed = FIELD_CHECKS.find(([name, valid]) => !valid(f.get(name)));
  if (failed) {
    return refuse(failed[2], bookingId);
  }
  const k = f.get('k')!;
  // The request's trace context is for linking spans only: one that does not parse is
  // dropped, never a reason to refuse the booking.
  const tp = f.get('tp');
  return {
    ok: true,
    booking: {
      streamId,
      id: bookingId,
      goodsId: Number(f.get('g')),
      userId: Number(f.get('u')),
      quantity: Number(f.get('q')),
      idempotencyKey: k === '' ? null : k,
      requestedAtMs: Number(f.get('t')),
      ...(tp !== undefined && TRACEPARENT.test(tp) ? { traceparent: tp } : {}),
    },
  };
}
