import { describe, expect, it } from 'vitest';

import { type OpsSummary, p99Between, pointBetween } from './ops';

const summary = (
  at: number,
  requests: number,
  counts: number[],
  outcomes: Record<string, number>,
): OpsSummary => ({
  at,
  requests,
  latency: { bounds: [0.005, 0.01, 0.05, 0.1], counts },
  outcomes,
  backlog: 3,
  oldestPendingSeconds: 0.1,
  writerHealthy: true,
  stock: [],
});

describe('operations charts', () => {
  it('turns two summaries into rates per second and the p99 of the answers between them', () => {
    const a = summary(10_000, 1000, [900, 1000, 1000, 1000], { CONFIRMED: 10 });
    const b = summary(12_000, 3000, [1900, 2000, 2980, 3000], { CONFIRMED: 50, SOLD_OUT: 8 });
    const p = pointBetween(a, b);
    expect(p.requestsPerSecond).toBe(1000);
    expect(p.outcomesPerSecond).toEqual({ CONFIRMED: 20, SOLD_OUT: 4 });
    // 2,000 answers: 1,000 ≤ 5 ms, 1,000 more ≤ 10 ms... 99 % (1,980) reached at 50 ms.
    expect(p.p99Ms).toBe(50);
    expect(p.t).toBe(12);
  });

  it('has no p99 when nothing was answered, and says "at least the last bound" past it', () => {
    const l = { bounds: [0.1, 1], counts: [0, 0] };
    expect(p99Between(l, l, 0)).toBeNull();
    expect(p99Between(l, { bounds: [0.1, 1], counts: [0, 5] }, 10)).toBe(1000);
  });

  it('never shows a negative rate (an instance restarted between two polls)', () => {
    const a = summary(0, 5000, [5000, 5000, 5000, 5000], { CONFIRMED: 100 });
    const b = summary(1000, 10, [10, 10, 10, 10], { CONFIRMED: 1 });
    const p = pointBetween(a, b);
    expect(p.requestsPerSecond).toBe(0);
    expect(p.outcomesPerSecond.CONFIRMED).toBe(0);
  });
});
