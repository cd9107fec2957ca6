import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { betterSample, clockSample, DEADLINE_MARGIN_MS, deadlineFor } from './redis-clock';

describe('RedisClock arithmetic', () => {
  it("reads Redis's TIME (seconds, microseconds) against the middle of the exchange", () => {
    // Sent at 1000, answered at 1010 by our clock; Redis said 5.004999 s.
    const sample = clockSample(1000, 1010, ['5', '4999']);
    assert.deepEqual(sample, { offsetMs: 5004 - 1005, uncertaintyMs: 5, atMs: 1010 });
  });

  it('keeps the tighter sample, and a usable new one once the old is a minute old', () => {
    const tight = { offsetMs: 10, uncertaintyMs: 1, atMs: 0 };
    const loose = { offsetMs: 40, uncertaintyMs: 30, atMs: 30_000 };
    assert.equal(betterSample(undefined, loose), loose);
    assert.equal(betterSample(tight, loose), tight);
    assert.equal(betterSample(loose, tight), tight);
    const later = { ...loose, atMs: 61_000 };
    assert.equal(betterSample(tight, later), later);
    // Too loose to trust even then: a round trip of 200 ms says little of the offset.
    const useless = { offsetMs: 0, uncertaintyMs: 100, atMs: 61_000 };
    assert.equal(betterSample(tight, useless), tight);
  });

  it('sets the deadline by Redis’s clock, a margin and the uncertainty before we give up', () => {
    const sample = { offsetMs: 2500, uncertaintyMs: 3, atMs: 0 };
    // We give up at 10_000 + 1000 by our clock, which is 13_500 by Redis's.
    assert.equal(deadlineFor(sample, 10_000, 1000), 13_500 - DEADLINE_MARGIN_MS - 3);
    // Whatever the true offset within the uncertainty, the deadline is before we give up.
    for (const error of [-3, 0, 3]) {
      const givesUpAt = 10_000 + 1000 + sample.offsetMs + error;
      assert.ok(deadlineFor(sample, 10_000, 1000) <= givesUpAt - DEADLINE_MARGIN_MS);
    }
  });
});
