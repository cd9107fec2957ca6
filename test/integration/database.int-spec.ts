import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import pg from 'pg';

import { STORED_STATUSES } from '../../src/booking/lifecycle';
import { AppConfig } from '../../src/config/app-config';
import { migrations, runMigrations } from '../../src/database/data-source';
import { databaseUnavailable } from '../../src/database/failure-kind';
import { ReadReplica } from '../../src/database/read-replica';
import { DEMO_ACCOUNTS, seedDemoData } from '../../src/seed';
import { Sql } from '../../src/database/sql';
import { freshDatabaseUrl, testEnv, withDatabase } from '../support/env';

/** An empty database (no template): what a first start sees. */
async function emptyDatabase(): Promise<string> {
  const name = `tn_test_${testEnv('TEST_RUN_ID')}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testEnv('TEST_PG_ADMIN_URL') });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  return withDatabase(testEnv('TEST_PG_ADMIN_URL'), name);
}

describe('migrations and constraints', () => {
  let url: string;
  let db: pg.Pool;
  before(async () => {
    url = await emptyDatabase();
    db = new pg.Pool({ connectionString: url, max: 2 });
  });
  after(() => db.end());

  it('migrates once when three instances start at the same moment', async () => {
    const results = await Promise.all([runMigrations(url), runMigrations(url), runMigrations(url)]);
    assert.deepEqual(results.map((r) => r.length).sort(), [0, 0, migrations.length]);
    const { rows } = await db.query('SELECT name FROM migrations');
    assert.equal(rows.length, migrations.length);
  });

  it('guards the data itself: no oversold goods, no negative price, lower-case emails only', async () => {
    const { rows } = await db.query(
      `INSERT INTO users (email, nickname, password_hash, role) VALUES ('h@x.io', 'h', 'x', 'host') RETURNING id`,
    );
    const hostId = rows[0].id;
    const insert = (limit: number, count: number, price = 0) =>
      db.query(
        `INSERT INTO goods (title, content, price, img_url, show_date, booking_limit, booking_count, host_id)
         VALUES ('t', 'c', $3, 'https://x.io', now(), $1, $2, $4)`,
        [limit, count, price, hostId],
      );
    await insert(2, 2);
    await assert.rejects(insert(2, 3), { code: '23514', constraint: 'goods_not_oversold' });
    await assert.rejects(insert(2, 0, -1), { code: '23514' });
    await assert.rejects(insert(0, 0), { code: '23514' });
    await assert.rejects(
      db.query(`INSERT INTO users (email, nickname, password_hash) VALUES ('Up@x.io', 'u', 'x')`),
      { code: '23514', constraint: 'users_email_lower' },
    );
    await assert.rejects(db.query(`DELETE FROM users WHERE id = $1`, [hostId]), { code: '23503' });
  });

  it("allows a booking row exactly the lifecycle's stored statuses (its CHECK constraint)", async () => {
    const { rows } = await db.query<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid = 'bookings'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%status = ANY%'`,
    );
    assert.equal(rows.length, 1, JSON.stringify(rows));
    const allowed = [...rows[0].def.matchAll(/'(\w+)'::text/g)].map((m) => m[1]);
    assert.deepEqual(allowed.sort(), [...STORED_STATUSES].sort(), rows[0].def);
  });

  it("keeps bookings' goods and users: deleting either while a booking refers to it fails as a foreign key would", async () => {
    const one = async (sql: string, params: unknown[] = []) =>
      (await db.query(sql, params)).rows[0];
    const user = async (name: string) =>
      (
        await one(
          `INSERT INTO users (email, nickname, password_hash) VALUES ($1, $1, 'x') RETURNING id`,
          [`${name}@refs.io`],
        )
      ).id as number;
    const hostId = await user('refs-host');
    const goodsId = (
      await one(
        `INSERT INTO goods (title, content, price, img_url, show_date, booking_limit, host_id)
         VALUES ('t', 'c', 0, 'https://x.io', now(), 10, $1) RETURNING id`,
        [hostId],
      )
    ).id as number;
    const booker = await user('refs-booker');
    const bystander = await user('refs-bystander');
    await db.query(
      `INSERT INTO bookings (id, goods_id, user_id, quantity, status, reason, requested_at)
       VALUES (gen_random_uuid(), $1, $2, 1, 'REJECTED', 'SOLD_OUT', now())`,
      [goodsId, booker],
    );
    await assert.rejects(db.query(`DELETE FROM users WHERE id = $1`, [booker]), {
      code: '23503',
      constraint: 'bookings_user_id_fkey',
    });
    await assert.rejects(db.query(`DELETE FROM goods WHERE id = $1`, [goodsId]), {
      code: '23503',
      constraint: 'bookings_goods_id_fkey',
    });
    await assert.rejects(db.query(`UPDATE users SET id = -id WHERE id = $1`, [booker]), {
      code: '23503',
    });
    // Rows nothing refers to go, and other updates pass.
    await db.query(`UPDATE users SET nickname = 'renamed' WHERE id = $1`, [booker]);
    assert.equal((await db.query(`DELETE FROM users WHERE id = $1`, [bystander])).rowCount, 1);

    // A writer that has read its users and not yet committed its bookings (it holds ROW
    // EXCLUSIVE on bookings, as the booking writers do): the user's delete waits for it, then
    // sees the booking and fails. Without the lock it would delete and leave the booking orphaned.
    const late = await user('refs-late');
    const writer = await db.connect();
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await writer.query('BEGIN; LOCK TABLE bookings IN ROW EXCLUSIVE MODE');
      assert.equal((await writer.query('SELECT 1 FROM users WHERE id = $1', [late])).rowCount, 1);
      let settled = false;
      const deletion = other.query(`DELETE FROM users WHERE id = $1`, [late]).finally(() => {
        settled = true;
      });
      deletion.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(settled, false, 'the delete waits for the writer');
      await writer.query(
        `INSERT INTO bookings (id, goods_id, user_id, quantity, status, requested_at)
         VALUES (gen_random_uuid(), $1, $2, 1, 'CONFIRMED', now())`,
        [goodsId, late],
      );
      await writer.query('COMMIT');
      await assert.rejects(deletion, { code: '23503', constraint: 'bookings_user_id_fkey' });
    } finally {
      writer.release();
      await other.end();
    }
    assert.equal((await one(`SELECT count(*)::int AS n FROM users WHERE id = $1`, [late])).n, 1);
  });
});

