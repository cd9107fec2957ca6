-- batch-stored: a named prepared statement of src/booking/, written by `npm run queries`.
-- database/queries.spec.ts fails when this file and the code differ.
SELECT id, goods_id AS "goodsId", user_id AS "userId", quantity, status, reason
FROM bookings WHERE id = ANY($1::uuid[])
