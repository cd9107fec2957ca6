import { hostname } from 'node:os';

import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import type Redis from 'ioredis';

import { AppConfig } from '../config/app-config';
import { failureKind } from '../database/failure-kind';
import { tracing } from '../telemetry/tracing';
import { pgError, Sql } from '../database/sql';
import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';
import { readEntry, type RefusedEntry, type StreamEntry } from './booking-log';
import { Refusal } from './booking-rules';
import { BookingState, type DeadLetter } from './booking-state';
import { bookingKeys, WRITERS_GROUP } from './booking.keys';
import { BookingMetrics } from './booking.metrics';
import { BookingWriterRepository } from './booking-writer.repository';
import type { BookingOutcome, LoggedBooking } from './booking.types';
import { reconcile } from './reconcile';
import { BookingStatus } from './lifecycle';

/** Retries of a batch that failed for a passing reason: 250 ms, doubling, at most 5 s apart. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5_000;

/** What a written batch comes to: outcomes to settle and tell, entries for the dead letters. */
export interface Written {
  outcomes: BookingOutcome[];
  failed: RefusedEntry[];
}

/**
 * A booking an earlier delivery stored as REJECTED UNPROCESSABLE (the writer stopped, or Redis
 * failed, between that row and the settle script) reads back as a stored outcome; it still
 * belongs in the dead letters, or the operator would never hear of it.
 */
export function unprocessableAgain(
  written: Written,
  bookings: LoggedBooking[],
  rawFields: Map<string, string[]>,
): Written {
  const again = new Set(
    written.outcomes.filter((o) => o.reason === Refusal.Unprocessable).map((o) => o.id),
  );
  if (again.size === 0) {
    return written;
  }
  return {
    outcomes: written.outcomes.filter((o) => !again.has(o.id)),
    failed: [
      ...written.failed,
      ...bookings
        .filter((b) => again.has(b.id))
        .map((b) => ({
          streamId: b.streamId,
          fields: rawFields.get(b.streamId) ?? [],
          bookingId: b.id,
          error: 'stored REJECTED UNPROCESSABLE by an earlier delivery (its error is in that log)',
        })),
    ],
  };
}

