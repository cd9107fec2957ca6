import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { projectRoot } from './project-root';

const src = join(projectRoot(), 'src');

/** The src/ folders a folder's files import from (relative imports only). */
function importedFolders(folder: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of readdirSync(join(src, folder)).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(src, folder, file), 'utf8');
    for (const [, path] of text.matchAll(/from '(\.\.?\/[^']+)'/g)) {
      const target = path.startsWith('./') ? folder : path.split('/')[1];
      found.set(target, [...(found.get(target) ?? []), file]);
    }
  }
  return found;
}

/**
 * Lower layers never call upper ones (pretix: cart.py imports quotas.py, never the reverse):
 * the catalogue and stock know nothing of booking; booking builds on both.
 */
describe('module boundaries', () => {
  for (const [folder, forbidden] of [
    ['goods', ['booking', 'realtime']],
    ['stock', ['booking', 'goods', 'realtime']],
  ] as const) {
    it(`${folder} imports none of ${forbidden.join(', ')}`, () => {
      const imports = importedFolders(folder);
      for (const other of forbidden) {
        assert.equal(
          imports.get(other),
          undefined,
          `${folder} → ${other} in ${imports.get(other)?.join(', ')}`,
        );
      }
    });
  }

  it('the check sees imports (booking does import stock)', () => {
    assert.ok(importedFolders('booking').has('stock'));
  });
});