describe('demo seed', () => {
  it('seeds exactly once even when two instances start together, and never into a used database', async () => {
    const url = await emptyDatabase();
    await runMigrations(url);
    const results = await Promise.all([seedDemoData(url), seedDemoData(url)]);
    assert.deepEqual(results.sort(), [false, true]);
    const db = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const users = await db.query('SELECT email, role FROM users ORDER BY id');
      assert.deepEqual(
        users.rows,
        DEMO_ACCOUNTS.map(({ email, role }) => ({ email, role })),
      );
      assert.equal((await db.query('SELECT count(*)::int AS n FROM goods')).rows[0].n, 3);
      assert.equal(await seedDemoData(url), false);
    } finally {
      await db.end();
    }
  });
});

describe('Sql on a connection that dies mid-statement', () => {
  /** Terminate, once, the backend running a statement that contains `marker`. */
  async function terminateOnce(admin: pg.Client, marker: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`,
        [marker],
      );
      if (rowCount) {
        return;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no statement with ${marker} to terminate`);
  }

  async function withPool(work: (sql: Sql, admin: pg.Client) => Promise<void>): Promise<void> {
    const url = await freshDatabaseUrl();
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    // As the app's (TypeORM listens on its pool): a client that dies while idle in the pool
    // is reported on the pool, and unheard that would end the process.
    pool.on('error', () => undefined);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await work(Sql.onPool(pool), admin);
    } finally {
      await admin.end();
      await pool.end();
    }
  }

  it('answers a plain read on a new connection (a failover, Pgpool-II dropping its sessions)', () =>
    withPool(async (sql, admin) => {
      const reading = sql.rows<{ answer: number }>(
        `SELECT 42 AS answer, pg_sleep(0.3) /* doomed-read */`,
      );
      await terminateOnce(admin, 'doomed-read');
      assert.deepEqual(
        (await reading).map((r) => r.answer),
        [42],
      );
    }));

  it('answers a plain read when every pooled connection died at once (Pgpool-II restarting its children)', async () => {
    const url = await freshDatabaseUrl();
    const name = `doomed-${randomBytes(4).toString('hex')}`;
    const pool = new pg.Pool({ connectionString: url, max: 4, application_name: name });
    pool.on('error', () => undefined);
    try {
      const sql = Sql.onPool(pool);
      await Promise.all(Array.from({ length: 4 }, () => sql.rows('SELECT pg_sleep(0.05)')));
      // From another process while this one is blocked: every idle connection is dead before
      // this process hears of it, as when Pgpool-II ends all its sessions as it detaches a node.
      const killed = spawnSync(
        process.execPath,
        [
          '-e',
          `const c = new (require('pg').Client)(process.argv[1]);
           c.connect().then(() => c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [process.argv[2]]))
             .then((r) => { console.log(r.rowCount); return c.end(); });`,
          url,
          name,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(killed.stdout.trim(), '4', killed.stderr);
      assert.deepEqual(await sql.rows<{ answer: number }>('SELECT 42 AS answer'), [{ answer: 42 }]);
    } finally {
      await pool.end();
    }
  });

  it('never repeats a write: it is refused as unavailable, and the process lives on', () =>
    withPool(async (sql, admin) => {
      // pg may also emit 'error' on the checked-out client besides rejecting: unheard, that
      // would end the process.
      await sql.rows('CREATE TABLE probe (n integer)');
      // Its refusal is awaited from the start: it may come before terminateOnce returns, and
      // a rejection nobody awaits yet is an unhandled one, which fails the test.
      const writing = assert.rejects(
        sql.rows(
          `WITH pause AS (SELECT pg_sleep(10)) INSERT INTO probe SELECT 1 FROM pause /* doomed-write */`,
        ),
        (error: unknown) => databaseUnavailable(error),
      );
      await terminateOnce(admin, 'doomed-write');
      await writing;
      // The broken connection left the pool: the next statement gets a new one.
      assert.deepEqual(await sql.rows<{ n: number }>('SELECT count(*)::int AS n FROM probe'), [
        { n: 0 },
      ]);
    }));
});

