// What `npm run bench` prints and writes: a line per run, a summary table (medians over
// rounds, ratios, share of the hello ceiling), the JSON report, and an HTML report whose
// charts (Chart.js, inlined so the file stands alone) show latency and throughput.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const ms = (us) => Number((us / 1000).toFixed(2));
const at = (sorted, q) =>
  sorted.length === 0
    ? null
    : ms(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]);

/** Latency bucket upper bounds in ms for the histogram: 0.25 ms doubling to ~16 s. */
const BUCKETS = Array.from({ length: 17 }, (_, i) => 0.25 * 2 ** i);

function histogram(sorted) {
  const counts = BUCKETS.map((upToMs) => ({ upToMs, count: 0 }));
  let b = 0;
  for (const us of sorted) {
    while (b < BUCKETS.length - 1 && us / 1000 > BUCKETS[b]) b++;
    counts[b].count++;
  }
  return counts;
}

const percentiles = (sorted) => ({
  p50: at(sorted, 0.5),
  p90: at(sorted, 0.9),
  p99: at(sorted, 0.99),
  max: sorted.length ? ms(sorted[sorted.length - 1]) : null,
});

/** Latency fields of a run record, overall and by request kind, from the generator's samples. */
export function latencySummary(result) {
  const seconds = result.elapsedMs / 1000;
  return {
    latencyMs: percentiles(result.latencies),
    byKind: Object.fromEntries(
      Object.entries(result.byKind).map(([kind, sorted]) => [
        kind,
        {
          requests: sorted.length,
          requestsPerSecond: Math.round(sorted.length / seconds),
          latencyMs: percentiles(sorted),
        },
      ]),
    ),
    latencyHistogram: histogram(result.latencies),
  };
}

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return v.length === 0 ? null : v[Math.floor((v.length - 1) / 2)];
};
const fmt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en'));

