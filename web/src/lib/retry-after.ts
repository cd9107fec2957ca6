/** The shortest and longest waits the app honours, whatever a server says. */
const MIN_MS = 1000;
const MAX_MS = 60_000;

/**
 * How long to wait before trying again, from a `Retry-After` header: delay-seconds or an
 * HTTP date (RFC 9110 §10.2.3), read against `nowMs` (the server's clock, when known).
 * Missing or unreadable: `fallbackMs`. Always between 1 s and 60 s, so a bad header can
 * neither make the app hammer nor freeze it.
 */
export function retryAfterMs(
  header: string | null | undefined,
  nowMs: number,
  fallbackMs = MIN_MS,
): number {
  const clamp = (ms: number) => Math.min(MAX_MS, Math.max(MIN_MS, ms));
  if (header === null || header === undefined || header.trim() === '') {
    return clamp(fallbackMs);
  }
  const value = header.trim();
  if (/^\d+$/.test(value)) {
    return clamp(Number(value) * 1000);
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? clamp(fallbackMs) : clamp(date - nowMs);
}
