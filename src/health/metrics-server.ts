import { createServer, type Server } from 'node:http';

import type { AppConfig } from '../config/app-config';
import { processMetrics } from '../booking/writer-thread';
import { ErrorCode, errorMessages } from '../common/error-codes';
import { metricsAllowed } from './metrics-access';
import { registry } from '../telemetry/metrics';

/**
 * A writer process (APP_ROLE=writer) has no HTTP port of its own: with METRICS_PORT it serves
 * `/metrics` (under the same METRICS_TOKEN as the API's) and `/health/live` for Prometheus
 * and the cluster's status. Plain node:http: nothing else is routed here.
 */
const JSON_TYPE = 'application/json; charset=utf-8';

export function serveMetrics(config: AppConfig, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) =>
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    const refuse = (status: number, code: ErrorCode) =>
      send(
        status,
        JSON_TYPE,
        JSON.stringify({ statusCode: status, code, message: errorMessages[code] }),
      );
    if (request.method !== 'GET') {
      refuse(405, ErrorCode.MethodNotAllowed);
    } else if (path === '/health/live') {
      send(200, JSON_TYPE, '{"status":"ok"}');
    } else if (path !== '/metrics') {
      refuse(404, ErrorCode.RouteNotFound);
    } else if (!metricsAllowed(config.metricsToken, request.headers.authorization)) {
      refuse(401, ErrorCode.Unauthorized);
    } else {
      processMetrics().then(
        (text) => send(200, registry.contentType, text),
        () => refuse(500, ErrorCode.InternalError),
      );
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, config.host, () => resolve(server));
  });
}
