import { describe, expect, it } from 'vitest';

import { fromLocalInput, toLocalInput } from './datetime';

describe('datetime-local inputs', () => {
  it('round-trips an instant through the local form, whatever the time zone', () => {
    const iso = '2027-03-01T10:00:00.000Z';
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso);
  });
  it('treats empty as none', () => {
    expect(toLocalInput(null)).toBe('');
    expect(fromLocalInput('  ')).toBeNull();
    expect(fromLocalInput('not a date')).toBeNull();
  });
});
