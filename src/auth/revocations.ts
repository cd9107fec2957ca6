import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';

import { AppConfig } from '../config/app-config';
import { REDIS, SUBSCRIBER_OPTIONS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';

/** The Redis keys of revocation (the client adds REDIS_KEY_PREFIX; the channel by hand). */
export const revocationKeys = {
  /** Logged-out tokens: member jti, score the token's expiry (ms); past it the entry goes. */
  tokens: 'auth:revoked',
  /** Per user, the generation a token must carry: raised by a password or role change. */
  generations: 'auth:generation',
  channel: 'auth:revocations',
} as const;

/** What a verified token says of itself, for the revocation check. */
export interface Session {
  userId: number;
  /** Absent in tokens signed before revocation existed: those end by expiry or generation. */
  jti?: string;
  generation: number;
}

type Message =
  { jti: string; userId: number; expiresAtMs: number } | { userId: number; generation: number };

const PRUNE_MS = 60_000;

/**
 * Revoked sessions, mirrored in every process's memory so that checking a token costs two Map
 * lookups, not a Redis round trip (the booking fast path checks every request). Redis holds
 * the truth and tells every instance at once (pub/sub); an instance reloads everything when
 * it starts and whenever its subscriber reconnects, so a message missed while Redis was away
 * is not lost. Between a revocation and its message reaching another instance there are
 * milliseconds in which that instance still accepts the token.
 */
@Injectable()
export class Revocations implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(Revocations.name);
  private readonly tokens = new Map<string, number>();
  private readonly generations = new Map<number, number>();
  private readonly listeners = new Set<(userId: number) => void>();
  private readonly channel: string;
  private subscriber?: Redis;
  private pruner?: NodeJS.Timeout;

  constructor(
    @Inject(REDIS) private readonly redis: ScriptedRedis,
    config: AppConfig,
  ) {
    this.channel = `${config.redisKeyPrefix}${revocationKeys.channel}`;
  }

  async onModuleInit(): Promise<void> {
    this.subscriber = this.redis.duplicate(SUBSCRIBER_OPTIONS);
    this.subscriber.on('error', (err: Error) => this.logger.warn(`revocations: ${err.message}`));
    this.subscriber.on('message', (_channel: string, message: string) => this.apply(message));
    // Subscribed first, then loaded: a revocation in between arrives by message.
    this.subscriber.on('ready', () => void this.reload());
    // Not awaited: with Redis away at start, the service still starts (and reloads on 'ready').
    void this.subscriber.subscribe(this.channel).catch(() => undefined);
    await this.reload();
    this.pruner = setInterval(() => void this.prune(), PRUNE_MS);
    this.pruner.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.pruner);
    this.subscriber?.disconnect();
  }

  /** Is this session ended: its token logged out, or its user's generation moved past it? */
  isRevoked(session: Session): boolean {
    return (
      (session.jti !== undefined && this.tokens.has(session.jti)) ||
      (this.generations.get(session.userId) ?? 0) > session.generation
    );
  }

  /** Called with the user id whenever one of that user's sessions may have ended. */
  onRevoke(listener: (userId: number) => void): void {
    this.listeners.add(listener);
  }

  /** The generation a new token for this user must carry (read from Redis: another instance may have just raised it). */
  async generationOf(userId: number): Promise<number> {
    const stored = await this.redis.hget(revocationKeys.generations, String(userId));
    const generation = stored === null ? 0 : Number(stored);
    this.raise(userId, generation);
    return generation;
  }

  /** Log out one token until it would have expired anyway. */
  async revokeToken(jti: string, userId: number, expiresAtMs: number): Promise<void> {
    await this.redis.zadd(revocationKeys.tokens, expiresAtMs, jti);
    this.publishAndApply({ jti, userId, expiresAtMs });
  }

  /** End every session of a user (password or role change); returns the new generation. */
  async revokeUser(userId: number): Promise<number> {
    const generation = await this.redis.hincrby(revocationKeys.generations, String(userId), 1);
    this.publishAndApply({ userId, generation });
    return generation;
  }

  private publishAndApply(message: Message): void {
    const text = JSON.stringify(message);
    this.apply(text); // this instance at once, not after the round trip
    void this.redis.publish(this.channel, text).catch((err: Error) => {
      this.logger.warn(
        `revocation not published (other instances reload on reconnect): ${err.message}`,
      );
    });
  }

  private apply(text: string): void {
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return;
    }
    if ('jti' in message) {
      this.tokens.set(message.jti, message.expiresAtMs);
    } else {
      this.raise(message.userId, message.generation);
    }
    this.listeners.forEach((listener) => listener(message.userId));
  }

  private raise(userId: number, generation: number): void {
    if (generation > (this.generations.get(userId) ?? 0)) {
      this.generations.set(userId, generation);
    }
  }

  private async reload(): Promise<void> {
    try {
      const [tokens, generations] = await Promise.all([
        this.redis.zrangebyscore(revocationKeys.tokens, Date.now(), '+inf', 'WITHSCORES'),
        this.redis.hgetall(revocationKeys.generations),
      ]);
      for (let i = 0; i < tokens.length; i += 2) {
        this.tokens.set(tokens[i], Number(tokens[i + 1]));
      }
      for (const [userId, generation] of Object.entries(generations)) {
        this.raise(Number(userId), Number(generation));
      }
    } catch (err) {
      this.logger.warn(`revocations not loaded (Redis away?): ${(err as Error).message}`);
    }
  }

  /** Entries of tokens that have expired anyway are no longer needed, here or in Redis. */
  private async prune(): Promise<void> {
    const now = Date.now();
    for (const [jti, expiresAtMs] of this.tokens) {
      if (expiresAtMs <= now) {
        this.tokens.delete(jti);
      }
    }
    await this.redis.zremrangebyscore(revocationKeys.tokens, '-inf', now).catch(() => undefined);
  }
}
