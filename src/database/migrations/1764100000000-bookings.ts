import { MigrationInterface, QueryRunner } from 'typeorm';

export class Bookings1764100000000 implements MigrationInterface {
  name = 'Bookings1764100000000';

  async up(q: QueryRunner): Promise<void> {
    // Booking ids are made at admission (before PostgreSQL sees the booking), so they are
    // UUIDs the API can hand out at once; the worker inserts them idempotently.
    await q.query(`
      CREATE TABLE bookings (
        id              uuid PRIMARY KEY,
        goods_id        integer NOT NULL REFERENCES goods (id) ON DELETE RESTRICT,
        user_id         integer NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
        quantity        integer NOT NULL CHECK (quantity >= 1),
        status          text NOT NULL CHECK (status IN ('CONFIRMED', 'REJECTED', 'CANCELLED')),
        reason          text,
        idempotency_key text,
        requested_at    timestamptz NOT NULL,
        decided_at      timestamptz NOT NULL DEFAULT now(),
        cancelled_at    timestamptz,
        promoted        boolean NOT NULL DEFAULT false,
        CONSTRAINT bookings_rejected_has_reason CHECK ((status = 'REJECTED') = (reason IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX bookings_user_idx ON bookings (user_id, requested_at DESC, id)`);
    await q.query(
      `CREATE INDEX bookings_active_idx ON bookings (goods_id, user_id) WHERE status = 'CONFIRMED'`,
    );
    await q.query(
      `CREATE UNIQUE INDEX bookings_idempotency_key ON bookings (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE waitlist (
        id         bigserial PRIMARY KEY,
        goods_id   integer NOT NULL REFERENCES goods (id) ON DELETE CASCADE,
        user_id    integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT waitlist_once UNIQUE (goods_id, user_id)
      )`);
    await q.query(`CREATE INDEX waitlist_order_idx ON waitlist (goods_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE waitlist`);
    await q.query(`DROP TABLE bookings`);
  }
}
