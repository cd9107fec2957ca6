import { setTimeout as sleep } from 'node:timers/promises';

import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';

import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';
import { betterSample, ClockSample, clockSample, deadlineFor } from '../redis/redis-clock';
import type { ScriptedRedis } from '../redis/scripts';
import { StockService } from '../stock/stock.service';
import { stockKeys } from '../stock/stock.keys';
import { bookingKeys } from './booking.keys';
import type { BookingOutcome } from './booking.types';
import { BookingStatus } from './lifecycle';

export enum Admission {
  Admitted = 1,
  Replay = 0,
  NotLoaded = -1,
  NotOpen = -2,
  Closed = -3,
  OverLimit = -4,
  SoldOut = -5,
  RateLimited = -6,
  KeyReused = -7,
  QuantityAboveMax = -8,
  /** Ran past its deadline (Redis held the call longer than we waited): nothing done. */
  Late = -9,
}

/** A log entry the writer could not take, as the dead-letter stream keeps it. */
export interface DeadLetter {
  streamId: string;
  fields: string[];
  error: string;
  deliveries: number;
}

/** A booking as Redis records it from admission until it is settled (then PostgreSQL has it). */
export interface LiveBooking {
  status: string;
  g: string;
  u: string;
  q: string;
}

export interface AdmissionResult {
  code: Admission;
  bookingId: string;
  detail: string | number;
}

export interface AdmissionRequest {
  goodsId: number;
  userId: number;
  quantity: number;
  bookingId: string;
  idempotencyKey?: string;
  /** The admitting request's W3C traceparent, carried in the log entry ('' without tracing). */
  traceparent?: string;
}

interface QueuedAdmission {
  request: AdmissionRequest;
  resolve: (result: AdmissionResult) => void;
  reject: (error: unknown) => void;
}

/** 'PENDING|goodsId|userId|quantity|', as lua/admit-bookings-5.lua writes it. */
function parseRecord(record: string | null): LiveBooking | undefined {
  if (record === null) {
    return undefined;
  }
  const [status, g, u, q] = record.split('|');
  return { status, g, u, q };
}

/** How long a PENDING record outlives a writer that never settles it. */
export const PENDING_TTL_SECONDS = 86_400;
/** A second's rate-limit hash outlives its second by one more. */
const RATE_WINDOW_TTL_MS = 2000;
/** Bounds one script call (and the time Redis spends in it) in a burst. */
const MAX_ADMISSIONS_PER_CALL = 200;
/** How often Redis's clock is read again (deadlines are set by it). */
const CLOCK_SAMPLE_MS = 10_000;
/** While Redis is not answering, how often it is asked whether it is back. */
const STALL_PROBE_MS = 200;

/** Redis held an admission past the time we wait for it: the request answers 503. */
export class RedisStalledError extends Error {
  constructor() {
    super('redis is not answering');
  }
}

const timedOut = (error: unknown): boolean =>
  error instanceof Error && error.message === 'Command timed out';

/**
 * The Redis half of the booking path: one script call per operation.
 *
 * A Redis that accepts connections and never answers (stopped, partitioned, swapping) must
 * not hold requests, nor admit them behind our back: an admission is waited for
 * REDIS_COMMAND_TIMEOUT_MS, and carries a deadline by Redis's own clock (RedisClock) a margin
 * before that, past which the script admits nothing. So a request told 503 was not admitted,
 * even when Redis wakes and runs the call it held. After one such timeout, admissions answer
 * 503 at once until Redis answers again.
 */
