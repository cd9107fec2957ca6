import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

import { projectRoot } from '../config/project-root';
import { definedStatements, Statement } from './statements';

const root = projectRoot();
const UPDATE = process.env.UPDATE_QUERIES === '1';
const load = createRequire(__filename);

/** Every compiled module of the application, so every statement is defined (main.js runs the app). */
function loadAll(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      loadAll(path);
    } else if (name.endsWith('.js') && !name.endsWith('.spec.js') && name !== 'main.js') {
      load(path);
    }
  }
}

const fileOf = (s: Statement) => join(root, 'src', s.domain, 'queries', `${s.name}.sql`);

const render = (s: Statement) =>
  `-- ${s.name}: a named prepared statement of src/${s.domain}/, written by \`npm run queries\`.\n` +
  `-- database/queries.spec.ts fails when this file and the code differ.\n${s.text}\n`;

describe('checked-in SQL of the named prepared statements (src/*/queries/*.sql)', () => {
  loadAll(join(__dirname, '..'));
  const statements = definedStatements();

  it("finds the batch writer's statements (the check is not vacuous)", () => {
    for (const name of ['batch-insert', 'batch-goods', 'batch-count', 'batch-active']) {
      assert.ok(
        statements.some((s) => s.name === name),
        name,
      );
    }
  });

  for (const s of statements) {
    it(`${s.domain}/queries/${s.name}.sql is the SQL the code sends`, () => {
      const file = fileOf(s);
      if (UPDATE) {
        mkdirSync(join(file, '..'), { recursive: true });
        writeFileSync(file, render(s));
      }
      assert.ok(existsSync(file), `${relative(root, file)} is missing: npm run queries writes it`);
      assert.equal(readFileSync(file, 'utf8'), render(s), 'npm run queries rewrites it');
    });
  }

  it('has no file for a statement the code no longer defines', () => {
    const wanted = new Set(statements.map(fileOf));
    for (const domain of readdirSync(join(root, 'src'))) {
      const dir = join(root, 'src', domain, 'queries');
      if (!existsSync(dir)) {
        continue;
      }
      for (const name of readdirSync(dir)) {
        assert.ok(wanted.has(join(dir, name)), `${relative(root, join(dir, name))} is stale`);
      }
    }
  });
});
