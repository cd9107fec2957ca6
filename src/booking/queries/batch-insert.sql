-- batch-insert: a named prepared statement of src/booking/, written by `npm run queries`.
-- database/queries.spec.ts fails when this file and the code differ.
INSERT INTO bookings (id, goods_id, user_id, quantity, status, reason, idempotency_key, requested_at)
SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[],
                     $8::timestamptz[])
ON CONFLICT DO NOTHING
RETURNING id
