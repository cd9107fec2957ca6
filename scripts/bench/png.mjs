// `npm run bench:png -- REPORT.json [OUT.png]`: render a bench report's HTML (summary table and
// charts) to a PNG with headless Chromium, for the README. Installs Debian's chromium when it
// is missing and we are root; otherwise says what to install.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { writeHtml } from './report.mjs';

const [input, output = 'docs/bench.png'] = process.argv.slice(2);
if (!input) {
  console.error('usage: npm run bench:png -- REPORT.json [OUT.png]');
  process.exit(2);
}

function chromium() {
  const found = ['chromium', 'chromium-browser', 'google-chrome'].find(
    (name) => spawnSync('which', [name]).status === 0,
  );
  if (found) return found;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.error('installing chromium (apt-get, a minute or two)…');
    const quiet = {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    };
    spawnSync('apt-get', ['update', '-qq'], quiet);
    if (spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], quiet).status === 0)
      return 'chromium';
  }
  console.error('bench:png needs Chromium (Debian: apt-get install chromium)');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'tn-bench-png-'));
try {
  const html = join(dir, 'report.html');
  writeHtml(html, JSON.parse(readFileSync(input, 'utf8')));
  const result = spawnSync(
    chromium(),
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      '--window-size=1150,640',
      `--screenshot=${resolve(output)}`,
      `file://${html}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 },
  );
  if (result.status !== 0 || !existsSync(output)) {
    console.error(String(result.stderr));
    process.exit(1);
  }
  console.error(`wrote ${output}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