/** The error as a dead letter keeps it: SQLSTATE and message, never a stack. */
function describe(error: unknown): string {
  const { code } = pgError(error);
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${code} ${message}` : message;
}

/**
 * Reads the booking log through a consumer group in batches, commits each batch to
 * PostgreSQL in one transaction, then records outcomes in Redis and acknowledges. Delivery
 * is at-least-once (a crash before XACK redelivers) and writes are idempotent (booking ids
 * are primary keys), so each booking takes effect exactly once. Entries a dead worker left
 * unacknowledged are claimed after WRITER_CLAIM_IDLE.
 *
 * No entry can hold the others back (a consumer that retries forever is a bug):
 * - an entry that does not read as a booking is refused alone, as it is read;
 * - a batch that fails for good (failureKind: a constraint, a trigger, a value) is split in
 *   halves until the entries that fail are alone; the rest are written in the same pass;
 * - an entry delivered more than WRITER_MAX_DELIVERIES times (a crash loop) is not tried again;
 * - such entries go to the dead letters with their error, their booking (when they have one)
 *   ends REJECTED UNPROCESSABLE, and its stock returns, as any rejection's does;
 * - a batch that fails for a passing reason (connection loss, a deadlock, PostgreSQL
 *   restarting) is retried as it is, by this writer, which keeps its entries claimed meanwhile
 *   (their delivery count does not grow) and dead-letters nothing.
 */
@Injectable()
export class BookingWriter implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BookingWriter.name);
  private readonly consumer = `${hostname()}-${process.pid}`;
  private readonly readers: Redis[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private lastClaim = 0;

  constructor(
    @Inject(REDIS) private readonly redis: ScriptedRedis,
    private readonly config: AppConfig,
    private readonly repository: BookingWriterRepository,
    private readonly state: BookingState,
    private readonly metrics: BookingMetrics,
    private readonly sql: Sql,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runsWorker) {
      return;
    }
    // Unended goods whose Redis state is missing (first start, or Redis lost it) are rebuilt
    // from PostgreSQL beside the writer, not before it: an admission meanwhile loads a missing
    // goods on demand, and loading one twice is a no-op (load-goods-2.lua).
    void reconcile(this.sql.pool, this.redis)
      .then(
        (report) =>
          report.loaded.length > 0 &&
          this.logger.log(`reconcile: loaded ${report.loaded.length} goods into Redis`),
      )
      .catch((error: Error) => this.logger.warn(`reconcile at start failed: ${error.message}`));
    this.running = true;
    // WRITER_CONCURRENCY loops, each a consumer of its own with batches in flight at once:
    // one loop waits on PostgreSQL's commit while another reads and writes the next batch.
    for (let i = 0; i < this.config.writerConcurrency; i++) {
      // Blocking reads get their own connection so they never delay the API's commands.
      const reader = this.redis.duplicate();
      reader.on('error', (err: Error) => this.logger.warn(`reader: ${err.message}`));
      this.readers.push(reader);
      this.loops.push(this.run(reader, `${this.consumer}-${i}`));
    }
    this.logger.log(
      `booking writer ${this.consumer} started (${this.config.writerConcurrency} × batch ${this.config.writerBatchSize})`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.readers.forEach((r) => r.disconnect());
  }

  private async run(reader: Redis, consumer: string): Promise<void> {
    let grouped = false;
    while (this.running) {
      try {
        // Redis may be away at start: the API still starts (and reports not ready); we retry.
        if (!grouped) {
          await this.redis.ensureGroup(bookingKeys.log, WRITERS_GROUP);
          grouped = true;
        }
        const readAt = tracing.enabled ? Date.now() : 0;
        const claimed = await this.claimStale(consumer);
        const entries = claimed.length > 0 ? claimed : await this.readNew(reader, consumer);
        if (entries.length > 0) {
          await this.traced(entries, readAt, () =>
            this.process(entries, consumer, claimed.length > 0),
          );
        }
        // A short batch means we are keeping up: let the next one gather. Each batch costs
        // about ten round trips and a commit whatever its size, so under a steady flow this
        // trades a few ms of commit lag for several times fewer transactions.
        if (
          this.config.writerLingerMs > 0 &&
          entries.length > 0 &&
          entries.length < this.config.writerBatchSize &&
          this.running
        ) {
          await new Promise((r) => setTimeout(r, this.config.writerLingerMs));
        }
      } catch (error) {
        // Reading the log failed (Redis away): its entries, if any, stay claimed by nobody new.
        this.logger.error(`reading the booking log failed, will retry: ${describe(error)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /**
   * With tracing on, a batch is a root span `booking.batch` linked to the trace of each request
   * it persists, with `booking.log.read` (from `readAt`, the read's start: an empty read makes
   * no span) and, inside `process`, `booking.batch.write` around each PostgreSQL transaction.
   */
  private traced(entries: StreamEntry[], readAt: number, work: () => Promise<void>): Promise<void> {
    if (!tracing.enabled) {
      return work();
    }
    // The log format has one reader (booking-log.ts), which also drops a traceparent that
    // does not parse; reading twice costs only when tracing is on.
    const traceparents = entries.flatMap((entry) => {
      const read = readEntry(entry);
      return read.ok && read.booking.traceparent ? [read.booking.traceparent] : [];
    });
    return tracing.rootSpan(
      'booking.batch',
      { 'booking.batch.entries': entries.length },
      traceparents,
      async () => {
        tracing.record('booking.log.read', readAt, Date.now(), {
          'booking.batch.entries': entries.length,
        });
        await work();
      },
      readAt,
    );
  }

  private async readNew(reader: Redis, consumer: string): Promise<StreamEntry[]> {
    const reply = (await reader.xreadgroup(
      'GROUP',
      WRITERS_GROUP,
      consumer,
      'COUNT',
      this.config.writerBatchSize,
      'BLOCK',
      200,
      'STREAMS',
      bookingKeys.log,
      '>',
    )) as [string, StreamEntry[]][] | null;
    return reply ? reply[0][1] : [];
  }

  /** Entries another (dead) worker read but never acknowledged. */
  private async claimStale(consumer: string): Promise<StreamEntry[]> {
    const now = Date.now();
    if (now - this.lastClaim < Math.min(1000, this.config.writerClaimIdleMs)) {
      return [];
    }
    this.lastClaim = now;
    const [, entries] = (await this.redis.xautoclaim(
      bookingKeys.log,
      WRITERS_GROUP,
      consumer,
      this.config.writerClaimIdleMs,
      '0-0',
      'COUNT',
      this.config.writerBatchSize,
    )) as [string, StreamEntry[]];
    const live = entries.filter((e) => e[1] !== null);
    if (live.length > 0) {
      this.logger.warn(`claimed ${live.length} entries left by a stopped worker`);
    }
    return live;
  }

  /** How often each of `consumer`'s pending entries has been delivered (XAUTOCLAIM counts). */
  private async deliveryCounts(consumer: string, ids: string[]): Promise<Map<string, number>> {
    const rows = (await this.redis.xpending(
      bookingKeys.log,
      WRITERS_GROUP,
      ids[0],
      ids[ids.length - 1],
      ids.length,
      consumer,
    )) as [id: string, consumer: string, idleMs: number, deliveries: number][];
    return new Map(rows.map(([id, , , deliveries]) => [id, deliveries]));
  }

  private async process(raw: StreamEntry[], consumer: string, claimed: boolean): Promise<void> {
    const deliveries = claimed
      ? await this.deliveryCounts(
          consumer,
          raw.map(([id]) => id),
        )
      : new Map<string, number>();
    const bookings: LoggedBooking[] = [];
    const refused: RefusedEntry[] = [];
    for (const entry of raw) {
      const read = readEntry(entry);
      const times = deliveries.get(entry[0]) ?? 1;
      if (!read.ok) {
        refused.push(read);
      } else if (times > this.config.writerMaxDeliveries) {
        refused.push({
          streamId: entry[0],
          fields: entry[1] ?? [],
          bookingId: read.booking.id,
          error: `delivered ${times} times (WRITER_MAX_DELIVERIES ${this.config.writerMaxDeliveries}) without being written`,
        });
      } else {
        bookings.push(read.booking);
      }
    }
    const rawFields = new Map(raw.map(([id, fields]) => [id, fields ?? []]));
    let redelivered = claimed;
    for (let attempt = 0; ; attempt++) {
      try {
        const written = unprocessableAgain(
          await this.write(bookings, rawFields, redelivered),
          bookings,
          rawFields,
        );
        await this.settle(raw, bookings, written, [...refused, ...written.failed], deliveries);
        return;
      } catch (error) {
        if (!this.running) {
          // Stopping: the entries stay pending, for this writer's successor to claim.
          this.logger.warn(`batch left to the next writer at shutdown: ${describe(error)}`);
          return;
        }
        this.metrics.batchFailed('retryable');
        this.logger.error(`batch failed, retrying: ${describe(error)}`);
        // A commit may have landed before the failure: look stored bookings up from now on.
        redelivered = true;
        await this.keepClaimed(consumer, raw);
        await new Promise((r) =>
          setTimeout(r, Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(attempt, 5))),
        );
      }
    }
  }

  /**
   * Write a batch; on a final failure, each half on its own, down to single entries, which
   * are then the failed ones. A retryable failure is thrown, for the whole batch to be retried.
   * Halves are written in log order, so decisions keep the order of admission.
   */
  private async write(
    bookings: LoggedBooking[],
    rawFields: Map<string, string[]>,
    redelivered: boolean,
  ): Promise<Written> {
    if (bookings.length === 0) {
      return { outcomes: [], failed: [] };
    }
    try {
      return {
        outcomes: await tracing.inSpan(
          'booking.batch.write',
          { 'booking.batch.size': bookings.length, 'booking.batch.redelivered': redelivered },
          () => this.repository.persistBatch(bookings, { redelivered }),
        ),
        failed: [],
      };
    } catch (error) {
      if (failureKind(error) === 'retryable') {
        throw error;
      }
      this.metrics.batchFailed('final');
      if (bookings.length === 1) {
        const [one] = bookings;
        this.logger.error(`booking ${one.id} cannot be written: ${describe(error)}`);
        return {
          outcomes: [],
          failed: [
            {
              streamId: one.streamId,
              fields: rawFields.get(one.streamId) ?? [],
              bookingId: one.id,
              error: describe(error),
            },
          ],
        };
      }
      const half = Math.ceil(bookings.length / 2);
      const first = await this.write(bookings.slice(0, half), rawFields, redelivered);
      const second = await this.write(bookings.slice(half), rawFields, redelivered);
      return {
        outcomes: [...first.outcomes, ...second.outcomes],
        failed: [...first.failed, ...second.failed],
      };
    }
  }

  /**
   * Settle the written outcomes and the dead letters in one script, then tell everyone. A dead
   * letter's booking ends REJECTED UNPROCESSABLE (stored when PostgreSQL takes the row), unless
   * PostgreSQL already has it: then its stored outcome stands.
   */
  private async settle(
    raw: StreamEntry[],
    bookings: LoggedBooking[],
    written: Written,
    dead: RefusedEntry[],
    deliveries: Map<string, number>,
  ): Promise<void> {
    const deadOutcomes = dead.length > 0 ? await this.rejectUnprocessable(dead) : [];
    const outcomes = [...written.outcomes, ...deadOutcomes];
    const letters: DeadLetter[] = dead.map((d) => ({
      streamId: d.streamId,
      fields: d.fields,
      error: d.error,
      deliveries: deliveries.get(d.streamId) ?? 1,
    }));
    await this.state.settle(
      outcomes,
      raw.map(([id]) => id),
      WRITERS_GROUP,
      letters,
    );
    await this.state.publish(outcomes);
    const failedIds = new Set(written.failed.map((f) => f.streamId));
    this.metrics.recordOutcomes(
      outcomes,
      bookings.filter((b) => !failedIds.has(b.streamId)),
    );
    if (dead.length > 0) {
      this.metrics.deadLettered(dead.length);
      for (const d of dead) {
        this.logger.warn(
          `dead-lettered log entry ${d.streamId}${d.bookingId ? ` (booking ${d.bookingId})` : ''}: ${d.error}`,
        );
      }
    }
  }

  private async rejectUnprocessable(dead: RefusedEntry[]): Promise<BookingOutcome[]> {
    const ids = [...new Set(dead.flatMap((d) => (d.bookingId ? [d.bookingId] : [])))];
    if (ids.length === 0) {
      return [];
    }
    const stored = await this.repository.storedOutcomes(ids);
    const storedIds = new Set(stored.map((s) => s.id));
    const open = ids.filter((id) => !storedIds.has(id));
    // The owner, goods and quantity as admission recorded them: a malformed entry's own
    // fields are not to be trusted. No record: nobody is waiting, or it was settled already.
    const records = await this.state.getBookings(open);
    const requestedAt = new Map(dead.map((d) => [d.bookingId, d.streamId]));
    const rejected = open.flatMap((id, i) => {
      const r = records[i];
      return r?.status === BookingStatus.Pending
        ? [
            {
              id,
              goodsId: Number(r.g),
              userId: Number(r.u),
              quantity: Number(r.q),
              requestedAtMs: Number(requestedAt.get(id)?.split('-')[0]) || Date.now(),
            },
          ]
        : [];
    });
    await this.repository.storeUnprocessable(rejected);
    return [
      ...stored,
      ...rejected.map(({ requestedAtMs: _t, ...r }): BookingOutcome => ({
        ...r,
        status: BookingStatus.Rejected,
        reason: Refusal.Unprocessable,
      })),
    ];
  }

  /**
   * While this writer retries a batch, its entries stay its own: XCLAIM with JUSTID resets
   * their idle time without counting a delivery, so no other writer claims them meanwhile and
   * a long outage does not push them past WRITER_MAX_DELIVERIES.
   */
  private async keepClaimed(consumer: string, raw: StreamEntry[]): Promise<void> {
    await this.redis
      .xclaim(bookingKeys.log, WRITERS_GROUP, consumer, 0, ...raw.map(([id]) => id), 'JUSTID')
      .catch(() => undefined);
  }
}
