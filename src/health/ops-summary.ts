import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** A metric as prom-client gives it as values. */
interface MetricValues {
  name: string;
  values: {
    value: number;
    labels: Partial<Record<string, string | number>>;
    metricName?: string;
  }[];
}

export class LatencyDto {
  @ApiProperty({
    type: [Number],
    example: [0.005, 0.01, 0.025, 0.05, 0.1],
    description: 'bucket bounds (s)',
  })
  bounds: number[];

  @ApiProperty({
    type: [Number],
    example: [812, 990, 1000, 1000, 1000],
    description: 'cumulative counts',
  })
  counts: number[];
}

export class StockRowDto {
  @ApiProperty({ example: 1 }) goodsId: number;
  @ApiProperty({ example: 120 }) remaining: number;
}

export class OpsSummaryDto {
  @ApiProperty({ example: 1796126882504, description: "the server's clock (ms)" })
  at: number;

  @ApiProperty({ example: 184_220, description: 'HTTP requests answered since start' })
  requests: number;

  @ApiProperty({
    type: LatencyDto,
    description: 'all HTTP answers, by duration bucket',
    example: { bounds: [0.005, 0.01, 0.025], counts: [812, 990, 1000] },
  })
  latency: LatencyDto;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    example: { ADMITTED: 1000, CONFIRMED: 998, SOLD_OUT: 4120 },
    description: 'booking answers and outcomes by code, since start',
  })
  outcomes: Record<string, number>;

  @ApiProperty({ example: 12, description: 'admitted bookings not yet written' })
  backlog: number;

  @ApiProperty({ example: 0.04, description: 'age of the oldest of them (s)' })
  oldestPendingSeconds: number;

  @ApiProperty({ example: true, description: 'the booking writer keeps up (readiness)' })
  writerHealthy: boolean;

  @ApiPropertyOptional({ example: '3 booking(s) wait; the oldest for 17.2 s' })
  writerProblem?: string;

  @ApiProperty({
    type: [StockRowDto],
    description: 'live stock of each loaded goods (at most 50, newest first)',
  })
  stock: StockRowDto[];
}

const STOCK_ROWS = 50;

const sum = (metric: MetricValues | undefined, metricName?: string): number =>
  (metric?.values ?? [])
    .filter((v) => metricName === undefined || v.metricName === metricName)
    .reduce((total, v) => total + v.value, 0);

/** The HTTP duration histogram summed over routes and statuses. */
function latencyOf(metric: MetricValues | undefined): LatencyDto {
  const byBound = new Map<number, number>();
  for (const v of metric?.values ?? []) {
    if (v.metricName === 'http_request_duration_seconds_bucket' && v.labels.le !== '+Inf') {
      const bound = Number(v.labels.le);
      byBound.set(bound, (byBound.get(bound) ?? 0) + v.value);
    }
  }
  const bounds = [...byBound.keys()].sort((a, b) => a - b);
  return { bounds, counts: bounds.map((b) => byBound.get(b)!) };
}

/**
 * What the operations page shows, from this process's metrics (and its writer thread's): the
 * same numbers /metrics exposes, as one JSON object; the page turns consecutive ones into
 * rates and a p99.
 */
export function opsSummary(
  metrics: MetricValues[],
  writer: { ok: boolean; problem?: string },
  at: number,
): OpsSummaryDto {
  const byName = new Map(metrics.map((m) => [m.name, m]));
  const http = byName.get('http_request_duration_seconds');
  const outcomes: Record<string, number> = {};
  for (const v of byName.get('booking_outcomes_total')?.values ?? []) {
    const code = String(v.labels.code);
    outcomes[code] = (outcomes[code] ?? 0) + v.value;
  }
  const stock = (byName.get('goods_remaining_stock')?.values ?? [])
    .map((v) => ({ goodsId: Number(v.labels.goods_id), remaining: v.value }))
    .sort((a, b) => b.goodsId - a.goodsId)
    .slice(0, STOCK_ROWS);
  const summary: OpsSummaryDto = {
    at,
    requests: sum(http, 'http_request_duration_seconds_count'),
    latency: latencyOf(http),
    outcomes,
    backlog: Math.max(0, sum(byName.get('booking_log_pending'))),
    oldestPendingSeconds: Math.max(0, sum(byName.get('booking_log_oldest_pending_seconds'))),
    writerHealthy: writer.ok,
    stock,
  };
  if (writer.problem !== undefined) {
    summary.writerProblem = writer.problem;
  }
  return summary;
}
