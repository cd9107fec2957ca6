import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { databaseUnavailable, failureKind } from './failure-kind';

const pgFailure = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

describe('failureKind (retry a batch as it is, or split it)', () => {
  const cases: [string, unknown, 'retryable' | 'final'][] = [
    ['a trigger that raises (P0001)', pgFailure('P0001'), 'final'],
    ['a check constraint (23514)', pgFailure('23514'), 'final'],
    ['a unique violation (23505)', pgFailure('23505'), 'final'],
    ['a foreign key (23503)', pgFailure('23503'), 'final'],
    ['a value that does not parse (22P02)', pgFailure('22P02'), 'final'],
    ['an integer out of range (22003)', pgFailure('22003'), 'final'],
    ['a serialization failure (40001)', pgFailure('40001'), 'retryable'],
    ['a deadlock (40P01)', pgFailure('40P01'), 'retryable'],
    ['a lock timeout (55P03)', pgFailure('55P03'), 'retryable'],
    ['a statement timeout (57014)', pgFailure('57014'), 'retryable'],
    ['an admin shutdown (57P01)', pgFailure('57P01'), 'retryable'],
    ['a server starting up (57P03)', pgFailure('57P03'), 'retryable'],
    ['a connection failure (08006)', pgFailure('08006'), 'retryable'],
    ['too many connections (53300)', pgFailure('53300'), 'retryable'],
    ['an undefined column, a bad deploy (42703)', pgFailure('42703'), 'retryable'],
    ['a refused connection', pgFailure('ECONNREFUSED'), 'retryable'],
    ['a broken pipe', pgFailure('EPIPE'), 'retryable'],
    ['a terminated connection', new Error('Connection terminated unexpectedly'), 'retryable'],
    ['a Redis error', new Error('Connection is closed.'), 'retryable'],
    ['not an error at all', 'boom', 'retryable'],
  ];
  for (const [name, error, kind] of cases) {
    it(`${name}: ${kind}`, () => assert.equal(failureKind(error), kind));
  }
});

describe('databaseUnavailable (503 with Retry-After, not 500)', () => {
  const cases: [string, unknown, boolean][] = [
    ['an admin shutdown (57P01)', pgFailure('57P01'), true],
    ['a server starting up (57P03)', pgFailure('57P03'), true],
    ['a connection failure (08006)', pgFailure('08006'), true],
    ['too many connections (53300)', pgFailure('53300'), true],
    ['a read-only transaction: an old primary (25006)', pgFailure('25006'), true],
    ['a refused connection', pgFailure('ECONNREFUSED'), true],
    ['a terminated connection', new Error('Connection terminated unexpectedly'), true],
    [
      'a pool that could not connect in time',
      new Error('timeout exceeded when trying to connect'),
      true,
    ],
    ['Pgpool-II detaching a node', new Error('failed to create a backend connection'), true],
    ["the client's own socket reset (an aborted body)", pgFailure('ECONNRESET'), false],
    ['a unique violation (23505)', pgFailure('23505'), false],
    ['an undefined column (42703)', pgFailure('42703'), false],
    ['a plain bug', new TypeError('x is undefined'), false],
    ['not an error at all', 'boom', false],
  ];
  for (const [name, error, unavailable] of cases) {
    it(`${name}: ${unavailable}`, () => assert.equal(databaseUnavailable(error), unavailable));
  }
});
