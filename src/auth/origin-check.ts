import type { IncomingHttpHeaders } from 'node:http';

/**
 * May the page that sent this request use the session cookie? (ASVS 3.5.1, OWASP's
 * fetch-metadata defence.) The browser, not the page, writes `Sec-Fetch-Site` and `Origin`,
 * so a page elsewhere cannot claim to be ours:
 * - `Sec-Fetch-Site: same-origin` (our own pages) or `none` (typed in, a bookmark): yes;
 * - else an `Origin`: only one of PUBLIC_ORIGIN, or by default the service's own (its Host);
 *   `Origin: null` (a sandboxed frame, a file) is no origin of ours;
 * - neither header: not a browser acting for another site (curl, a server), so yes.
 * Bearer tokens need no check: a page elsewhere cannot make a browser send one.
 */
export function fromAllowedOrigin(
  headers: IncomingHttpHeaders,
  publicOrigins: readonly string[] | undefined,
): boolean {
  const site = headers['sec-fetch-site'];
  if (site === 'same-origin' || site === 'none') {
    return true;
  }
  const origin = headers.origin;
  if (origin === undefined) {
    return site === undefined;
  }
  if (publicOrigins !== undefined) {
    return publicOrigins.includes(origin);
  }
  try {
    return new URL(origin).host === headers.host;
  } catch {
    return false;
  }
}
