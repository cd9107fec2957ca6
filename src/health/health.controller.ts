import {
  Controller,
  Get,
  Header,
  Headers,
  Inject,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  ApiProduces,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';

import { AppError } from '../common/app-error';
import { ErrorBodyDto } from '../common/error-body.dto';
import { ErrorCode } from '../common/error-codes';
import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';
import { WriterHealth } from '../booking/writer-health';
import { processMetrics, processMetricsJson } from '../booking/writer-thread';
import { Authenticated } from '../auth/auth-user';
import { Role } from '../users/user.entity';
import { opsSummary, OpsSummaryDto } from './ops-summary';
import { metricsAllowed } from './metrics-access';
import { registry } from '../telemetry/metrics';

@ApiTags('ops')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @Inject(REDIS) private readonly redis: ScriptedRedis,
    private readonly writer: WriterHealth,
    private readonly config: AppConfig,
  ) {}

  private readonly logger = new Logger(HealthController.name);

  @Get('health/live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: PostgreSQL and Redis answer and the booking writer keeps up (503 SERVICE_UNAVAILABLE otherwise)',
  })
  @ApiServiceUnavailableResponse({
    type: ErrorBodyDto,
    description: "details name each dependency's state",
  })
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.check();
    } catch (error) {
      if (error instanceof ServiceUnavailableException) {
        const { details } = error.getResponse() as HealthCheckResult;
        const parts = Object.entries(
          details as Record<string, { status: string; message?: unknown }>,
        );
        // What failed stays in the log: a dependency's error names internal addresses
        // (`connect ECONNREFUSED 10.0.0.5:5432`). The writer's own words name none.
        parts
          .filter(([, d]) => d.status !== 'up')
          .forEach(([name, d]) =>
            this.logger.warn(`not ready: ${name}: ${JSON.stringify(d.message ?? d.status)}`),
          );
        const states = parts.map(([name, d]) =>
          name === 'writer' && typeof d.message === 'string'
            ? `${name}: ${d.status} (${JSON.stringify(d.message)})`
            : `${name}: ${d.status}`,
        );
        throw new AppError(ErrorCode.ServiceUnavailable, 'Not ready.', {}, states);
      }
      throw error;
    }
  }

  private check(): Promise<HealthCheckResult> {
    const writer = () =>
      this.indicators
        .check('writer')
        .attempt(async () => {
          const { ok, backlog, problem } = await this.writer.check().catch(() => {
            // Redis's own error is in the redis check's log line; this one says what it means.
            throw new Error('the booking log cannot be read');
          });
          if (!ok) {
            throw new Error(problem);
          }
          return { ...backlog };
        })
        .withTimeout(1500);
    return this.health.check([
      () => this.db.pingCheck('postgres', { timeout: 1500 }),
      () =>
        this.indicators
          .check('redis')
          .attempt(async () => {
            await this.redis.ping();
          })
          .withTimeout(1500),
      ...(this.writer.applies ? [writer] : []),
    ]);
  }

  @Get('api/admin/metrics')
  @Authenticated(Role.Admin)
  @ApiOperation({
    summary:
      "This instance's metrics as one JSON object, for the operations page (admin; it polls every second)",
  })
  @ApiOkResponse({ type: OpsSummaryDto })
  async summary(): Promise<OpsSummaryDto> {
    // Side by side: with Redis away each waits out one command timeout, not two in a row.
    const [writer, metrics] = await Promise.all([
      this.writer.applies
        ? this.writer.check().catch((error: Error) => ({ ok: false, problem: error.message }))
        : { ok: true },
      processMetricsJson(),
    ]);
    return opsSummary(metrics, writer, Date.now());
  }

  @Get('metrics')
  @Header('Content-Type', registry.contentType)
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)' })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    schema: {
      type: 'string',
      example:
        'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/goods/:goodsId",status_code="200"} 42',
    },
  })
  @ApiUnauthorizedResponse({
    type: ErrorBodyDto,
    description: 'METRICS_TOKEN is set and not given',
  })
  metrics(@Headers('authorization') authorization: string | undefined): Promise<string> {
    if (!metricsAllowed(this.config.metricsToken, authorization)) {
      throw new AppError(ErrorCode.Unauthorized);
    }
    return processMetrics();
  }
}
