import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { projectRoot } from './project-root';
import { envVariables } from './env.schema';

const file = join(projectRoot(), 'docs', 'configuration.md');

/** A variable's default as the zod table has it, in words for the sensitive ones. */
function defaultOf(name: string, spec: (typeof envVariables)[keyof typeof envVariables]): string {
  const def = (
    spec.schema as unknown as { _zod: { def: { type: string; defaultValue?: unknown } } }
  )._zod.def;
  if (def.type !== 'default') {
    if (spec.schema.safeParse(undefined).success) {
      return 'unset';
    }
    return name.endsWith('_URL') ? 'required (`npm start` and `npm test` provide one)' : 'required';
  }
  if ('sensitive' in spec) {
    return 'a development-only default; production refuses it';
  }
  return `\`${String(def.defaultValue)}\``;
}

/** docs/configuration.md, from the one table of every variable (src/config/env.schema.ts). */
function render(): string {
  const rows = Object.entries(envVariables).map(
    ([name, spec]) =>
      `| \`${name}\` | ${defaultOf(name, spec)} | ${spec.description.replace(/\|/g, '\\|')}${'sensitive' in spec ? ' (secret: never logged)' : ''} |`,
  );
  return [
    '# Configuration',
    '',
    '<!-- Written from src/config/env.schema.ts by `npm run docs:config`; a unit test fails when they differ. -->',
    '',
    'Every variable the service reads, validated once at start: every bad one is named in one',
    'message and the process exits 1. Only `src/config/` reads the environment; `main.ts` parses it',
    'once and passes the result to `createApp(config)`.',
    '',
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
    'Any variable can come from a file instead: `NAME_FILE=/path` reads NAME from it (one',
    'trailing newline dropped; setting both is an error). `npm run cluster:up` passes every',
    'secret and every URL with a password this way, from files of mode 600.',
    '',
    'Durations are seconds (`90`) or a number with `ms`, `s`, `m`, `h` or `d`. Used only by',
    '`npm start` and the scripts that reuse its servers: `TN_PG_PORT` (54329) and `TN_REDIS_PORT`',
    '(63790), the ports of the private PostgreSQL and Redis.',
    '',
  ].join('\n');
}

describe('docs/configuration.md', () => {
  it('is the zod table of every variable (npm run docs:config rewrites it)', () => {
    if (process.env.UPDATE_DOCS === '1') {
      writeFileSync(file, render());
    }
    assert.equal(readFileSync(file, 'utf8'), render());
  });
});
