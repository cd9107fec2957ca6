// `node scripts/bench/profile.mjs DIR|FILE.cpuprofile [N]`: where a V8 CPU profile spent its
// time, by package (node_modules/…, node: core, our dist/) and the top N functions by self
// time, and the stretches the thread was busy without a pause. For the flame graph itself open
// the .cpuprofile in Chrome DevTools (Performance).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [target, topN = '25'] = process.argv.slice(2);
if (!target) {
  console.error('usage: node scripts/bench/profile.mjs DIR|FILE.cpuprofile [N]');
  process.exit(2);
}
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(target, f))
  : [target];

function where(url) {
  if (!url) return '(native/V8)';
  if (url.startsWith('node:')) return 'node core';
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (m) return m[1];
  if (url.includes('/dist/')) return 'ticketnest';
  return url;
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const self = new Map();
  const dt = profile.timeDeltas;
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byPackage = new Map();
  const byFunction = new Map();
  for (const node of profile.nodes) {
    const t = self.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    const pkg = functionName === '(idle)' ? '(idle)' : where(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + t);
    const name = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + t);
  }
  const pct = (t) => ((t * 100) / total).toFixed(1).padStart(5) + ' %';
  console.log(`\n${file}: ${(total / 1e6).toFixed(1)} s sampled`);
  console.log('by package:');
  [...byPackage]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .forEach(([k, t]) => console.log(`  ${pct(t)}  ${k}`));
  console.log(`top ${topN} functions by self time:`);
  [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(topN))
    .forEach(([k, t]) => console.log(`  ${pct(t)}  ${k}`));
  busyStretches(profile);
}

/**
 * Stretches between idle samples, by length. The sampler ticks about once per interval only
 * while the thread runs, so a stretch with fewer samples per ms than stretches as a whole
 * spent part of its time off the CPU: waiting for a core, not executing JavaScript.
 */
function busyStretches(profile) {
  const idle = new Set(
    profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id),
  );
  const stretches = [];
  let at = profile.startTime;
  let open;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (idle.has(id)) {
      if (open) stretches.push(open);
      open = undefined;
    } else if (open) {
      open.end = at;
      open.samples++;
    } else open = { start: at, end: at, samples: 1 };
  });
  const ms = (s) => (s.end - s.start) / 1000;
  const rate = (list) => {
    const wall = list.reduce((t, s) => t + ms(s), 0);
    return wall > 0 ? (list.reduce((n, s) => n + s.samples, 0) / wall).toFixed(2) : '–';
  };
  const long = stretches.filter((s) => ms(s) >= 20);
  const bounds = [1, 5, 10, 20, 50, Infinity];
  const counts = bounds.map(
    (b, i) => stretches.filter((s) => ms(s) < b && ms(s) >= (bounds[i - 1] ?? 0)).length,
  );
  console.log(
    `busy stretches by length (ms): ${bounds.map((b, i) => `<${b}: ${counts[i]}`).join(', ')}`,
  );
  console.log(
    `samples per ms: ${rate(stretches)} over all stretches, ${rate(long)} over the ${long.length} of ≥ 20 ms`,
  );
}
