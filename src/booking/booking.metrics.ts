import { Counter, Gauge, Histogram } from 'prom-client';

import { Inject, Injectable } from '@nestjs/common';

import { AppConfig } from '../config/app-config';
import type { FailureKind } from '../database/failure-kind';
import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';
import { registry } from '../telemetry/metrics';
import { bookingKeys } from './booking.keys';
import { stockKeys } from '../stock/stock.keys';
import { readWriterBacklog } from './writer-health';
import type { BookingOutcome, LoggedBooking } from './booking.types';
import { BookingStatus } from './lifecycle';

const outcomesCounter = new Counter({
  name: 'booking_outcomes_total',
  help: 'Booking answers and final outcomes by code (ADMITTED, CONFIRMED, SOLD_OUT, …)',
  labelNames: ['code'] as const,
  registers: [registry],
});

const confirmationSeconds = new Histogram({
  name: 'booking_admission_to_decision_seconds',
  help: 'Time from admission in Redis to the PostgreSQL commit of the outcome',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

const batchFailures = new Counter({
  name: 'booking_writer_batch_failures_total',
  help: 'Booking writer batches that failed: retryable (tried again as they are) or final (split until the failing entries are alone)',
  labelNames: ['kind'] as const,
  registers: [registry],
});

const deadLetters = new Counter({
  name: 'booking_dead_letters_total',
  help: 'Booking log entries the writer could not take, moved to the dead letters (npm run dead-letters)',
  registers: [registry],
});

/**
 * Gauges read from Redis when Prometheus scrapes: the booking log's unwritten length and each
 * loaded goods' remaining stock. Re-registered per app (tests build several in one process).
 */
function registerGauges(redis: ScriptedRedis, prefix: string): void {
  for (const name of [
    'booking_log_pending',
    'booking_log_oldest_pending_seconds',
    'goods_remaining_stock',
  ]) {
    registry.removeSingleMetric(name);
  }
  new Gauge({
    name: 'booking_log_pending',
    help: 'Admitted bookings not yet written to PostgreSQL (booking log length)',
    registers: [registry],
    async collect() {
      this.set(await redis.xlen(bookingKeys.log).catch(() => -1));
    },
  });
  new Gauge({
    name: 'booking_log_oldest_pending_seconds',
    help: 'Age of the oldest admitted booking not yet written (0 when none waits; -1: Redis unreachable)',
    registers: [registry],
    async collect() {
      const backlog = await readWriterBacklog(redis).catch(() => undefined);
      this.set(backlog === undefined ? -1 : (backlog.oldestAgeMs ?? 0) / 1000);
    },
  });
  new Gauge({
    name: 'goods_remaining_stock',
    help: 'Tickets left per goods, as admission sees them',
    labelNames: ['goods_id'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      // Redis away: no series rather than a failed scrape (and a 500 on the operations page).
      await collectStock(this, redis, prefix).catch(() => this.reset());
    },
  });
}

/** Every loaded goods' `left`, a SCAN page and one pipeline at a time. */
async function collectStock(
  gauge: Gauge<'goods_id'>,
  redis: ScriptedRedis,
  prefix: string,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      `${prefix}${stockKeys.goodsPrefix}*`,
      'COUNT',
      500,
    );
    cursor = next;
    const goodsIds = keys
      .map((k) => /:(\d+)$/.exec(k)?.[1])
      .filter((id): id is string => id !== undefined);
    const pipeline = redis.pipeline();
    goodsIds.forEach((id) => pipeline.hget(stockKeys.goods(id), 'left'));
    const results = (await pipeline.exec()) ?? [];
    goodsIds.forEach((id, i) => {
      const left = results[i]?.[1];
      if (left !== null && left !== undefined) {
        gauge.set({ goods_id: id }, Number(left));
      }
    });
  } while (cursor !== '0');
}

@Injectable()
export class BookingMetrics {
  constructor(@Inject(REDIS) redis: ScriptedRedis, config: AppConfig) {
    registerGauges(redis, config.redisKeyPrefix);
  }

  count(code: string): void {
    outcomesCounter.inc({ code });
  }

  batchFailed(kind: FailureKind): void {
    batchFailures.inc({ kind });
  }

  deadLettered(n: number): void {
    deadLetters.inc(n);
  }

  recordOutcomes(outcomes: BookingOutcome[], entries: LoggedBooking[]): void {
    const now = Date.now();
    for (const o of outcomes) {
      outcomesCounter.inc({
        code:
          o.status === BookingStatus.Confirmed
            ? BookingStatus.Confirmed
            : (o.reason ?? BookingStatus.Rejected),
      });
    }
    for (const e of entries) {
      confirmationSeconds.observe((now - e.requestedAtMs) / 1000);
    }
  }
}
