import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { RedisIoAdapter } from './redis-io.adapter';

describe('RedisIoAdapter', () => {
  // A Redis that accepts connections and never answers: the clients stay connecting, so what
  // the Socket.IO adapter sends them is still unanswered when the server closes, as it is on a
  // busy machine when an instance stops just after it started.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume(); // reads (and drops) what it is sent, so it sees a client's end and closes
  });
  let url = '';
  before(async () => {
    await new Promise<void>((listening) => silent.listen(0, '127.0.0.1', listening));
    url = `redis://127.0.0.1:${(silent.address() as { port: number }).port}`;
  });
  after(() => {
    sockets.forEach((socket) => socket.destroy());
    silent.close();
  });

  it('closes with its subscriptions unanswered and leaves no unhandled rejection', async () => {
    const rejections: unknown[] = [];
    const record = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', record);
    try {
      const adapter = new RedisIoAdapter(undefined as never, url, 'tn-spec:');
      const server = adapter.createIOServer(0);
      server.of('/realtime'); // a second namespace: a second Redis adapter, as the gateway has
      while (sockets.size < 2) {
        await new Promise((tick) => setTimeout(tick, 5));
      }
      await adapter.close(server);
      // The clients' queues are flushed when their sockets close, a few turns later.
      await new Promise((settle) => setTimeout(settle, 100));
      assert.deepEqual(rejections, []);
    } finally {
      process.off('unhandledRejection', record);
    }
  });
});
