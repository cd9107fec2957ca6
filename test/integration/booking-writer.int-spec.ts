import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { BookingWriterRepository } from '../../src/booking/booking-writer.repository';
import type { LoggedBooking } from '../../src/booking/booking.types';
import { Sql } from '../../src/database/sql';
import { StockRepository } from '../../src/stock/stock.repository';
import { insertGoods, insertHost, insertUsers } from '../../src/database/fixtures';
import { freshDatabaseUrl } from '../support/env';

/** The writer's batch transaction against a real PostgreSQL, on one connection. */
describe('the booking writer batch', () => {
  let pool: pg.Pool;
  let repository: BookingWriterRepository;
  let goodsId: number;
  let userIds: number[];
  let seq = 0;
  before(async () => {
    pool = new pg.Pool({ connectionString: await freshDatabaseUrl(), max: 1 });
    const sql = Sql.onPool(pool);
    repository = new BookingWriterRepository(sql, new StockRepository(sql));
    const hostId = await insertHost(pool);
    [goodsId] = await insertGoods(pool, hostId, { bookingLimit: 100_000, maxPerUser: 100 });
    userIds = await insertUsers(pool, 50);
  });
  after(() => pool.end());

  const batch = (n: number): LoggedBooking[] =>
    Array.from({ length: n }, (_, i) => ({
      streamId: `${++seq}-0`,
      id: randomUUID(),
      goodsId,
      userId: userIds[i % userIds.length],
      quantity: 1,
      idempotencyKey: null,
      requestedAtMs: Date.now(),
    }));

  it('plans every batch for its own arrays: no generic plan, made on a small table, is ever reused', async () => {
    // Ten batches on one connection: past the five after which PostgreSQL would switch a
    // prepared statement to its generic plan (a sequential scan while the table was small,
    // kept as it grew: the writer fell 15 s behind in one bench run in four).
    for (let i = 0; i < 10; i++) {
      const outcomes = await repository.persistBatch(batch(20), { redelivered: true });
      assert.ok(outcomes.every((o) => o.status === 'CONFIRMED'));
    }
    const { rows } = await pool.query<{
      name: string;
      generic_plans: string;
      custom_plans: string;
    }>(
      `SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'batch-%' ORDER BY name`,
    );
    assert.deepEqual(
      rows.map((r) => r.name),
      ['batch-active', 'batch-count', 'batch-goods', 'batch-insert', 'batch-stored', 'batch-users'],
    );
    for (const r of rows) {
      assert.equal(Number(r.generic_plans), 0, `${r.name} ran a generic plan`);
      assert.equal(Number(r.custom_plans), 10, r.name);
    }
  });

  it('looks for stored rows only in a redelivered batch, and a redelivery changes nothing', async () => {
    const entries = batch(10);
    const first = await repository.persistBatch(entries, { redelivered: false });
    assert.ok(first.every((o) => o.status === 'CONFIRMED'));
    const before = (await pool.query(`SELECT booking_count FROM goods WHERE id = $1`, [goodsId]))
      .rows[0].booking_count as number;
    // The same entries again, claimed after a crash between the commit and the acknowledgement.
    const again = await repository.persistBatch(entries, { redelivered: true });
    assert.deepEqual(
      again.map((o) => [o.id, o.status]),
      first.map((o) => [o.id, o.status]),
    );
    const after = await pool.query(
      `SELECT (SELECT booking_count FROM goods WHERE id = $1) AS count,
              (SELECT count(*)::int FROM bookings WHERE id = ANY($2::uuid[])) AS rows`,
      [goodsId, entries.map((e) => e.id)],
    );
    assert.deepEqual(after.rows[0], { count: before, rows: 10 });
  });

  it('a batch another writer stored meanwhile (it claimed them, thinking this one dead) gets the stored outcomes, not DUPLICATE_REQUEST', async () => {
    const entries = batch(5);
    const claimer = await repository.persistBatch(entries, { redelivered: true });
    // The slow writer read them first, as new: it does not look them up before inserting.
    const slow = await repository.persistBatch(entries, { redelivered: false });
    assert.deepEqual(
      slow.map((o) => [o.id, o.status, o.reason]),
      claimer.map((o) => [o.id, 'CONFIRMED', null]),
    );
    // A different request under a used idempotency key still is a duplicate.
    const [first] = batch(1).map((e) => ({ ...e, idempotencyKey: 'k-1' }));
    await repository.persistBatch([first], { redelivered: false });
    const [again] = await repository.persistBatch(
      batch(1).map((e) => ({ ...e, userId: first.userId, idempotencyKey: 'k-1' })),
      { redelivered: false },
    );
    assert.deepEqual([again.status, again.reason], ['REJECTED', 'DUPLICATE_REQUEST']);
  });
});
