import { Controller, Get, Header, Inject, ServiceUnavailableException } from '@nestjs/common';
import {
  ApiProduces,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
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
import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';
import { WriterHealth } from '../booking/writer-health';
import { processMetrics } from '../booking/writer-thread';
import { registry } from './metrics';

@ApiTags('ops')
@Controller()
export class TelemetryController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @Inject(REDIS) private readonly redis: ScriptedRedis,
    private readonly writer: WriterHealth,
  ) {}

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
        const states = Object.entries(
          details as Record<string, { status: string; message?: unknown }>,
        ).map(
          ([name, d]) =>
            `${name}: ${d.status}${d.message === undefined ? '' : ` (${JSON.stringify(d.message)})`}`,
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
          const { ok, backlog, problem } = await this.writer.check();
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
  metrics(): Promise<string> {
    return processMetrics();
  }
}
