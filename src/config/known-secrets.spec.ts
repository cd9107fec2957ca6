import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { projectRoot } from './project-root';
import { KNOWN_SECRETS } from './known-secrets';

/** Quoted literals of 16+ characters without spaces on lines that speak of a secret or token. */
function secretLikeLiterals(text: string): string[] {
  return (
    text
      .split('\n')
      .filter((line) => /secret|metrics_token|jwt/i.test(line))
      .flatMap((line) => [...line.matchAll(/(['"`])([^'"`\s$]{16,})\1/g)].map((m) => m[2]))
      // Not a secret: paths, URLs, settings (`A=b`), constant names, the names of the files
      // secrets are kept in (`redis-app-password`, `owner-database-url`: cluster-secrets.mjs)
      // and cookie names (`__Host-Authorization`).
      .filter((literal) => !/[/:.=]|^[A-Z_]+$|-(password|url)$|^__Host-/.test(literal))
  );
}

describe('known secrets', () => {
  it('lists every secret-like literal of the repository, so production refuses it', () => {
    const root = projectRoot();
    const files = execFileSync(
      'git',
      ['ls-files', 'src', 'test', 'scripts', 'deploy', 'README.md', 'docs'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    )
      .split('\n')
      .filter((f) => /\.(ts|mjs|md|ya?ml|cfg|conf)$/.test(f) && !f.endsWith('known-secrets.ts'));
    const missing = new Set<string>();
    for (const file of files) {
      for (const literal of secretLikeLiterals(readFileSync(join(root, file), 'utf8'))) {
        if (!KNOWN_SECRETS.has(literal)) {
          missing.add(`${file}: ${literal}`);
        }
      }
    }
    assert.deepEqual([...missing], [], 'add these to src/config/known-secrets.ts');
  });
});
