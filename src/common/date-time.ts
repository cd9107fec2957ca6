import { ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * RFC 3339's date-time, the one form the API takes: `2027-03-01T19:00:00+09:00`, seconds and
 * a fraction optional, the offset (`Z` or `±hh:mm`) required. ISO 8601 also has week and
 * ordinal dates (`2027-W10-1`, `2027-060`), which class-validator's IsISO8601 accepts and
 * PostgreSQL refuses (a 500 before issue 23, L3).
 */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/i;

/** A real moment in RFC 3339 form: no 30 February, no hour 24, no year 0. */
export function isDateTime(value: unknown): boolean {
  if (typeof value !== 'string') {
    return false;
  }
  const m = DATE_TIME.exec(value);
  if (m === null) {
    return false;
  }
  const [year, month, day, hour, minute] = m.slice(1, 6).map(Number);
  const [second, offsetHours, offsetMinutes] = m.slice(6).map((part) => Number(part ?? 0));
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate(); // day 0 of the next month
  const within = (n: number, low: number, high: number) => n >= low && n <= high;
  return (
    year >= 1 &&
    within(month, 1, 12) &&
    within(day, 1, lastDay) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHours <= 23 &&
    offsetMinutes <= 59
  );
}

/**
 * The field is an RFC 3339 date-time. Named `isIso8601`, the rule it replaces, so clients
 * keep the field code IS_ISO8601.
 */
export function IsDateTime(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIso8601',
      validator: {
        validate: isDateTime,
        defaultMessage: () =>
          '$property must be a date-time such as 2027-03-01T19:00:00+09:00 (RFC 3339)',
      },
    },
    options,
  );
}
