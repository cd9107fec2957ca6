import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';

import { AppConfig } from '../config/app-config';
import { REDIS, SUBSCRIBER_OPTIONS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';
import { bookingKeys } from './booking.keys';
import type { BookingOutcome } from './booking.types';

type Listener = (outcomes: BookingOutcome[]) => void;

/**
 * Outcomes published by any worker, received by every API instance (one subscriber
 * connection each): resolves `Prefer: wait` requests and feeds real-time pushes.
 */
@Injectable()
export class BookingEvents implements OnModuleDestroy {
  private readonly logger = new Logger(BookingEvents.name);
  private subscriber?: Redis;
  private closed = false;
  private readonly waiters = new Map<string, Set<(o: BookingOutcome) => void>>();
  private readonly listeners = new Set<Listener>();
  readonly channel: string;

  constructor(
    @Inject(REDIS) private readonly redis: ScriptedRedis,
    config: AppConfig,
  ) {
    // Channels are not keys: the prefix is added by hand so deployments sharing a Redis stay apart.
    this.channel = `${config.redisKeyPrefix}${bookingKeys.events}`;
  }

  private async ensureSubscribed(): Promise<void> {
    if (this.subscriber) {
      return;
    }
    // Waits for Redis instead of failing fast, and re-subscribes by itself after a reconnect.
    this.subscriber = this.redis.duplicate(SUBSCRIBER_OPTIONS);
    this.subscriber.on('error', (err: Error) => this.logger.warn(`events: ${err.message}`));
    this.subscriber.on('message', (_channel: string, message: string) => this.dispatch(message));
    await this.subscriber.subscribe(this.channel).catch((error: Error) => {
      // Stopped before Redis answered (just after start, or with Redis away): nothing to report.
      if (!this.closed) {
        throw error;
      }
    });
  }

  private dispatch(message: string): void {
    let outcomes: BookingOutcome[];
    try {
      outcomes = JSON.parse(message) as BookingOutcome[];
    } catch {
      return;
    }
    for (const outcome of outcomes) {
      const waiting = this.waiters.get(outcome.id);
      if (waiting) {
        this.waiters.delete(outcome.id);
        waiting.forEach((resolve) => resolve(outcome));
      }
    }
    this.listeners.forEach((listener) => listener(outcomes));
  }

  async onOutcomes(listener: Listener): Promise<void> {
    await this.ensureSubscribed();
    this.listeners.add(listener);
  }

  /**
   * Wait up to `ms` for a booking's outcome. `current` is checked after subscribing, so an
   * outcome published just before we started listening is not missed.
   */
  async waitFor(
    bookingId: string,
    ms: number,
    current: () => Promise<BookingOutcome | undefined>,
  ): Promise<BookingOutcome | undefined> {
    await this.ensureSubscribed();
    let resolveOutcome!: (o: BookingOutcome) => void;
    const arrived = new Promise<BookingOutcome>((resolve) => (resolveOutcome = resolve));
    const set = this.waiters.get(bookingId) ?? new Set();
    set.add(resolveOutcome);
    this.waiters.set(bookingId, set);
    let timer: NodeJS.Timeout | undefined;
    try {
      const already = await current();
      if (already) {
        return already;
      }
      const timeout = new Promise<undefined>(
        (resolve) => (timer = setTimeout(() => resolve(undefined), ms)),
      );
      return await Promise.race([arrived, timeout]);
    } finally {
      clearTimeout(timer);
      set.delete(resolveOutcome);
      if (set.size === 0) {
        this.waiters.delete(bookingId);
      }
    }
  }

  onModuleDestroy(): void {
    this.closed = true;
    // disconnect, not quit: quit would wait forever for a Redis that is not there.
    this.subscriber?.disconnect();
  }
}
