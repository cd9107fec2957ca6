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
import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';
import { BookingState } from './booking-state';
import { bookingKeys, WRITERS_GROUP } from './booking.keys';
import { BookingRepository } from './booking.repository';
import type { LoggedBooking } from './booking.types';
import { BookingMetrics } from './booking.metrics';
import { reconcile } from './reconcile';
import { Sql } from '../database/sql';

type StreamEntry = [id: string, fields: string[]];

export function parseEntry([streamId, fields]: StreamEntry): LoggedBooking {
  const f: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) {
    f[fields[i]] = fields[i + 1];
  }
  return {
    streamId,
    id: f.id,
    goodsId: Number(f.g),
    userId: Number(f.u),
    quantity: Number(f.q),
    idempotencyKey: f.k ? f.k : null,
    requestedAtMs: Number(f.t),
  };
}

/**
 * Reads the booking log through a consumer group in batches, commits each batch to
 * PostgreSQL in one transaction, then records outcomes in Redis and acknowledges. Delivery
 * is at-least-once (a crash before XACK redelivers) and writes are idempotent (booking ids
 * are primary keys), so each booking takes effect exactly once. Entries a dead worker left
 * unacknowledged are claimed after WORKER_CLAIM_IDLE.
 */
@Injectable()
export class BookingWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BookingWorker.name);
  private readonly consumer = `${hostname()}-${process.pid}`;
  private readonly readers: Redis[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private lastClaim = 0;

  constructor(
    @Inject(REDIS) private readonly redis: ScriptedRedis,
    private readonly config: AppConfig,
    private readonly repository: BookingRepository,
    private readonly state: BookingState,
    private readonly metrics: BookingMetrics,
    private readonly sql: Sql,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.runsWorker) {
      return;
    }
    // Goods whose Redis state is missing (first start, or Redis lost it) are rebuilt from
    // PostgreSQL before the writer starts; admissions also load a missing goods on demand.
    void reconcile(this.sql.pool, this.redis)
      .then(
        (report) =>
          report.loaded.length > 0 &&
          this.logger.log(`reconcile: loaded ${report.loaded.length} goods into Redis`),
      )
      .catch((error: Error) => this.logger.warn(`reconcile at start failed: ${error.message}`));
    this.running = true;
    // WORKER_CONCURRENCY loops, each a consumer of its own with batches in flight at once:
    // one loop waits on PostgreSQL's commit while another reads and writes the next batch.
    for (let i = 0; i < this.config.workerConcurrency; i++) {
      // Blocking reads get their own connection so they never delay the API's commands.
      const reader = this.redis.duplicate();
      reader.on('error', (err: Error) => this.logger.warn(`reader: ${err.message}`));
      this.readers.push(reader);
      this.loops.push(this.run(reader, `${this.consumer}-${i}`));
    }
    this.logger.log(
      `booking writer ${this.consumer} started (${this.config.workerConcurrency} × batch ${this.config.workerBatchSize})`,
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
        const claimed = await this.claimStale(consumer);
        const entries = claimed.length > 0 ? claimed : await this.readNew(reader, consumer);
        if (entries.length > 0) {
          await this.process(entries, claimed.length > 0);
        }
        // A short batch means we are keeping up: let the next one gather. Each batch costs
        // about ten round trips and a commit whatever its size, so under a steady flow this
        // trades a few ms of commit lag for several times fewer transactions.
        if (
          this.config.workerLingerMs > 0 &&
          entries.length > 0 &&
          entries.length < this.config.workerBatchSize &&
          this.running
        ) {
          await new Promise((r) => setTimeout(r, this.config.workerLingerMs));
        }
      } catch (error) {
        this.logger.error(`batch failed, will retry: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async readNew(reader: Redis, consumer: string): Promise<LoggedBooking[]> {
    const reply = (await reader.xreadgroup(
      'GROUP',
      WRITERS_GROUP,
      consumer,
      'COUNT',
      this.config.workerBatchSize,
      'BLOCK',
      200,
      'STREAMS',
      bookingKeys.log,
      '>',
    )) as [string, StreamEntry[]][] | null;
    return reply ? reply[0][1].map(parseEntry) : [];
  }

  /** Entries another (dead) worker read but never acknowledged. */
  private async claimStale(consumer: string): Promise<LoggedBooking[]> {
    const now = Date.now();
    if (now - this.lastClaim < Math.min(1000, this.config.workerClaimIdleMs)) {
      return [];
    }
    this.lastClaim = now;
    const [, entries] = (await this.redis.xautoclaim(
      bookingKeys.log,
      WRITERS_GROUP,
      consumer,
      this.config.workerClaimIdleMs,
      '0-0',
      'COUNT',
      this.config.workerBatchSize,
    )) as [string, StreamEntry[]];
    const live = entries.filter((e) => e[1] !== null);
    if (live.length > 0) {
      this.logger.warn(`claimed ${live.length} entries left by a stopped worker`);
    }
    return live.map(parseEntry);
  }

  private async process(entries: LoggedBooking[], redelivered: boolean): Promise<void> {
    const outcomes = await this.repository.persistBatch(entries, { redelivered });
    await this.state.settle(
      outcomes,
      entries.map((e) => e.streamId),
      WRITERS_GROUP,
    );
    await this.state.publish(outcomes);
    this.metrics.recordOutcomes(outcomes, entries);
  }
}
