import { Inject, Logger, OnModuleDestroy, UseFilters } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';

import type { AuthUser } from '../auth/auth-user';
import { authCookie, cookieCredentialOf, Credential } from '../auth/jwt-auth.guard';
import { fromAllowedOrigin } from '../auth/origin-check';
import { Revocations } from '../auth/revocations';
import { TokenService } from '../auth/token.service';
import { BookingEvents } from '../booking/booking-events';
import type { BookingOutcome } from '../booking/booking.types';
import { ErrorCode, errorMessages } from '../common/error-codes';
import { AppConfig } from '../config/app-config';
import { GoodsService } from '../goods/goods.service';
import { StockService } from '../stock/stock.service';
import { REDIS } from '../redis/redis.module';
import { EventBudget, goodsIdOf } from './socket-limits';
import {
  Ack,
  guardHandshake,
  guardPackets,
  handshakeError,
  RealtimeExceptionFilter,
  refusal,
} from './socket-errors';

const STOCK_FLUSH_MS = 250;

/** How often live connections' tokens are checked again (expiry, logout elsewhere). */
const RECHECK_MS = 5000;

function credentialOf(socket: Socket, cookie: string): Credential | undefined {
  const auth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
  if (typeof auth === 'string' && auth.length > 0) {
    return { token: auth.replace(/^Bearer\s+/i, ''), fromCookie: false };
  }
  return cookieCredentialOf(socket.handshake.headers.cookie, cookie);
}

interface SocketData {
  userId: number;
  token: string;
  budget: EventBudget;
}

/**
 * `/realtime`: the owner hears `booking.status` and `waitlist.promoted`; anyone watching a
 * goods hears `goods.stock`, coalesced to at most one per goods every 250 ms. Every instance
 * receives every outcome (Redis pub/sub) and speaks only to its own sockets.
 *
 * Bounded, so one client cannot grow this process: a connection watches at most
 * REALTIME_MAX_WATCHES goods, each one that exists; it may send REALTIME_EVENTS_PER_SECOND
 * events; a user holds at most REALTIME_MAX_CONNECTIONS_PER_USER connections here (the
 * oldest goes); a message is at most 4 KB (redis-io.adapter.ts). The cookie is accepted only
 * from our own pages' Origin, and a connection ends when its token does (expiry, logout).
 */
@WebSocketGateway({ namespace: '/realtime' })
@UseFilters(RealtimeExceptionFilter)
export class RealtimeGateway implements OnGatewayInit, OnModuleDestroy {
  private readonly logger = new Logger(RealtimeGateway.name);
  @WebSocketServer() private readonly server: Namespace;
  private readonly dirty = new Set<number>();
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly tokens: TokenService,
    private readonly revocations: Revocations,
    private readonly events: BookingEvents,
    private readonly stock: StockService,
    private readonly goods: GoodsService,
    private readonly config: AppConfig,
    @Inject(REDIS) _redis: unknown,
  ) {}

  afterInit(server: Namespace): void {
    // Nothing is served on Socket.IO's default namespace: a connection there was accepted and
    // kept, holding a socket of this process for nothing (issue 23, also seen).
    server.server.of('/').use((_socket, next) => next(handshakeError(ErrorCode.RouteNotFound)));
    server.use(
      guardHandshake((socket, next) => {
        const credential = credentialOf(socket, authCookie(this.config));
        if (
          credential?.fromCookie === true &&
          !fromAllowedOrigin(socket.handshake.headers, this.config.publicOrigins)
        ) {
          next(handshakeError(ErrorCode.OriginNotAllowed));
          return;
        }
        const user = credential && this.tokens.verify(credential.token);
        if (!user) {
          next(handshakeError(ErrorCode.Unauthorized));
          return;
        }
        this.admit(socket, user, credential.token);
        next();
      }),
    );
    void this.events
      .onOutcomes((outcomes) => this.push(outcomes))
      .catch((error: Error) => this.logger.warn(`realtime feed unavailable: ${error.message}`));
    // A logout, password or role change anywhere: that user's connections here are checked now.
    this.revocations.onRevoke((userId) => this.recheckTokens(`user:${userId}`));
    this.timers = [
      setInterval(() => void this.flushStock(), STOCK_FLUSH_MS),
      setInterval(() => this.recheckTokens(), RECHECK_MS),
    ];
  }

  private admit(socket: Socket, user: AuthUser, token: string): void {
    const data = socket.data as SocketData;
    data.userId = user.id;
    data.token = token;
    data.budget = new EventBudget(this.config.realtimeEventsPerSecond);
    const room = `user:${user.id}`;
    // Room members in join order: past the cap, the oldest connections give way.
    const held = [...(this.server.adapter.rooms.get(room) ?? [])];
    // (At most 0: slice's negative end would count from the back and close some below the cap,
    // which made the cap of 10 behave as 5, issue 23.)
    const over = Math.max(0, held.length + 1 - this.config.realtimeMaxConnectionsPerUser);
    for (const id of held.slice(0, over)) {
      this.end(this.server.sockets.get(id), ErrorCode.ConnectionLimit);
    }
    void socket.join(room);
    socket.use(
      guardPackets(([event, ...args]: unknown[], next) => {
        const verdict = data.budget.take();
        if (verdict === 'ok') {
          next();
          return;
        }
        const ack = args.at(-1);
        if (typeof ack === 'function') {
          (ack as (answer: Ack) => void)(refusal(ErrorCode.RateLimited));
        }
        if (verdict === 'close') {
          this.logger.debug(
            `closing a realtime connection of user ${user.id}: ${String(event)} flood`,
          );
          this.end(socket, ErrorCode.RateLimited);
        }
      }),
    );
  }

  /** Tell the client why, then close (the client does not reconnect by itself after this). */
  private end(socket: Socket | undefined, code: ErrorCode): void {
    socket?.emit('connection.closed', { code, message: errorMessages[code] });
    socket?.disconnect(true);
  }

  /** Connections (all, or one room's) whose token no longer verifies (expired, revoked) end. */
  private recheckTokens(room?: string): void {
    const ids =
      room === undefined ? this.server.sockets.keys() : this.server.adapter.rooms.get(room);
    for (const id of [...(ids ?? [])]) {
      const socket = this.server.sockets.get(id);
      if (socket && this.tokens.verify((socket.data as SocketData).token) === undefined) {
        this.end(socket, ErrorCode.Unauthorized);
      }
    }
  }

  @SubscribeMessage('goods.watch')
  async watch(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<Ack> {
    const goodsId = goodsIdOf(body);
    if (goodsId === undefined) {
      return refusal(ErrorCode.ValidationFailed, 'goodsId must be a positive integer.');
    }
    const room = `goods:${goodsId}`;
    if (socket.rooms.has(room)) {
      return { ok: true };
    }
    // Rooms: its own id, its user's, then one per watched goods.
    if (socket.rooms.size - 2 >= this.config.realtimeMaxWatches) {
      return refusal(ErrorCode.WatchLimit);
    }
    if (!(await this.goods.exists(goodsId))) {
      return refusal(ErrorCode.NotFound, 'No such goods.');
    }
    // Again: other watches of this connection may have joined while this one waited.
    if (socket.rooms.size - 2 >= this.config.realtimeMaxWatches) {
      return refusal(ErrorCode.WatchLimit);
    }
    if (socket.connected) {
      void socket.join(room);
      this.dirty.add(goodsId); // the watcher gets the current stock at the next flush
    }
    return { ok: true };
  }

  @SubscribeMessage('goods.unwatch')
  unwatch(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Ack {
    const goodsId = goodsIdOf(body);
    if (goodsId === undefined) {
      return refusal(ErrorCode.ValidationFailed, 'goodsId must be a positive integer.');
    }
    void socket.leave(`goods:${goodsId}`);
    return { ok: true };
  }

  private push(outcomes: BookingOutcome[]): void {
    // Rooms of this instance's sockets: most outcomes have nobody connected here to tell,
    // and an emit encodes its packet before it looks for listeners.
    const rooms = this.server.adapter.rooms;
    for (const o of outcomes) {
      this.dirty.add(o.goodsId);
      if (!rooms.has(`user:${o.userId}`)) {
        continue;
      }
      const status: Record<string, unknown> = { id: o.id, status: o.status, goodsId: o.goodsId };
      if (o.reason) {
        status.reason = o.reason;
      }
      this.server.local.to(`user:${o.userId}`).emit('booking.status', status);
      if (o.promoted) {
        this.server.local
          .to(`user:${o.userId}`)
          .emit('waitlist.promoted', { goodsId: o.goodsId, bookingId: o.id });
      }
    }
  }

  private async flushStock(): Promise<void> {
    const watched = [...this.dirty].filter(
      (id) => (this.server.adapter.rooms.get(`goods:${id}`)?.size ?? 0) > 0,
    );
    this.dirty.clear();
    if (watched.length === 0) {
      return;
    }
    const remaining = await this.stock
      .remainingOf(watched)
      .catch(() => watched.map(() => undefined));
    watched.forEach((goodsId, i) => {
      if (remaining[i] !== undefined) {
        this.server.local
          .to(`goods:${goodsId}`)
          .emit('goods.stock', { goodsId, remaining: remaining[i] });
      }
    });
  }

  onModuleDestroy(): void {
    this.timers.forEach(clearInterval);
  }
}
