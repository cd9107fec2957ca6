import { Counter, Histogram } from 'prom-client';

import { Injectable } from '@nestjs/common';

import { registry } from '../telemetry/metrics';
import type { BookingOutcome, LoggedBooking } from './booking.types';

const outcomesCounter = new Counter({
  name: 'booking_outcomes_total',
  help: 'Booking answers and final outcomes by code (ADMITTED, CONFIRMED, SOLD_OUT, …)',
  labelNames: ['code'] as const,
  registers: [registry],
});

const confirmationSeconds = new Histogram({
  name: 'booking_admission_to_decision_seconds',
  help: 'Time from admission in Redis to the PostgreSQL commit of the outcome',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

@Injectable()
export class BookingMetrics {
  count(code: string): void {
    outcomesCounter.inc({ code });
  }

  recordOutcomes(outcomes: BookingOutcome[], entries: LoggedBooking[]): void {
    const now = Date.now();
    for (const o of outcomes) {
      outcomesCounter.inc({
        code: o.status === 'CONFIRMED' ? 'CONFIRMED' : (o.reason ?? 'REJECTED'),
      });
    }
    for (const e of entries) {
      confirmationSeconds.observe((now - e.requestedAtMs) / 1000);
    }
  }
}
