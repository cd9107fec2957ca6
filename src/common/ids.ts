/** The largest PostgreSQL `integer`: every id and count column. */
export const PG_INT_MAX = 2_147_483_647;

const PLAIN_POSITIVE = /^[1-9]\d{0,9}$/;

/**
 * A positive integer id written plainly ("12", not "012", "1e3" or "+12") that fits an
 * `integer` column: path parameters (the DTOs' transform and the fast paths) and the booking
 * log's fields read through this one test.
 */
export function plainId(value: unknown): number | undefined {
  if (typeof value !== 'string' || !PLAIN_POSITIVE.test(value)) {
    return undefined;
  }
  const id = Number(value);
  return id <= PG_INT_MAX ? id : undefined;
}

/**
 * class-transformer's @Transform for a path or query id: plainId(), or NaN so that @IsInt
 * names the field ("1e1", "0x10" and " 4" are not ids, though Number() reads them).
 */
export const toPositiveId = ({ value }: { value: unknown }): number => plainId(value) ?? Number.NaN;