export function printRun(r) {
  const lines = [
    `${r.target} #${r.round}: ${fmt(r.requestsPerSecond)} req/s over ${r.durationSeconds} s; ` +
      `latency p50 ${r.latencyMs.p50} / p90 ${r.latencyMs.p90} / p99 ${r.latencyMs.p99} / max ${r.latencyMs.max} ms; service CPU ${r.serviceCpuPercent ?? '–'} %`,
  ];
  if (r.machineCpuPercent !== null && r.machineCpuPercent !== undefined)
    lines.push(
      `  CPU (100 % = one core): machine ${r.machineCpuPercent} %, redis ${r.redisCpuPercent ?? '–'} %, postgres ${r.postgresCpuPercent ?? '–'} %`,
    );
  if (r.aofRewriteSeconds?.length > 0)
    lines.push(`  Redis rewrote its AOF in second(s) ${r.aofRewriteSeconds.join(', ')} of the run`);
  if (r.startupMs !== null && r.startupMs !== undefined)
    lines.push(
      `  service start-up ${fmt(r.startupMs)} ms${r.preloadSeconds ? ` (after a preload of ${r.preloadSeconds} s)` : ''}`,
    );
  if (r.confirmed !== undefined)
    lines.push(
      `  ${fmt(r.confirmed)} confirmed, ${fmt(r.durableConfirmationsPerSecond)} durable/s, last write +${r.lastWriteAfterLastAnswerMs} ms, ` +
        `commit lag p50 ${r.commitLagMs.p50} / p99 ${r.commitLagMs.p99} ms`,
    );
  if (Object.keys(r.byKind).length > 1)
    lines.push(
      '  ' +
        Object.entries(r.byKind)
          .map(([k, v]) => `${k} ${fmt(v.requestsPerSecond)}/s p99 ${v.latencyMs.p99} ms`)
          .join('; '),
    );
  lines.push(
    `  answers: ${Object.entries(r.answers)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ×${fmt(v)}`)
      .join(', ')}`,
  );
  lines.push(`  audit: ${r.audit.ok ? 'OK' : 'FAILED — ' + r.audit.problems.join('; ')}`);
  process.stderr.write(lines.join('\n') + '\n');
}

/** The report: parameters, machine, every run, medians per target, ratios. */
export function summarize({ scenario, parameters, machine, runs }) {
  const targets = [...new Set(runs.map((r) => r.target))];
  const helloMedian = median(
    runs.filter((r) => r.target === 'hello').map((r) => r.requestsPerSecond),
  );
  const summary = targets.map((target) => {
    const mine = runs.filter((r) => r.target === target);
    const rps = median(mine.map((r) => r.requestsPerSecond));
    return {
      target,
      rounds: mine.length,
      medianRequestsPerSecond: rps,
      medianP50Ms: median(mine.map((r) => r.latencyMs.p50)),
      medianP99Ms: median(mine.map((r) => r.latencyMs.p99)),
      medianDurableConfirmationsPerSecond: median(mine.map((r) => r.durableConfirmationsPerSecond)),
      medianLastWriteAfterLastAnswerMs: median(mine.map((r) => r.lastWriteAfterLastAnswerMs)),
      medianCommitLagP99Ms: median(mine.map((r) => r.commitLagMs?.p99)),
      medianStartupMs: median(mine.map((r) => r.startupMs)),
      medianServiceCpuPercent: median(mine.map((r) => r.serviceCpuPercent)),
      medianServiceCpuMicrosPerRequest: median(mine.map((r) => r.serviceCpuMicrosPerRequest)),
      medianRedisCpuMicrosPerRequest: median(mine.map((r) => r.redisCpuMicrosPerRequest)),
      medianMachineCpuPercent: median(mine.map((r) => r.machineCpuPercent)),
      shareOfHello:
        helloMedian && target !== 'hello' ? Number((rps / helloMedian).toFixed(3)) : null,
      auditOk: mine.every((r) => r.audit.ok),
    };
  });
  const ratios = {};
  const booking = summary.filter((s) => s.target !== 'hello');
  if (booking.length === 2) {
    const [a, b] = booking;
    ratios[`${a.target}/${b.target}`] = Number(
      (a.medianRequestsPerSecond / b.medianRequestsPerSecond).toFixed(2),
    );
  }
  return {
    tool: 'ticketnest-bench',
    version: 1,
    createdAt: new Date().toISOString(),
    scenario,
    parameters,
    machine,
    ok: runs.every((r) => r.audit.ok),
    summary,
    ratios,
    runs,
  };
}

export function printSummary(report) {
  const rows = report.summary.map((s) => ({
    target: s.target,
    rounds: s.rounds,
    'req/s': s.medianRequestsPerSecond,
    'p50 ms': s.medianP50Ms,
    'p99 ms': s.medianP99Ms,
    'durable/s': s.medianDurableConfirmationsPerSecond ?? '–',
    'last write +ms': s.medianLastWriteAfterLastAnswerMs ?? '–',
    'lag p99 ms': s.medianCommitLagP99Ms ?? '–',
    'start-up ms': s.medianStartupMs ?? '–',
    'cpu %': s.medianServiceCpuPercent ?? '–',
    'cpu µs/req': s.medianServiceCpuMicrosPerRequest ?? '–',
    'redis µs/req': s.medianRedisCpuMicrosPerRequest ?? '–',
    'machine %': s.medianMachineCpuPercent ?? '–',
    'of hello': s.shareOfHello ?? '–',
    audit: s.auditOk ? 'OK' : 'FAILED',
  }));
  process.stderr.write(
    `\n${report.scenario}: medians of ${report.summary[0]?.rounds ?? 0} round(s); machine load before ${report.machine.loadBefore.join(' ')} on ${report.machine.cpus} cores\n`,
  );
  console.table(rows);
  for (const [k, v] of Object.entries(report.ratios)) console.log(`ratio ${k}: ${v}× requests/s`);
}

const COLORS = { redis: '#d9480f', 'pg-lock': '#1971c2', hello: '#868e96' };
const escape = (s) =>
  String(s).replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );

/** A self-contained HTML report: the summary table and two charts, from the JSON report. */
export function writeHtml(file, report) {
  // The UMD build sits beside the package's main file (its exports map does not list it).
  const dist = dirname(createRequire(import.meta.url).resolve('chart.js'));
  const chartJs = readFileSync(join(dist, 'chart.umd.min.js'), 'utf8');
  const firstOf = (target) => report.runs.find((r) => r.target === target);
  const shown = report.summary.map((s) => firstOf(s.target));
  const data = {
    histogram: {
      labels: BUCKETS.map((b) => `≤${b < 1 ? b : Math.round(b)} ms`),
      datasets: shown.map((r) => ({
        label: `${r.target} (round ${r.round})`,
        data: r.latencyHistogram.map((b) => (b.count * 100) / Math.max(1, r.requests)),
        backgroundColor: COLORS[r.target],
      })),
    },
    throughput: {
      labels: Array.from(
        { length: Math.max(...shown.map((r) => r.throughput.length)) },
        (_, i) => `${i + 1}`,
      ),
      datasets: shown.map((r) => ({
        label: `${r.target} (round ${r.round})`,
        data: r.throughput.map((b) => b.ok + b.refused + b.failed),
        borderColor: COLORS[r.target],
        backgroundColor: COLORS[r.target],
        tension: 0.2,
      })),
    },
  };
  const p = report.parameters;
  const rows = report.summary
    .map(
      (s) =>
        `<tr><td>${escape(s.target)}</td><td>${fmt(s.medianRequestsPerSecond)}</td><td>${fmt(s.medianP50Ms)}</td><td>${fmt(s.medianP99Ms)}</td>` +
        `<td>${fmt(s.medianDurableConfirmationsPerSecond)}</td><td>${fmt(s.medianCommitLagP99Ms)}</td><td>${fmt(s.medianServiceCpuPercent)}</td><td>${fmt(s.medianServiceCpuMicrosPerRequest)}</td><td>${fmt(s.medianRedisCpuMicrosPerRequest)}</td>` +
        `<td>${s.shareOfHello ?? '–'}</td><td class="${s.auditOk ? 'ok' : 'bad'}">${s.auditOk ? 'OK' : 'FAILED'}</td></tr>`,
    )
    .join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TicketNest bench — ${escape(report.scenario)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#212529;max-width:1100px}
h1{font-size:20px;margin:0 0 4px} p.meta{color:#495057;margin:0 0 16px}
table{border-collapse:collapse;margin:8px 0 20px} th,td{padding:4px 10px;border-bottom:1px solid #dee2e6;text-align:right}
th:first-child,td:first-child{text-align:left} .ok{color:#2b8a3e;font-weight:600} .bad{color:#c92a2a;font-weight:600}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:24px} canvas{max-height:320px}
</style></head><body>
<h1>TicketNest bench: ${escape(report.scenario)}</h1>
<p class="meta">${p.requests === null ? `${p.durationSeconds} s` : `${fmt(p.requests)} requests`}${p.rate ? ` at ${fmt(p.rate)}/s` : ''}, ${fmt(p.users)} users, ${fmt(p.stock)} seats, concurrency ${p.concurrency};
medians of ${report.summary[0]?.rounds ?? 0} round(s); ${report.machine.cpus} cores, load before ${report.machine.loadBefore.join(' ')}, Node ${escape(report.machine.node)}; ${escape(report.createdAt)}
${Object.entries(report.ratios)
  .map(([k, v]) => `; ratio ${escape(k)} ${v}×`)
  .join('')}</p>
<table><tr><th>target</th><th>req/s</th><th>p50 ms</th><th>p99 ms</th><th>durable/s</th><th>commit lag p99 ms</th><th>service CPU %</th><th>service CPU µs/request</th><th>Redis CPU µs/request</th><th>of hello</th><th>audit</th></tr>
${rows}</table>
<div class="charts"><div><h2>Latency (share of requests per bucket, %)</h2><canvas id="histogram"></canvas></div>
<div><h2>Answers per second</h2><canvas id="throughput"></canvas></div></div>
<script>${chartJs}</script>
<script>
const data = ${JSON.stringify(data)};
Chart.defaults.animation = false;
new Chart(document.getElementById('histogram'), { type: 'bar', data: data.histogram,
  options: { scales: { y: { title: { display: true, text: '% of requests' } } } } });
new Chart(document.getElementById('throughput'), { type: 'line', data: data.throughput,
  options: { scales: { x: { title: { display: true, text: 'second' } }, y: { beginAtZero: true, title: { display: true, text: 'answers/s' } } } } });
document.body.dataset.ready = 'yes';
</script></body></html>
`;
  writeFileSync(file, html);
}
