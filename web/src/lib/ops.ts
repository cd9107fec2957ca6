import type { components } from '../api/schema';

export type OpsSummary = components['schemas']['OpsSummaryDto'];

/** One second of the operations charts, from two consecutive summaries. */
export interface OpsPoint {
  /** Seconds since 1970 (uPlot's x). */
  t: number;
  requestsPerSecond: number;
  outcomesPerSecond: Record<string, number>;
  /** The slowest of the fastest 99 % of answers in between, by bucket bound; null when none. */
  p99Ms: number | null;
  backlog: number;
}

/** The p99 of the answers between two cumulative histograms: the first bound holding 99 %. */
export function p99Between(
  prev: OpsSummary['latency'],
  next: OpsSummary['latency'],
  total: number,
): number | null {
  if (total <= 0) {
    return null;
  }
  const before = new Map(prev.bounds.map((b, i) => [b, prev.counts[i]]));
  for (const [i, bound] of next.bounds.entries()) {
    if (next.counts[i] - (before.get(bound) ?? 0) >= 0.99 * total) {
      return bound * 1000;
    }
  }
  return (next.bounds.at(-1) ?? 0) * 1000; // beyond the last bucket: at least that
}

export function pointBetween(prev: OpsSummary, next: OpsSummary): OpsPoint {
  const seconds = Math.max(0.001, (next.at - prev.at) / 1000);
  const requests = Math.max(0, next.requests - prev.requests);
  const outcomesPerSecond: Record<string, number> = {};
  for (const [code, count] of Object.entries(next.outcomes)) {
    outcomesPerSecond[code] = Math.max(0, count - (prev.outcomes[code] ?? 0)) / seconds;
  }
  return {
    t: next.at / 1000,
    requestsPerSecond: requests / seconds,
    outcomesPerSecond,
    p99Ms: p99Between(prev.latency, next.latency, requests),
    backlog: next.backlog,
  };
}
