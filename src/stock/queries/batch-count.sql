-- batch-count: a named prepared statement of src/stock/, written by `npm run queries`.
-- database/queries.spec.ts fails when this file and the code differ.
UPDATE goods g SET booking_count = g.booking_count + d.n, updated_at = now()
FROM unnest($1::int[], $2::int[]) AS d(id, n) WHERE g.id = d.id
