import { Inject, Logger, OnModuleDestroy } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';

import { AUTH_COOKIE } from '../auth/jwt-auth.guard';
import { TokenService } from '../auth/token.service';
import { BookingEvents } from '../booking/booking-events';
import type { BookingOutcome } from '../booking/booking.types';
import { StockService } from '../stock/stock.service';
import { REDIS } from '../redis/redis.module';

const STOCK_FLUSH_MS = 250;

function tokenOf(socket: Socket): string | undefined {
  const auth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
  if (typeof auth === 'string' && auth.length > 0) {
    return auth.replace(/^Bearer\s+/i, '');
  }
  const cookie = socket.handshake.headers.cookie ?? '';
  const match = new RegExp(`(?:^|;\\s*)${AUTH_COOKIE}=([^;]+)`).exec(cookie);
  return match ? decodeURIComponent(match[1]).replace(/^Bearer\s+/i, '') : undefined;
}

/**
 * `/realtime`: the owner hears `booking.status` and `waitlist.promoted`; anyone watching a
 * goods hears `goods.stock`, coalesced to at most one per goods every 250 ms. Every instance
 * receives every outcome (Redis pub/sub) and speaks only to its own sockets.
 */
@WebSocketGateway({ namespace: '/realtime' })
export class RealtimeGateway implements OnGatewayInit, OnModuleDestroy {
  private readonly logger = new Logger(RealtimeGateway.name);
  @WebSocketServer() private readonly server: Namespace;
  private readonly dirty = new Set<number>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly tokens: TokenService,
    private readonly events: BookingEvents,
    private readonly stock: StockService,
    @Inject(REDIS) _redis: unknown,
  ) {}

  afterInit(server: Namespace): void {
    server.use((socket, next) => {
      const user = (() => {
        const token = tokenOf(socket);
        return token ? this.tokens.verify(token) : undefined;
      })();
      if (!user) {
        next(new Error('UNAUTHORIZED'));
        return;
      }
      (socket.data as { userId: number }).userId = user.id;
      void socket.join(`user:${user.id}`);
      next();
    });
    void this.events
      .onOutcomes((outcomes) => this.push(outcomes))
      .catch((error: Error) => this.logger.warn(`realtime feed unavailable: ${error.message}`));
    this.timer = setInterval(() => void this.flushStock(), STOCK_FLUSH_MS);
  }

  @SubscribeMessage('goods.watch')
  watch(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): { ok: boolean } {
    const goodsId = Number((body as { goodsId?: unknown } | null)?.goodsId);
    if (!Number.isSafeInteger(goodsId) || goodsId < 1) {
      return { ok: false };
    }
    void socket.join(`goods:${goodsId}`);
    this.dirty.add(goodsId); // the watcher gets the current stock at the next flush
    return { ok: true };
  }

  @SubscribeMessage('goods.unwatch')
  unwatch(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): { ok: boolean } {
    void socket.leave(`goods:${Number((body as { goodsId?: unknown } | null)?.goodsId)}`);
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
    clearInterval(this.timer);
  }
}
