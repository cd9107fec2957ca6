-- batch-users: a named prepared statement of src/booking/, written by `npm run queries`.
-- database/queries.spec.ts fails when this file and the code differ.
SELECT id FROM users WHERE id = ANY($1::int[])
