-- batch-goods: a named prepared statement of src/stock/, written by `npm run queries`.
-- database/queries.spec.ts fails when this file and the code differ.
SELECT id, booking_limit AS "bookingLimit", booking_count AS "bookingCount",
  max_per_user AS "maxPerUser", sale_starts_at AS "saleStartsAt", sale_ends_at AS "saleEndsAt" FROM goods WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE
