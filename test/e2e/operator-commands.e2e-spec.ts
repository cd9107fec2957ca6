import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..', '..');

/** An operator's command with a mistake in it: exit 2, a line saying what, no stack trace. */
function refused(script: string, args: string[], says: RegExp): void {
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts', script), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    // Nowhere to connect: a command that went on past its arguments would fail differently.
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: 'postgres://127.0.0.1:1/none',
      REDIS_URL: 'redis://127.0.0.1:1',
    },
  });
  const out = `${run.stdout}${run.stderr}`;
  assert.equal(run.status, 2, `${script} ${args.join(' ')}: ${out}`);
  assert.match(out, says);
  assert.doesNotMatch(out, /\bat .*\.m?js:\d+/, 'no stack trace');
}

describe('operator commands refuse what they do not understand (exit 2)', () => {
  it('reconcile: a misspelt --check never runs the repairing mode', () => {
    refused('reconcile.mjs', ['--chek'], /Unknown option '--chek'.*\n.*usage: npm run reconcile/);
    refused('reconcile.mjs', ['--check', 'extra'], /Unexpected argument 'extra'/);
  });

  it('dead-letters and cluster: unknown flags and commands', () => {
    refused('dead-letters.mjs', ['--retyr', '1-1'], /usage: npm run dead-letters/);
    refused('cluster.mjs', ['status', '--jsno'], /Unknown option '--jsno'/);
    refused('cluster.mjs', ['upp'], /unknown command upp/);
  });
});
