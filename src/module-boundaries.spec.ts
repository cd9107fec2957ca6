import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { projectRoot } from './config/project-root';

const root = projectRoot();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { LAYERS } = require(join(root, 'scripts', 'lib', 'module-layers.cjs')) as {
  LAYERS: Record<string, string[]>;
};

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

interface Cruise {
  summary: { violations: Violation[] };
  modules: { source: string; dependencies: { resolved: string }[] }[];
}

/** dependency-cruiser's verdict on src/ with the project's rules, known violations included. */
function cruise(): Cruise {
  const out = execFileSync(
    process.execPath,
    [
      join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'),
      'src',
      '--config',
      '.dependency-cruiser.cjs',
      '--no-ignore-known',
      '--output-type',
      'json',
    ],
    { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(out) as Cruise;
}

const key = (v: Violation) => `${v.rule.name}: ${v.from} → ${v.to}`;

/**
 * The layers of src/ (scripts/lib/module-layers.cjs), enforced by dependency-cruiser in the
 * static tier. Lower layers never call upper ones (pretix: cart.py imports quotas.py, never
 * the reverse).
 */
describe('module boundaries', () => {
  it('names every folder of src/, and its layers have no cycle', () => {
    const src = join(root, 'src');
    const folders = readdirSync(src).filter((f) => statSync(join(src, f)).isDirectory());
    assert.deepEqual(Object.keys(LAYERS).sort(), folders.sort());
    // Each folder imports only folders listed before it: an order with no way back.
    const seen = new Set<string>();
    for (const [folder, below] of Object.entries(LAYERS)) {
      assert.deepEqual(
        below.filter((b) => !seen.has(b)),
        [],
        `${folder} may import a folder listed after it`,
      );
      seen.add(folder);
    }
  });

  it("is what docs/architecture.md's module table says", () => {
    const text = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
    const rows = [...text.matchAll(/^\| `([\w-]+)\/`\s*\|[^\n]*\|\s*([^|\n]+?)\s*\|$/gm)];
    const table = Object.fromEntries(
      rows.map(([, folder, imports]) => [folder, imports === '–' ? [] : imports.split(', ')]),
    );
    assert.deepEqual(table, LAYERS);
  });

  it('breaks the layers only where .dependency-cruiser-known-violations.json says, and there still', () => {
    const known = (
      JSON.parse(
        readFileSync(join(root, '.dependency-cruiser-known-violations.json'), 'utf8'),
      ) as Violation[]
    ).map(key);
    const result = cruise();
    const found = result.summary.violations.map(key);
    assert.deepEqual(
      found.filter((v) => !known.includes(v)),
      [],
      'new violations: fix them (the static tier refuses them too)',
    );
    assert.deepEqual(
      known.filter((v) => !found.includes(v)),
      [],
      'fixed: remove them from .dependency-cruiser-known-violations.json (npm run deps:baseline)',
    );
    // The tool sees the imports: booking does import stock (allowed, so no violation).
    assert.ok(
      result.modules.some(
        (m) =>
          m.source.startsWith('src/booking/') &&
          m.dependencies.some((d) => d.resolved.startsWith('src/stock/')),
      ),
    );
  });
});
