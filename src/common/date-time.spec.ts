import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isDateTime } from './date-time';

describe('isDateTime (RFC 3339, the one form the API takes)', () => {
  it('takes a date-time with an offset, seconds and a fraction optional', () => {
    for (const value of [
      '2027-03-01T19:00:00+09:00',
      '2027-03-01T10:00:00.000Z',
      '2027-03-01T10:00Z',
      '2028-02-29T23:59:59.123456-05:30',
    ]) {
      assert.equal(isDateTime(value), true, value);
    }
  });

  it('refuses week and ordinal dates, dates alone, no offset, and days that do not exist', () => {
    for (const value of [
      '2027-W10-1',
      '2027-W10-1T10:00:00Z',
      '2027-060',
      '2027-060T10:00:00Z',
      '2027-03-01',
      '2027-03-01T19:00:00',
      '2027-02-29T10:00:00Z',
      '2027-02-30T10:00:00Z',
      '2027-13-01T10:00:00Z',
      '2027-03-01T24:00:00Z',
      '2027-03-01T10:60:00Z',
      '0000-01-01T00:00:00Z',
      '2027-03-01T10:00:00+24:00',
      '+002027-03-01T10:00:00Z',
      ' 2027-03-01T10:00:00Z',
      20270301,
      null,
    ]) {
      assert.equal(isDateTime(value), false, String(value));
    }
  });
});
