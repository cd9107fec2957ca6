/** PostgreSQL error with its SQLSTATE and constraint, as pg reports it. */
export function pgError(error: unknown): { code?: string; constraint?: string } {
  return typeof error === 'object' && error !== null ? error : {};
}

/**
 * Whether a failed unit of work may succeed if tried again as it is (`retryable`), or will
 * fail the same way for the same data (`final`): the booking writer retries the first and
 * splits a batch on the second until the entries that fail are alone.
 */
export type FailureKind = 'retryable' | 'final';

/**
 * SQLSTATE classes that belong to the data a statement carries: a value that does not parse
 * or fit (22), a constraint (23), a trigger that raises (P0), a view's check option (44).
 * They fail the same way every time for the same row.
 */
const FINAL_CLASSES = new Set(['22', '23', 'P0', '44']);

/**
 * Everything else is retried:
 * - connection loss (08, and errors with no SQLSTATE: ECONNRESET, "Connection terminated"),
 *   serialization failure and deadlock (40), lock and statement timeouts (55P03, 57014),
 *   PostgreSQL starting up or shutting down (57P01-57P03), out of resources (53);
 * - and errors of the statement or the server rather than of a row (42 an undefined column,
 *   0A, XX, 58 …): every entry would fail alike, so splitting the batch would dead-letter a
 *   whole sale for a bad deploy. The writer stalls instead, and readiness says so.
 */
export function failureKind(error: unknown): FailureKind {
  const { code } = pgError(error);
  return typeof code === 'string' &&
    /^[\dA-Z]{5}$/.test(code) &&
    FINAL_CLASSES.has(code.slice(0, 2))
    ? 'final'
    : 'retryable';
}

/** SQLSTATEs that say the server cannot take the statement now, whatever it is. */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300', '25006']);
// Not ECONNRESET: on a request it is the client's own socket (an aborted body, a 400).
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);
/**
 * Words of pg and Pgpool-II for a connection that could not be made or was lost: they carry
 * no SQLSTATE of their own (Pgpool's "failed to create a backend connection" comes while a
 * node it balances over is going away).
 */
const UNAVAILABLE_WORDS =
  /Connection terminated|timeout exceeded when trying to connect|failed to create a backend connection|Client has encountered a connection error|terminating connection/i;

/**
 * Whether an error means PostgreSQL (or Pgpool-II in front of it) cannot serve right now: the
 * connection class (08), a shutdown or start-up (57P0x), too many connections, a read-only
 * transaction (an old primary, or a standby during failover), or a lost socket. The client
 * gets 503 with Retry-After, not 500: nothing is wrong with its request.
 */
export function databaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) {
    return false;
  }
  const { code } = pgError(error);
  if (typeof code === 'string' && (code.startsWith('08') || UNAVAILABLE_CODES.has(code))) {
    return true;
  }
  if (typeof code === 'string' && UNAVAILABLE_ERRNOS.has(code)) {
    return true;
  }
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && UNAVAILABLE_WORDS.test(message);
}

/**
 * SQLSTATEs of a value PostgreSQL cannot take as a date or time (22007 invalid format, 22008
 * out of range): the client's input, so 400, not 500. Validation refuses such values first;
 * this is the floor under it (issue 23, L3).
 */
const REFUSED_VALUE_CODES = new Set(['22007', '22008']);

export function valueRefused(error: unknown): boolean {
  const { code } = pgError(error);
  return typeof code === 'string' && REFUSED_VALUE_CODES.has(code);
}
