/**
 * Redis's clock as this process sees it, so a deadline set here can be checked by a script
 * against Redis's own TIME: the two may be different hosts, and only Redis knows when a call
 * it has held in its socket finally runs.
 */
export interface ClockSample {
  /** Redis's time minus ours, ms. */
  offsetMs: number;
  /** Half the round trip of the sample: the offset is right within this. */
  uncertaintyMs: number;
  /** When it was taken, by our clock. */
  atMs: number;
}

/** A sample worse than this is kept only while there is no better one to go on. */
const USABLE_UNCERTAINTY_MS = 50;
/** An older sample gives way to a worse-but-usable new one: the clocks drift, NTP steps. */
const SAMPLE_LIFETIME_MS = 60_000;

/** One exchange with Redis's TIME: `sentMs` and `receivedMs` by our clock. */
export function clockSample(
  sentMs: number,
  receivedMs: number,
  time: [string, string],
): ClockSample {
  const redisMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
  return {
    offsetMs: redisMs - (sentMs + receivedMs) / 2,
    uncertaintyMs: (receivedMs - sentMs) / 2,
    atMs: receivedMs,
  };
}

/** The sample to go on: the new one if it is tighter, or the old one is stale and this usable. */
export function betterSample(old: ClockSample | undefined, next: ClockSample): ClockSample {
  if (!old || next.uncertaintyMs <= old.uncertaintyMs) {
    return next;
  }
  const stale = next.atMs - old.atMs > SAMPLE_LIFETIME_MS;
  return stale && next.uncertaintyMs <= USABLE_UNCERTAINTY_MS ? next : old;
}

/**
 * Room left between the deadline and the moment the caller gives up: the reply of a call that
 * ran just before its deadline still has to travel back and be read.
 */
export const DEADLINE_MARGIN_MS = 250;

/**
 * The deadline, by Redis's clock, for a call sent at `nowMs` (ours) that the caller waits
 * `timeoutMs` for: it runs by then, or admits nothing. Early by the offset's uncertainty too,
 * so an error in the offset can only make it stricter.
 */
export function deadlineFor(sample: ClockSample, nowMs: number, timeoutMs: number): number {
  return Math.floor(
    nowMs + sample.offsetMs + timeoutMs - DEADLINE_MARGIN_MS - sample.uncertaintyMs,
  );
}
