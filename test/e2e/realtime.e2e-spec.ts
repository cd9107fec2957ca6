import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Namespace } from 'socket.io';
import { io, type Socket } from 'socket.io-client';

import { RealtimeGateway } from '../../src/realtime/realtime.gateway';
import { Role } from '../../src/users/user.entity';
import { TestApp, TestUser } from '../support/app';
import { connect, next } from '../support/realtime';

describe('realtime (/realtime over Socket.IO, two API instances)', () => {
  let a: TestApp;
  let b: TestApp;
  let host: TestUser;
  const sockets: Socket[] = [];
  before(async () => {
    a = await TestApp.start();
    b = await a.peer();
    host = await a.newUser(Role.Host);
  });
  after(async () => {
    sockets.forEach((s) => s.close());
    await b.close({ purge: false });
    await a.close();
  });

  it('refuses a connection without a valid token', async () => {
    await assert.rejects(connect(a.url), /UNAUTHORIZED/);
    await assert.rejects(connect(a.url, { token: 'forged.token.value' }), /UNAUTHORIZED/);
  });

  it('keeps ten connections of one user by default, as documented; the eleventh closes the oldest', async () => {
    const user = await a.newUser();
    const ten: Socket[] = [];
    for (let i = 0; i < 10; i++) {
      ten.push(await connect(a.url, { token: user.token }));
    }
    sockets.push(...ten);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(ten.filter((s) => s.connected).length, 10);
    const closed = next<{ code: string }>(ten[0], 'connection.closed');
    sockets.push(await connect(a.url, { token: user.token }));
    assert.equal((await closed).code, 'CONNECTION_LIMIT');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      ten.map((s) => s.connected),
      [false, ...Array(9).fill(true)],
    );
  });

  it("refuses Socket.IO's default namespace, token or not: nothing is served there", async () => {
    const user = await a.newUser();
    for (const auth of [{}, { token: user.token }]) {
      const refused = await new Promise<Error>((resolve, reject) => {
        const socket = io(a.url, { auth, transports: ['websocket'], reconnection: false });
        socket.once('connect', () => {
          socket.close();
          reject(new Error('connected to the default namespace'));
        });
        socket.once('connect_error', (error) => {
          socket.close();
          resolve(error);
        });
      });
      assert.equal(refused.message, 'ROUTE_NOT_FOUND');
    }
  });

  it('tells only the owner its booking.status, whichever instance it is connected to', async () => {
    const goods = await a.newGoods(host, { bookingLimit: 5 });
    const [owner, other] = [await a.newUser(), await a.newUser()];
    const ownerSocket = await connect(b.url, { token: owner.token }); // booking goes through a, socket on b
    const otherSocket = await connect(b.url, {}, { cookie: `Authorization=${other.token}` });
    sockets.push(ownerSocket, otherSocket);
    let leaked = false;
    otherSocket.on('booking.status', () => (leaked = true));
    const heard = next<{ id: string; status: string }>(
      ownerSocket,
      'booking.status',
      (p) => p.status === 'CONFIRMED',
    );
    const booked = await a.request('POST', `/api/goods/${goods.id}/bookings`, {
      token: owner.token,
      body: {},
    });
    assert.equal(booked.status, 202);
    const status = await heard;
    assert.equal(status.id, booked.body.id);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(leaked, false);
  });

  it('pushes goods.stock to watchers, coalesced', async () => {
    const goods = await a.newGoods(host, { bookingLimit: 10 });
    const watcher = await connect(a.url, { token: (await a.newUser()).token });
    sockets.push(watcher);
    const seen: number[] = [];
    watcher.on(
      'goods.stock',
      (p: { goodsId: number; remaining: number }) =>
        p.goodsId === goods.id && seen.push(p.remaining),
    );
    assert.deepEqual(await watcher.emitWithAck('goods.watch', { goodsId: goods.id }), { ok: true });
    const users = await Promise.all(Array.from({ length: 6 }, () => a.newUser()));
    await Promise.all(
      users.map((u) =>
        a.request('POST', `/api/goods/${goods.id}/bookings`, {
          token: u.token,
          body: {},
          headers: { prefer: 'wait=5' },
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(seen.at(-1), 4);
    assert.ok(seen.length <= 4, `coalesced: ${seen.length} pushes for 6 bookings`);
  });

  it('tells a waitlisted user waitlist.promoted when a seat comes back', async () => {
    const goods = await a.newGoods(host, { bookingLimit: 1 });
    const [holder, waiting] = [await a.newUser(), await a.newUser()];
    const booked = await a.request('POST', `/api/goods/${goods.id}/bookings`, {
      token: holder.token,
      body: {},
      headers: { prefer: 'wait=5' },
    });
    assert.equal(booked.status, 201);
    assert.equal(
      (await a.request('POST', `/api/goods/${goods.id}/waitlist`, { token: waiting.token })).status,
      201,
    );
    const socket = await connect(b.url, { token: waiting.token });
    sockets.push(socket);
    const promoted = next<{ goodsId: number; bookingId: string }>(socket, 'waitlist.promoted');
    await a.request('DELETE', `/api/bookings/${booked.body.id}`, { token: holder.token });
    const event = await promoted;
    assert.equal(event.goodsId, goods.id);
    const mine = await a.request('GET', `/api/bookings/${event.bookingId}`, {
      token: waiting.token,
    });
    assert.equal(mine.body.status, 'CONFIRMED');
  });
});

describe('realtime limits: one client cannot grow the process or borrow the cookie', () => {
  let t: TestApp;
  let host: TestUser;
  const sockets: Socket[] = [];
  before(async () => {
    t = await TestApp.start({
      REALTIME_MAX_WATCHES: '50',
      REALTIME_EVENTS_PER_SECOND: '20',
      REALTIME_MAX_CONNECTIONS_PER_USER: '3',
    });
    host = await t.newUser(Role.Host);
  });
  after(async () => {
    sockets.forEach((s) => s.close());
    await t.close();
  });

  /** The gateway's Socket.IO namespace, to count what the server holds. */
  const namespace = () => t.app.get<RealtimeGateway, { server: Namespace }>(RealtimeGateway).server;

  /** The acks of `goods.watch` for each body, sent no faster than the event budget allows. */
  async function watchAll(socket: Socket, bodies: unknown[]): Promise<Record<string, unknown>[]> {
    const acks: Record<string, unknown>[] = [];
    for (const [i, body] of bodies.entries()) {
      if (i > 0 && i % 20 === 0) {
        await new Promise((r) => setTimeout(r, 1000)); // 20 a second: within the budget
      }
      acks.push((await socket.emitWithAck('goods.watch', body)) as Record<string, unknown>);
    }
    return acks;
  }

  it('watches only goods that exist, given as integers, at most REALTIME_MAX_WATCHES per connection', async () => {
    const goods = [];
    for (let i = 0; i < 52; i++) {
      goods.push(await t.newGoods(host));
    }
    const user = await t.newUser();
    const socket = await connect(t.url, { token: user.token });
    sockets.push(socket);
    const acks = await watchAll(socket, [
      ...goods.map((g: { id: number }) => ({ goodsId: g.id })),
      { goodsId: 99_999 },
      { goodsId: '1e3' },
      { goodsId: String(goods[0].id) },
      { goodsId: 1.5 },
      'not an object',
    ]);
    assert.ok(acks.slice(0, 50).every((a) => a.ok === true));
    assert.deepEqual(
      acks.slice(50).map((a) => a.code),
      [
        'WATCH_LIMIT',
        'WATCH_LIMIT',
        'WATCH_LIMIT',
        'VALIDATION_FAILED',
        'VALIDATION_FAILED',
        'VALIDATION_FAILED',
        'VALIDATION_FAILED',
      ],
    );
    // Unwatching frees a place; an unknown goods is refused as such.
    assert.deepEqual(await socket.emitWithAck('goods.unwatch', { goodsId: goods[0].id }), {
      ok: true,
    });
    assert.equal((await socket.emitWithAck('goods.watch', { goodsId: 99_999 })).code, 'NOT_FOUND');
    assert.deepEqual(await socket.emitWithAck('goods.watch', { goodsId: goods[51].id }), {
      ok: true,
    });
    const serverSocket = namespace().sockets.get(socket.id ?? '')!;
    assert.equal(serverSocket.rooms.size, 2 + 50);
  });

  it('thousands of watch events from one connection leave its rooms and the memory flat', async () => {
    const user = await t.newUser();
    const socket = await connect(t.url, { token: user.token });
    sockets.push(socket);
    const roomsBefore = namespace().adapter.rooms.size;
    const rssBefore = process.memoryUsage().rss;
    const closed = next<{ code: string }>(socket, 'connection.closed');
    // As fast as it can: the event budget refuses all but a burst, then closes the connection.
    const acks = await Promise.all(
      Array.from({ length: 5000 }, (_, i) =>
        socket
          .timeout(5000)
          .emitWithAck('goods.watch', { goodsId: 100_000 + i })
          .catch(() => ({ ok: false, code: 'CLOSED' })),
      ),
    );
    assert.equal((await closed).code, 'RATE_LIMITED');
    const codes = new Map<string, number>();
    acks.forEach((a) => codes.set(a.code, (codes.get(a.code) ?? 0) + 1));
    assert.equal(codes.get(undefined as unknown as string), undefined, 'none was watched');
    assert.ok(
      (codes.get('NOT_FOUND') ?? 0) <= 41,
      `only the burst was looked up: ${JSON.stringify([...codes])}`,
    );
    assert.ok((codes.get('RATE_LIMITED') ?? 0) >= 200, JSON.stringify([...codes]));
    assert.ok(namespace().adapter.rooms.size <= roomsBefore + 1, 'no room was made');
    const grownMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    assert.ok(grownMb < 64, `RSS grew ${grownMb.toFixed(0)} MB`);
    assert.equal((await t.request('GET', '/health/live')).status, 200);
  });

  it('closes a connection that keeps sending far past its event budget', async () => {
    const user = await t.newUser();
    const socket = await connect(t.url, { token: user.token });
    const closed = next<{ code: string }>(socket, 'connection.closed');
    for (let i = 0; i < 400; i++) {
      socket.emit('goods.unwatch', { goodsId: 1 });
    }
    assert.equal((await closed).code, 'RATE_LIMITED');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(socket.connected, false);
  });

  it('keeps at most REALTIME_MAX_CONNECTIONS_PER_USER per user: the oldest is told and closed', async () => {
    const user = await t.newUser();
    const first = await connect(t.url, { token: user.token });
    const closed = next<{ code: string }>(first, 'connection.closed');
    const rest = [];
    for (let i = 0; i < 3; i++) {
      rest.push(await connect(t.url, { token: user.token }));
    }
    sockets.push(first, ...rest);
    assert.equal((await closed).code, 'CONNECTION_LIMIT');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      [first, ...rest].map((s) => s.connected),
      [false, true, true, true],
    );
  });

  it("accepts the cookie only from our own pages' Origin; a token in the handshake from anywhere", async () => {
    const user = await t.newUser();
    const cookie = `Authorization=${user.token}`;
    await assert.rejects(
      connect(t.url, {}, { cookie, origin: 'https://evil.test' }),
      /ORIGIN_NOT_ALLOWED/,
    );
    await assert.rejects(
      connect(t.url, {}, { cookie, origin: 'null', 'sec-fetch-site': 'cross-site' }),
      /ORIGIN_NOT_ALLOWED/,
    );
    const own = await connect(t.url, {}, { cookie, origin: new URL(t.url).origin });
    const bearer = await connect(t.url, { token: user.token }, { origin: 'https://evil.test' });
    sockets.push(own, bearer);
    assert.ok(own.connected && bearer.connected);
  });
});
