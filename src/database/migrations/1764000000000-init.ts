import { MigrationInterface, QueryRunner } from 'typeorm';

export class Init1764000000000 implements MigrationInterface {
  name = 'Init1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id            serial PRIMARY KEY,
        email         text NOT NULL,
        nickname      text NOT NULL,
        password_hash text NOT NULL,
        role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'host', 'admin')),
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_email_lower CHECK (email = lower(email))
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_key ON users (email)`);
    await q.query(`CREATE UNIQUE INDEX users_nickname_key ON users (nickname)`);
    await q.query(`
      CREATE TABLE goods (
        id             serial PRIMARY KEY,
        title          text NOT NULL,
        content        text NOT NULL,
        price          integer NOT NULL CHECK (price >= 0),
        img_url        text NOT NULL,
        show_date      timestamptz NOT NULL,
        booking_limit  integer NOT NULL CHECK (booking_limit >= 1),
        booking_count  integer NOT NULL DEFAULT 0 CHECK (booking_count >= 0),
        sale_starts_at timestamptz,
        sale_ends_at   timestamptz,
        max_per_user   integer NOT NULL DEFAULT 1 CHECK (max_per_user >= 1),
        host_id        integer NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT goods_not_oversold CHECK (booking_count <= booking_limit),
        CONSTRAINT goods_sale_window CHECK (
          sale_starts_at IS NULL OR sale_ends_at IS NULL OR sale_ends_at > sale_starts_at)
      )`);
    await q.query(`CREATE INDEX goods_newest_idx ON goods (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX goods_host_idx ON goods (host_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE goods`);
    await q.query(`DROP TABLE users`);
  }
}
