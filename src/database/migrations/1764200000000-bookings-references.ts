import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bookings' references to goods and users, kept by the code that writes bookings and by
 * delete triggers, instead of two foreign keys checked row by row on every insert.
 *
 * The foreign keys were most of a batch insert's time and a good part of its WAL
 * (docs/performance.md): each row's check is a query that also locks its user row (FOR KEY
 * SHARE, a tuple write and a WAL record for each distinct user). The writers check a whole
 * batch with one query each instead (booking-writer.repository.ts: goods rows locked
 * FOR UPDATE, users read), and the triggers below refuse what RESTRICT refused, with the same
 * error (23503, same constraint names), so nothing that deletes goods or users sees a change:
 * - goods: every booking insert holds its goods row lock (the writer's batch, pg-lock, a
 *   promotion), which a DELETE waits for; the trigger then sees every committed booking.
 * - users: writers take ROW EXCLUSIVE on bookings before they check their users; the trigger
 *   takes SHARE, so it waits for writers in flight and keeps new ones out until it commits.
 */
export class BookingsReferences1764200000000 implements MigrationInterface {
  name = 'BookingsReferences1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE bookings DROP CONSTRAINT bookings_goods_id_fkey`);
    await q.query(`ALTER TABLE bookings DROP CONSTRAINT bookings_user_id_fkey`);
    await q.query(`
      CREATE FUNCTION bookings_keep_references() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        referenced boolean;
        name text := CASE TG_TABLE_NAME WHEN 'users' THEN 'bookings_user_id_fkey' ELSE 'bookings_goods_id_fkey' END;
      BEGIN
        IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
          RETURN NEW;
        END IF;
        IF TG_TABLE_NAME = 'users' THEN
          LOCK TABLE bookings IN SHARE MODE;
          referenced := EXISTS (SELECT 1 FROM bookings WHERE user_id = OLD.id);
        ELSE
          referenced := EXISTS (SELECT 1 FROM bookings WHERE goods_id = OLD.id);
        END IF;
        IF referenced THEN
          RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on table "bookings"',
            TG_TABLE_NAME, name
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = name, TABLE = 'bookings',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "bookings".', OLD.id);
        END IF;
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
      END
      $$`);
    for (const table of ['goods', 'users']) {
      await q.query(
        `CREATE TRIGGER ${table}_bookings_references BEFORE DELETE OR UPDATE OF id ON ${table}
         FOR EACH ROW EXECUTE FUNCTION bookings_keep_references()`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER users_bookings_references ON users`);
    await q.query(`DROP TRIGGER goods_bookings_references ON goods`);
    await q.query(`DROP FUNCTION bookings_keep_references()`);
    await q.query(
      `ALTER TABLE bookings ADD CONSTRAINT bookings_goods_id_fkey FOREIGN KEY (goods_id) REFERENCES goods (id) ON DELETE RESTRICT`,
    );
    await q.query(
      `ALTER TABLE bookings ADD CONSTRAINT bookings_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT`,
    );
  }
}
