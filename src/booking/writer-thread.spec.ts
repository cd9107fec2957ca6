import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { registry } from '../telemetry/metrics';
import { processMetrics, WriterThread } from './writer-thread';

/**
 * Stand-ins for the writer thread (a script speaking its messages): the real one is the whole
 * service, run by the e2e rush test. `answer` decides how it meets a metrics request.
 */
function fakeWriter(dir: string, answer: 'reply' | 'ignore'): string {
  const file = join(dir, `${answer}.js`);
  writeFileSync(
    file,
    `const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => {
  if (m.type === 'stop') process.exit(0);
  if (m.type === 'metrics' && ${JSON.stringify(answer)} === 'reply') {
    parentPort.postMessage({ type: 'metrics', id: m.id, metrics: [{
      name: 'booking_outcomes_total', help: 'h', type: 'counter', aggregator: 'sum',
      values: [{ value: 5, labels: { code: 'CONFIRMED' } }],
    }] });
  }
});
parentPort.postMessage({ type: 'running' });
`,
  );
  return file;
}

describe('WriterThread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tn-writer-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("adds the thread's counters to the API thread's own, one family each", async () => {
    const thread = await WriterThread.start(fakeWriter(dir, 'reply'), {});
    try {
      const text = await processMetrics();
      assert.match(text, /^booking_outcomes_total\{code="CONFIRMED"\} 5$/m);
      assert.equal(text.match(/^# TYPE booking_outcomes_total /gm)?.length, 1);
      // The API thread's other families are all there.
      for (const m of registry.getMetricsAsArray()) {
        assert.ok(text.includes(`# TYPE ${m.name} `), m.name);
      }
    } finally {
      await thread.stop();
    }
    assert.equal(WriterThread.current, undefined);
  });

  // With a timeout of its own, a scrape that hangs fails this test instead of stalling the run.
  it(
    'answers /metrics without the thread when it does not answer (no hang)',
    { timeout: 10_000 },
    async () => {
      const thread = await WriterThread.start(fakeWriter(dir, 'ignore'), {});
      try {
        const started = Date.now();
        const text = await processMetrics();
        assert.ok(Date.now() - started < 5_000);
        assert.match(text, /^# TYPE http_request_duration_seconds histogram$/m);
        assert.doesNotMatch(text, /code="CONFIRMED"/);
      } finally {
        await thread.stop();
      }
    },
  );

  it('refuses to start when the thread exits before it runs', async () => {
    const file = join(dir, 'fails.js');
    writeFileSync(file, 'process.exit(3);\n');
    await assert.rejects(WriterThread.start(file, {}), /exited \(code 3\)/);
    assert.equal(WriterThread.current, undefined);
  });
});
