import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..', '..');
const schemaFile = join(__dirname, 'schema.d.ts');

describe('the typed API client', () => {
  it('is generated from docs/openapi.json as it is now (UPDATE_OPENAPI=1 rewrites it)', () => {
    // The CLI, as `npm run openapi` runs it: a changed route breaks this build, not a user.
    const generated = execFileSync(
      process.execPath,
      [
        join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'),
        join(root, 'docs', 'openapi.json'),
      ],
      { encoding: 'utf8' },
    );
    if (process.env.UPDATE_OPENAPI === '1') {
      writeFileSync(schemaFile, generated);
    }
    expect(readFileSync(schemaFile, 'utf8')).toBe(generated);
  });
});
