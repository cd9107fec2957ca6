import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

import { projectRoot } from '../config/project-root';
import {
  BOOKING_STATUSES,
  BookingStatus,
  canMove,
  holdsSeat,
  SEAT_HOLDING,
  STORED_STATUSES,
  TRANSITIONS,
} from './lifecycle';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : [path];
  });
}

describe('the booking lifecycle', () => {
  it('moves PENDING to CONFIRMED or REJECTED, CONFIRMED to CANCELLED, and nothing else', () => {
    const moves = BOOKING_STATUSES.flatMap((from) =>
      BOOKING_STATUSES.filter((to) => canMove(from, to)).map((to) => `${from}→${to}`),
    );
    assert.deepEqual(moves, ['PENDING→CONFIRMED', 'PENDING→REJECTED', 'CONFIRMED→CANCELLED']);
  });

  it('reaches every status from PENDING, and every status is in the transition table', () => {
    const reached = new Set<BookingStatus>([BookingStatus.Pending]);
    for (const from of reached) {
      TRANSITIONS[from].forEach((to) => reached.add(to));
    }
    assert.deepEqual([...reached].sort(), [...BOOKING_STATUSES].sort());
    assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...BOOKING_STATUSES].sort());
  });

  it('stores every status but PENDING, and only stored statuses hold a seat', () => {
    assert.deepEqual(STORED_STATUSES, ['CONFIRMED', 'REJECTED', 'CANCELLED']);
    assert.ok(SEAT_HOLDING.every((s) => STORED_STATUSES.includes(s)));
    assert.equal(holdsSeat('b.status'), "b.status IN ('CONFIRMED')");
  });

  it('is the only place a status is spelled: no status literal elsewhere in src/', () => {
    const root = projectRoot();
    const literal = new RegExp(`['"\`](${BOOKING_STATUSES.join('|')})['"\`]`);
    const strays = sourceFiles(join(root, 'src'))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
      // Migrations are history: they keep the words they were written with.
      .filter((f) => !f.includes(`${join('src', 'database', 'migrations')}`))
      .filter((f) => !f.endsWith(join('booking', 'lifecycle.ts')))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => [line, i] as const)
          .filter(([line]) => literal.test(line))
          .map(([, i]) => `${relative(root, f)}:${i + 1}`),
      );
    assert.deepEqual(strays, []);
  });
});
