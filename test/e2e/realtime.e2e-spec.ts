import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { io, Socket } from 'socket.io-client';

import { Role } from '../../src/users/user.entity';
import { TestApp, TestUser } from '../support/app';

function connect(
  url: string,
  auth: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(`${url}/realtime`, {
      auth,
      extraHeaders: headers,
      transports: ['websocket'],
      reconnection: false,
    });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

function next<T>(
  socket: Socket,
  event: string,
  match: (payload: T) => boolean = () => true,
  ms = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    const handler = (payload: T) => {
      if (match(payload)) {
        clearTimeout(timer);
        socket.off(event, handler);
        resolve(payload);
      }
    };
    socket.on(event, handler);
  });
}

describe('realtime (/realtime over Socket.IO, two API instances)', () => {
  let a: TestApp;
  let b: TestApp;
  let host: TestUser;
  const sockets: Socket[] = [];
  before(async () => {
    a = await TestApp.start();
    b = await TestApp.start({
      DATABASE_URL: a.databaseUrl,
      REDIS_KEY_PREFIX: a.redisPrefix,
      APP_ROLE: 'api',
    });
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
