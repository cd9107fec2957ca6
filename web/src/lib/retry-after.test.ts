import { describe, expect, it } from 'vitest';

import { retryAfterMs } from './retry-after';

describe('retryAfterMs', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  it('reads delay-seconds and HTTP dates', () => {
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Tue, 01 Dec 2026 12:00:05 GMT', now)).toBe(5000);
  });
  it('keeps every wait between 1 s and 60 s, whatever the header says', () => {
    expect(retryAfterMs('0', now)).toBe(1000);
    expect(retryAfterMs('86400', now)).toBe(60_000);
    expect(retryAfterMs('Tue, 01 Dec 2026 11:00:00 GMT', now)).toBe(1000);
  });
  it('falls back when the header is missing or unreadable', () => {
    expect(retryAfterMs(null, now, 2000)).toBe(2000);
    expect(retryAfterMs('soon', now, 2000)).toBe(2000);
    expect(retryAfterMs('-5', now)).toBe(1000);
  });
});
