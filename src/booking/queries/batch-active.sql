-- batch-active: a named prepared statement of src/booking/, written by `npm run queries`.
-- database/queries.spec.ts fails when this file and the code differ.
SELECT p.goods_id AS "goodsId", p.user_id AS "userId", held.quantity
FROM unnest($1::int[], $2::int[]) AS p(goods_id, user_id),
LATERAL (SELECT sum(b.quantity)::int AS quantity FROM bookings b
         WHERE b.goods_id = p.goods_id AND b.user_id = p.user_id AND b.status IN ('CONFIRMED')) held
WHERE held.quantity IS NOT NULL