@Injectable()
export class BookingState implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(BookingState.name);
  private clock?: ClockSample;
  private clockTimer?: NodeJS.Timeout;
  private stalled = false;
  private closed = false;

  constructor(
    @Inject(REDIS) private readonly redis: ScriptedRedis,
    private readonly config: AppConfig,
    private readonly stock: StockService,
  ) {}

  /** Requests waiting for this turn of the event loop's admission script. */
  private queued: QueuedAdmission[] = [];

  onModuleInit(): void {
    // Read again on every (re)connection: it may be another Redis host now.
    this.redis.on('ready', this.sampleClock);
    this.clockTimer = setInterval(this.sampleClock, CLOCK_SAMPLE_MS);
    this.clockTimer.unref();
    if (this.redis.status === 'ready') {
      this.sampleClock();
    }
  }

  onModuleDestroy(): void {
    this.closed = true;
    clearInterval(this.clockTimer);
    this.redis.off('ready', this.sampleClock);
  }

  private readonly sampleClock = (): void => {
    void this.readClock().catch(() => undefined);
  };

  private async readClock(): Promise<ClockSample> {
    const sent = Date.now();
    const time = (await this.redis.time()) as unknown as [string, string];
    this.clock = betterSample(this.clock, clockSample(sent, Date.now(), time));
    return this.clock;
  }

  /** Redis did not answer in time: refuse at once, and ask it until it answers again. */
  private stall(): void {
    if (this.stalled) {
      return;
    }
    this.stalled = true;
    this.logger.warn(
      `redis did not answer an admission within ${this.config.redisCommandTimeoutMs} ms: bookings answer 503 until it does`,
    );
    void (async () => {
      while (this.stalled && !this.closed) {
        try {
          await this.redis.ping();
          this.stalled = false;
          this.logger.log('redis answers again: bookings resume');
        } catch {
          await sleep(STALL_PROBE_MS);
        }
      }
    })();
  }

  /**
   * Admit one request. Requests that arrive in the same turn of the event loop go to Redis
   * together, in one script call (flushed by setImmediate, after the turn's I/O), each still
   * checked and admitted on its own, in arrival order.
   */
  admit(request: AdmissionRequest): Promise<AdmissionResult> {
    if (this.redis.status !== 'ready') {
      // Disconnected: say so now (503) rather than queue behind the reconnect attempts.
      return Promise.reject(new Error(`redis is ${this.redis.status}`));
    }
    if (this.stalled) {
      return Promise.reject(new RedisStalledError());
    }
    return new Promise((resolve, reject) => {
      if (this.queued.push({ request, resolve, reject }) === 1) {
        setImmediate(() => this.flushAdmissions());
      }
    });
  }

  private flushAdmissions(): void {
    const queued = this.queued;
    this.queued = [];
    for (let from = 0; from < queued.length; from += MAX_ADMISSIONS_PER_CALL) {
      void this.admitBatch(queued.slice(from, from + MAX_ADMISSIONS_PER_CALL));
    }
  }

  private async admitBatch(batch: QueuedAdmission[]): Promise<void> {
    const now = Date.now();
    const args: (string | number)[] = [];
    for (const { request: r } of batch) {
      const key = r.idempotencyKey;
      args.push(
        r.goodsId,
        r.userId,
        r.quantity,
        r.bookingId,
        key ? `${r.goodsId}:${r.quantity}` : '',
        key ? bookingKeys.idempotencySuffix(r.userId, key) : '',
        key ?? '',
        r.traceparent ?? '',
      );
    }
    let answer: (string | number)[];
    try {
      const clock = this.clock ?? (await this.readClock());
      answer = await this.redis.admitBookings(
        stockKeys.goodsPrefix,
        bookingKeys.recordPrefix,
        bookingKeys.idempotencyPrefix,
        bookingKeys.log,
        bookingKeys.rateWindow(now),
        now,
        this.config.idempotencyTtlSeconds,
        this.config.bookingRateLimitPerSecond,
        RATE_WINDOW_TTL_MS,
        PENDING_TTL_SECONDS,
        deadlineFor(clock, Date.now(), this.config.redisCommandTimeoutMs),
        ...args,
      );
    } catch (error) {
      if (timedOut(error)) {
        this.stall();
      }
      batch.forEach((q) => q.reject(error));
      return;
    }
    batch.forEach(({ request, resolve, reject }, i) => {
      const code = answer[i * 3] as Admission;
      if (code === Admission.Late) {
        // Answered, but only after its deadline: we were about to give up on it.
        reject(new RedisStalledError());
        return;
      }
      if (code === Admission.Admitted) {
        this.stock.changed(request.goodsId);
      }
      resolve({ code, bookingId: answer[i * 3 + 1] as string, detail: answer[i * 3 + 2] });
    });
  }

  /**
   * Settle a written batch: rejected bookings give their stock back (once), the PENDING
   * records go (PostgreSQL answers for settled bookings), `deadLetters` are kept in the
   * dead-letter stream, and every entry leaves the booking log, acknowledged for `group` and
   * deleted, in the same script. Keeping settled records would hold every booking of the last
   * hours in Redis's memory, and in each AOF rewrite.
   */
  async settle(
    outcomes: BookingOutcome[],
    logEntryIds: string[],
    group: string,
    deadLetters: DeadLetter[] = [],
  ): Promise<void> {
    if (outcomes.length === 0 && logEntryIds.length === 0) {
      return;
    }
    outcomes.forEach((o) => o.status === BookingStatus.Rejected && this.stock.changed(o.goodsId));
    await this.redis.settleBookings(
      bookingKeys.recordPrefix,
      stockKeys.goodsPrefix,
      bookingKeys.log,
      bookingKeys.deadLetters,
      bookingKeys.lastSettled,
      group,
      logEntryIds.length,
      deadLetters.length,
      ...logEntryIds,
      ...deadLetters.flatMap((d) => [d.streamId, JSON.stringify(d.fields), d.error, d.deliveries]),
      ...outcomes.flatMap((o) => [o.id, o.status]),
    );
  }

  hitRateLimit(userId: number): Promise<[number, number, number]> {
    return this.redis.hitWindow(
      bookingKeys.rate(userId),
      1000,
      this.config.bookingRateLimitPerSecond,
    );
  }

  /** A booking's live record: PENDING, or none (settled, or never admitted here). */
  async getBooking(bookingId: string): Promise<LiveBooking | undefined> {
    return parseRecord(await this.redis.get(bookingKeys.record(bookingId)));
  }

  /** The live records of several bookings in one round trip. */
  async getBookings(bookingIds: string[]): Promise<(LiveBooking | undefined)[]> {
    if (bookingIds.length === 0) {
      return [];
    }
    return (await this.redis.mget(bookingIds.map((id) => bookingKeys.record(id)))).map(parseRecord);
  }

  async publish(outcomes: BookingOutcome[]): Promise<void> {
    if (outcomes.length > 0) {
      await this.redis.publish(
        `${this.config.redisKeyPrefix}${bookingKeys.events}`,
        JSON.stringify(outcomes),
      );
    }
  }
}
