import type { IncomingMessage, ServerResponse } from 'node:http';

import helmet from 'helmet';

import type { AppConfig } from '../config/app-config';
import { PRIVATE_NO_STORE } from './cache-control';

type Apply = (request: IncomingMessage, response: ServerResponse) => void;

/** Answers a browser might render as a page: Swagger UI, and the web app's files. */
const isApiAnswer = (url: string | undefined): boolean =>
  url === undefined ||
  ((url.startsWith('/api/') || url.startsWith('/health/') || url === '/metrics') &&
    !url.startsWith('/api/docs'));

/** The headers a Helmet middleware sets, read once from a response that records them. */
function headersOf(middleware: ReturnType<typeof helmet>): [string, string][] {
  const recorded: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: string) => void recorded.push([name, String(value)]),
    removeHeader: () => undefined,
  };
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return recorded;
}

/**
 * Helmet's headers on every answer, in two sets, both made by Helmet once at start:
 * - pages (Swagger UI, the web app): nosniff, Referrer-Policy no-referrer, no framing
 *   (`frame-ancestors 'none'`, X-Frame-Options DENY), a CSP that runs only the service's own
 *   scripts, and Helmet's other defaults;
 * - API answers (JSON, metrics): nosniff (no JSON is ever taken for a script or a page) and
 *   `default-src 'none'; frame-ancestors 'none'`. A JSON answer is no page: it loads nothing and links nowhere,
 *   so the rest (script and referrer policies) has nothing to act on, and every header is
 *   paid on every answer of a rush (docs/performance.md).
 * HSTS on both in production, where the service sits behind TLS (browsers ignore it over
 * plain http). Not @fastify/helmet: it builds Helmet's middleware again for every request.
 */
export function securityHeaders(config: AppConfig): Apply {
  const strictTransportSecurity = config.isProduction
    ? { maxAge: 365 * 24 * 3600, includeSubDomains: true }
    : false;
  const page = helmet({
    contentSecurityPolicy: {
      directives: {
        'frame-ancestors': ["'none'"],
        // Posters are images on other hosts (goods' imgUrl).
        'img-src': ["'self'", 'data:', 'https:'],
        // Only where there is TLS to upgrade to; on http://localhost it would break the page.
        'upgrade-insecure-requests': config.isProduction ? [] : null,
      },
    },
    frameguard: { action: 'deny' },
    strictTransportSecurity,
  });
  const api = headersOf(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] },
      },
      frameguard: false,
      referrerPolicy: false,
      strictTransportSecurity,
      crossOriginOpenerPolicy: false,
      crossOriginResourcePolicy: false,
      originAgentCluster: false,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
    }),
  );
  return (request, response) => {
    if (isApiAnswer(request.url)) {
      for (const [name, value] of api) {
        response.setHeader(name, value);
      }
      // Every answer to a request that carries a credential (a token, or our only cookie, the
      // session's) is that user's: no cache may keep it (ASVS 14.3; issue 23, L8). A route
      // that sets its own Cache-Control later still may.
      if (request.headers.authorization !== undefined || request.headers.cookie !== undefined) {
        response.setHeader('cache-control', PRIVATE_NO_STORE);
      }
    } else {
      page(request, response, () => undefined);
    }
  };
}