describe('the read path (DATABASE_READ_URL)', () => {
  it('a read path that cannot be reached sends reads to the primary at once, then rests', async () => {
    const replica = new ReadReplica({
      databaseReadUrl: 'postgres://postgres@127.0.0.1:1/nowhere',
      databasePoolSize: 2,
    } as AppConfig);
    try {
      let called = 0;
      const work = () => Promise.resolve(++called);
      const started = Date.now();
      assert.equal(await replica.read('0', work), undefined);
      assert.ok(Date.now() - started < 3_000, `${Date.now() - started} ms`);
      const again = Date.now();
      assert.equal(await replica.read('0', work), undefined);
      assert.ok(Date.now() - again < 50, 'resting: not asked again');
      assert.equal(called, 0);
    } finally {
      await replica.onModuleDestroy();
    }
  });

  it('a server not in recovery is current for any position; without one, nothing is read', async () => {
    const replica = new ReadReplica({
      databaseReadUrl: testEnv('TEST_PG_ADMIN_URL'),
      databasePoolSize: 2,
    } as AppConfig);
    try {
      const far = String(2 ** 52);
      const read = await replica.read(far, async (on) => (await on.query('SELECT 7 AS n')).rows[0]);
      assert.deepEqual(read, { value: { n: 7 } });
      assert.equal(await replica.read(undefined, () => Promise.resolve(1)), undefined);
    } finally {
      await replica.onModuleDestroy();
    }
  });
});
