import type { Pool } from 'pg';

import { Sql } from '../database/sql';
import type { ScriptedRedis } from '../redis/scripts';
import { StockRepository } from '../stock/stock.repository';
import { readEntry } from './booking-log';
import { PENDING_TTL_SECONDS } from './booking-state';
import { bookingKeys } from './booking.keys';
import { stockKeys } from '../stock/stock.keys';
import { BookingWriterRepository } from './booking-writer.repository';

/** One dead letter: a booking log entry the writer could not take, and why. */
export interface DeadLetterView {
  /** Its id in the dead-letter stream (what --retry and --drop take). */
  id: string;
  /** When it was dead-lettered (ISO 8601). */
  at: string;
  /** Its id in the booking log. */
  entry: string;
  /** Its booking id, when it has a valid one. */
  bookingId: string | null;
  deliveries: number;
  error: string;
  /** The entry's fields, names and values in turn, as they were in the log. */
  fields: string[];
}

function view([id, raw]: [string, string[]]): DeadLetterView {
  const f = new Map<string, string>();
  for (let i = 0; i < raw.length; i += 2) {
    f.set(raw[i], raw[i + 1]);
  }
  let fields: string[] = [];
  try {
    const parsed: unknown = JSON.parse(f.get('fields') ?? '[]');
    fields = Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    // kept as none: retry refuses it, drop still works
  }
  const read = readEntry([f.get('entry') ?? '', fields]);
  return {
    id,
    at: new Date(Number(f.get('at'))).toISOString(),
    entry: f.get('entry') ?? '',
    bookingId: read.ok ? read.booking.id : (read.bookingId ?? null),
    deliveries: Number(f.get('deliveries') ?? 0),
    error: f.get('error') ?? '',
    fields,
  };
}

export async function listDeadLetters(redis: ScriptedRedis): Promise<DeadLetterView[]> {
  return (await redis.xrange(bookingKeys.deadLetters, '-', '+')).map(view);
}

export type RetryResult =
  | { id: string; outcome: 'retried'; logEntry: string; bookingId: string | null }
  | { id: string; outcome: 'missing' | 'unreadable' };

/**
 * Put dead letters back on the booking log, after an operator fixed what failed them. A
 * booking that ended REJECTED UNPROCESSABLE loses that row and is PENDING again, its stock
 * taken again (lua/retry-dead-letter-4.lua), so the writer decides it afresh; a booking
 * PostgreSQL has otherwise keeps its outcome (the writer finds it stored). An entry that is
 * still malformed goes back as it is, and comes back to the dead letters, unless a newer
 * writer can read it.
 */
export async function retryDeadLetters(
  db: Pool,
  redis: ScriptedRedis,
  ids: string[],
): Promise<RetryResult[]> {
  const sql = Sql.onPool(db);
  const repository = new BookingWriterRepository(sql, new StockRepository(sql));
  const results: RetryResult[] = [];
  for (const id of ids) {
    const [letter] = await redis.xrange(bookingKeys.deadLetters, id, id);
    if (!letter) {
      results.push({ id, outcome: 'missing' });
      continue;
    }
    const read = readEntry([view(letter).entry, view(letter).fields]);
    let pending: (string | number)[] = ['', '', '', ''];
    if (read.ok && !(await repository.forgetUnprocessable(read.booking.id)).stored) {
      const b = read.booking;
      pending = [b.id, b.goodsId, b.userId, b.quantity];
    }
    const answer = await redis.retryDeadLetter(
      bookingKeys.deadLetters,
      bookingKeys.log,
      bookingKeys.recordPrefix,
      stockKeys.goodsPrefix,
      id,
      PENDING_TTL_SECONDS,
      ...pending,
    );
    if (answer === 0 || answer === -1) {
      results.push({ id, outcome: answer === 0 ? 'missing' : 'unreadable' });
    } else {
      results.push({
        id,
        outcome: 'retried',
        logEntry: String(answer),
        bookingId: read.ok ? read.booking.id : null,
      });
    }
  }
  return results;
}

/** Remove one dead letter for good, after an operator decided it; false if there was none. */
export async function dropDeadLetter(redis: ScriptedRedis, id: string): Promise<boolean> {
  return (await redis.xdel(bookingKeys.deadLetters, id)) === 1;
}
