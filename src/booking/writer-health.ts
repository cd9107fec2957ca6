import { Inject, Injectable } from '@nestjs/common';

import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';
import { bookingKeys } from './booking.keys';

/** The booking log as the writers leave it; ages are Redis's clock against Redis's clock. */
export interface WriterBacklog {
  /** Admitted bookings not yet settled (the log keeps nothing else). */
  waiting: number;
  /** Age of the oldest of them; null when none waits. */
  oldestAgeMs: number | null;
  /** Since a writer last settled a batch; null when none ever did. */
  sinceSettledMs: number | null;
}

/** One round trip: Redis's time, the log's length and first entry, the last settle time. */
export async function readWriterBacklog(redis: ScriptedRedis): Promise<WriterBacklog> {
  const replies = (await redis
    .pipeline()
    .time()
    .xlen(bookingKeys.log)
    .xrange(bookingKeys.log, '-', '+', 'COUNT', 1)
    .get(bookingKeys.lastSettled)
    .exec())!;
  const failed = replies.find(([error]) => error);
  if (failed) {
    throw failed[0]!;
  }
  const [[, time], [, waiting], [, first], [, settled]] = replies as [
    [null, [string, string]],
    [null, number],
    [null, [string, string[]][]],
    [null, string | null],
  ];
  const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
  const oldest = first[0] ? Number(first[0][0].split('-')[0]) : undefined;
  return {
    waiting,
    oldestAgeMs: waiting > 0 && oldest !== undefined ? Math.max(0, now - oldest) : null,
    sinceSettledMs: settled === null ? null : Math.max(0, now - Number(settled)),
  };
}

/**
 * Whether the booking writers keep up, for readiness. The log holds exactly the admitted
 * bookings not yet settled, so one rule covers both ways of failing: no batch settling while
 * entries wait, and one entry left behind while others settle. Either way the oldest entry
 * grows older than WRITER_STALL_AFTER.
 */
@Injectable()
export class WriterHealth {
  constructor(
    @Inject(REDIS) private readonly redis: ScriptedRedis,
    private readonly config: AppConfig,
  ) {}

  /** Only the Redis strategy has a writer. */
  get applies(): boolean {
    return this.config.bookingStrategy === 'redis';
  }

  async check(): Promise<{ ok: boolean; backlog: WriterBacklog; problem?: string }> {
    const backlog = await readWriterBacklog(this.redis);
    const stallAfter = this.config.writerStallAfterMs;
    if (backlog.oldestAgeMs === null || backlog.oldestAgeMs <= stallAfter) {
      return { ok: true, backlog };
    }
    const settled =
      backlog.sinceSettledMs === null
        ? 'no batch was ever settled'
        : `the last batch settled ${(backlog.sinceSettledMs / 1000).toFixed(1)} s ago`;
    return {
      ok: false,
      backlog,
      problem: `${backlog.waiting} booking(s) wait; the oldest for ${(backlog.oldestAgeMs / 1000).toFixed(1)} s (WRITER_STALL_AFTER ${stallAfter / 1000} s); ${settled}`,
    };
  }
}
