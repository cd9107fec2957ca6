import { createHash, timingSafeEqual } from 'node:crypto';

/** Compared in constant time, whatever the lengths (both sides hashed first). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Whether a scrape may read /metrics: always when METRICS_TOKEN is unset, else its bearer. */
export function metricsAllowed(
  token: string | undefined,
  authorization: string | undefined,
): boolean {
  return token === undefined || sameSecret(authorization ?? '', `Bearer ${token}`);
}
