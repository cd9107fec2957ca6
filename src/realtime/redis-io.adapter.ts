import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import Redis from 'ioredis';
import type { Server, ServerOptions } from 'socket.io';

/** Socket.IO over the Redis adapter, so every API instance shares rooms and broadcasts. */
export class RedisIoAdapter extends IoAdapter {
  private readonly clients: Redis[] = [];

  constructor(
    app: INestApplicationContext,
    private readonly redisUrl: string,
    private readonly keyPrefix: string,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    // A client's message is a goods id or two: 4 KB, not Socket.IO's default 1 MB, so no
    // client can make this process buffer megabytes.
    const server = super.createIOServer(port, {
      ...options,
      maxHttpBufferSize: 4096,
    } as ServerOptions);
    // Pub/sub clients wait for Redis (and re-subscribe after a reconnect) instead of failing fast.
    const pub = new Redis(this.redisUrl, { maxRetriesPerRequest: null });
    const sub = pub.duplicate();
    for (const client of [pub, sub]) {
      client.on('error', () => undefined); // readiness reports Redis; don't crash on reconnects
      settleQuietly(client);
      this.clients.push(client);
    }
    server.adapter(createAdapter(pub, sub, { key: `${this.keyPrefix}socket.io` }));
    return server;
  }

  override async close(server: Server): Promise<void> {
    await super.close(server);
    this.clients.forEach((c) => c.disconnect());
  }
}

/**
 * The adapter calls these without awaiting them. One that fails (Redis away, or the client
 * closed by shutdown before it was answered) must not be an unhandled rejection: Node ends the
 * process for those (in the tests, an app stopped just after it started had them).
 */
function settleQuietly(client: Redis): void {
  for (const name of [
    'subscribe',
    'psubscribe',
    'unsubscribe',
    'punsubscribe',
    'publish',
  ] as const) {
    const send = client[name].bind(client) as (...args: unknown[]) => Promise<unknown>;
    Object.assign(client, {
      [name]: (...args: unknown[]) => {
        const reply = send(...args);
        reply.catch(() => undefined);
        return reply;
      },
    });
  }
}
