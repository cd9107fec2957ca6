// The load generator of `npm run bench`: worker threads, each with its own keep-alive HTTP/1.1
// connections on raw sockets. A request is written as one pre-rendered string and its answer
// parsed by hand (status line, content-length, body), so one generator thread costs a few
// microseconds per request instead of autocannon's per-request rebuild through setupRequest.
//
// Two ways to drive it:
//   closed loop (rush, read): every connection sends its next request as soon as the answer
//     arrives, until `requests` are answered or `durationSeconds` pass;
//   open loop (sustained, `rate`): requests are due at fixed times; latency counts from the
//     time a request was due, so a slow service is not flattered by a generator that waited
//     for it (no coordinated omission).
//
// What a request is and what its answer means lives in the scenario (./scenarios.mjs), which
// each worker instantiates for its share of the users: the worker asks it `next(i)` for the
// i-th request and hands it each answer, so scenarios can follow up (cancel what they booked).
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

import { makeScenario } from './scenarios.mjs';

const CRLF2 = '\r\n\r\n';

/** One keep-alive connection that answers requests one at a time. */
class Connection {
  constructor(host, port, handlers) {
    this.host = host;
    this.port = port;
    this.handlers = handlers;
    this.busy = false;
    this.open();
  }

  open() {
    this.buffer = '';
    this.socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.socket.setEncoding('latin1');
    this.socket.once('connect', () => this.handlers.ready(this));
    this.socket.on('data', (chunk) => this.read(chunk));
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      if (this.busy) {
        this.busy = false;
        this.handlers.error(this.pending);
      }
      if (!this.closed) setTimeout(() => this.open(), 10);
    });
  }

  send(raw, pending) {
    this.busy = true;
    this.pending = pending;
    this.socket.write(raw, 'latin1');
  }

  read(chunk) {
    this.buffer += chunk;
    for (;;) {
      const head = this.buffer.indexOf(CRLF2);
      if (head < 0) return;
      const status = Number(this.buffer.slice(9, 12));
      const lengthAt = this.buffer.toLowerCase().indexOf('\r\ncontent-length:');
      const length =
        lengthAt >= 0 && lengthAt < head
          ? Number(this.buffer.slice(lengthAt + 17, this.buffer.indexOf('\r\n', lengthAt + 2)))
          : 0;
      const end = head + 4 + length;
      if (this.buffer.length < end) return;
      const body = this.buffer.slice(head + 4, end);
      this.buffer = this.buffer.slice(end);
      if (!this.busy) {
        // An answer nobody asked for (the server closing this connection with a status of
        // its own): counted as a failure the audit reports, not a crash of the generator.
        this.handlers.unsolicited(status);
        continue;
      }
      this.busy = false;
      this.handlers.answer(this, status, body, this.pending);
    }
  }

  close() {
    this.closed = true;
    this.socket.destroy();
  }
}

/** Latencies in microseconds, grown as needed. */
class Samples {
  constructor() {
    this.values = new Float64Array(1 << 16);
    this.length = 0;
  }

  push(value) {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }
}

/** The worker: its connections, its share of requests, its scenario instance. */
async function runWorker(data) {
  const { url, connections, requests, durationSeconds, rate, index, workers, scenario } = data;
  const target = new URL(url);
  const port = Number(target.port || 80);
  const sc = makeScenario(scenario, { worker: index, workers });
  const hostHeader = `${target.hostname}:${port}`;
  const samples = {}; // by request kind
  const codes = {};
  const perSecond = [];
  const start = performance.now();
  const startEpochMs = Date.now();
  const deadline = durationSeconds ? start + durationSeconds * 1000 : Infinity;
  let issued = 0;
  let answered = 0;
  let errors = 0;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  const idle = [];
  const queue = []; // open loop: requests that are due but found no free connection

  const limitReached = () => issued >= requests || performance.now() >= deadline;
  let dueDone = !rate; // open loop: no more requests will fall due

  function render(req) {
    let raw = `${req.method} ${req.path} HTTP/1.1\r\nhost: ${hostHeader}\r\n`;
    if (req.headers) raw += req.headers;
    if (req.body !== undefined) {
      raw += `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(req.body)}\r\n\r\n${req.body}`;
    } else raw += '\r\n';
    return raw;
  }

  function dispatch(conn, dueAt) {
    const req = sc.next(issued++);
    conn.send(render(req), { req, dueAt });
  }

  function tally(status, code, at, latencyMs = 0) {
    const key = code ? `${status} ${code}` : String(status);
    codes[key] = (codes[key] ?? 0) + 1;
    const second = Math.floor((at - start) / 1000);
    while (perSecond.length <= second) perSecond.push({ ok: 0, refused: 0, failed: 0, maxMs: 0 });
    const bucket = perSecond[second];
    if (latencyMs > bucket.maxMs) bucket.maxMs = latencyMs;
    if (status >= 500 || status === 0) bucket.failed++;
    else if (status >= 400) bucket.refused++;
    else bucket.ok++;
  }

  function maybeFinish() {
    if (!dueDone || queue.length > 0 || answered + errors < issued) return;
    if (rate || limitReached()) finish();
  }

  /** A connection is free: give it work, or park it. */
  function ready(conn) {
    if (rate) {
      if (queue.length > 0) dispatch(conn, queue.shift());
      else idle.push(conn);
    } else if (!limitReached()) dispatch(conn, performance.now());
    maybeFinish();
  }

  const handlers = {
    ready,
    answer(conn, status, body, { req, dueAt }) {
      const now = performance.now();
      (samples[req.kind] ??= new Samples()).push((now - dueAt) * 1000);
      answered++;
      tally(status, sc.answer(req, status, body), now, now - dueAt);
      ready(conn);
    },
    unsolicited(status) {
      errors++;
      tally(status, 'UNSOLICITED', performance.now());
    },
    error() {
      errors++;
      tally(0, 'SOCKET_ERROR', performance.now());
      maybeFinish();
    },
  };

  const conns = [];
  for (let i = 0; i < connections; i++) conns.push(new Connection(target.hostname, port, handlers));

  let ticker;
  if (rate) {
    // Open loop: every millisecond, issue what fell due since the last tick.
    const perMs = rate / 1000;
    let due = 0;
    ticker = setInterval(() => {
      const now = performance.now();
      const shouldHave = Math.min(requests, Math.floor((now - start) * perMs));
      while (due < shouldHave) {
        const dueAt = start + due / perMs;
        due++;
        const conn = idle.pop();
        if (conn) dispatch(conn, dueAt);
        else queue.push(dueAt);
      }
      if (due >= requests) {
        clearInterval(ticker);
        dueDone = true;
        maybeFinish();
      }
    }, 1);
  }
  const progress = setInterval(() => parentPort.postMessage({ type: 'progress', answered }), 250);
  // Safety net: a duration-bound run ends 30 s past its deadline even if answers are missing.
  const stopAt = durationSeconds
    ? setTimeout(() => finish(), durationSeconds * 1000 + 30_000)
    : undefined;
  await done;
  clearInterval(progress);
  clearInterval(ticker);
  if (stopAt) clearTimeout(stopAt);
  const elapsedMs = performance.now() - start;
  for (const c of conns) c.close();
  const latencies = Object.fromEntries(
    Object.entries(samples).map(([kind, s]) => [kind, s.values.slice(0, s.length)]),
  );
  parentPort.postMessage(
    {
      type: 'done',
      startEpochMs,
      elapsedMs,
      answered,
      errors,
      codes,
      perSecond,
      latencies,
      collected: sc.collected(),
    },
    Object.values(latencies).map((l) => l.buffer),
  );
}

if (!isMainThread && workerData?.kind === 'bench-load') {
  // One load after another, in the same thread: its code stays compiled between them.
  parentPort.on('message', (task) => runWorker({ ...workerData, ...task }));
}

/**
 * Generator threads that live across loads, so the measured load runs on code the warm-up
 * already compiled: a fresh thread starts interpreted, and at 10,000 requests/s its first
 * second was slower than the service (a backlog the run then carried for seconds).
 */
export class LoadGenerator {
  constructor(workers) {
    this.workers = workers;
    this.current = undefined; // the run in progress: { onMessage, fail }
    this.threads = Array.from({ length: workers }, (_, index) => {
      const thread = new Worker(new URL(import.meta.url), {
        workerData: { kind: 'bench-load', index, workers },
      });
      const fail = (error) => {
        this.broken ??= error; // a later run fails at once instead of waiting for a dead thread
        this.current?.fail(error);
      };
      thread.on('message', (m) => this.current?.onMessage(index, m));
      thread.once('error', fail);
      thread.once('exit', (code) => fail(new Error(`load worker exited ${code}`)));
      return thread;
    });
  }

  /**
   * Run a scenario's load against `url` from every thread and merge what they saw.
   * `onProgress(answered)` is called a few times a second for the progress bar.
   */
  async run({ url, connections, requests, durationSeconds, rate, scenario, onProgress }) {
    if (this.broken) throw this.broken;
    const workers = this.workers;
    const progress = new Array(workers).fill(0);
    const parts = new Array(workers);
    let left = workers;
    const finished = new Promise((resolve, reject) => {
      this.current = {
        fail: reject,
        onMessage: (index, m) => {
          if (m.type === 'progress') {
            progress[index] = m.answered;
            onProgress?.(progress.reduce((a, b) => a + b, 0));
          } else if (m.type === 'done') {
            parts[index] = m;
            if (--left === 0) resolve(parts);
          }
        },
      };
    });
    this.threads.forEach((thread, index) => {
      const share = (total) => Math.floor(total / workers) + (index < total % workers ? 1 : 0);
      thread.postMessage({
        url,
        connections: share(connections),
        requests: requests === Infinity ? Number.MAX_SAFE_INTEGER : share(requests),
        durationSeconds,
        rate: rate ? rate / workers : undefined,
        scenario,
      });
    });
    try {
      return merge(await finished);
    } finally {
      this.current = undefined;
    }
  }

  async close() {
    this.current = undefined;
    this.broken = new Error('the load generator is closed');
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}

/** What every thread of one load saw, as one record. */
function merge(parts) {
  const start = Math.min(...parts.map((p) => p.startEpochMs));
  const codes = {};
  const perSecond = [];
  for (const p of parts) {
    for (const [k, v] of Object.entries(p.codes)) codes[k] = (codes[k] ?? 0) + v;
    const offset = Math.round((p.startEpochMs - start) / 1000);
    p.perSecond.forEach((b, s) => {
      while (perSecond.length <= s + offset)
        perSecond.push({ ok: 0, refused: 0, failed: 0, maxMs: 0 });
      const t = perSecond[s + offset];
      t.maxMs = Math.max(t.maxMs, Number(b.maxMs.toFixed(1)));
      t.ok += b.ok;
      t.refused += b.refused;
      t.failed += b.failed;
    });
  }
  const byKind = {};
  for (const kind of new Set(parts.flatMap((p) => Object.keys(p.latencies)))) {
    byKind[kind] = concat(parts.map((p) => p.latencies[kind]).filter(Boolean)).sort();
  }
  const latencies = concat(Object.values(byKind)).sort();
  return {
    startEpochMs: start,
    elapsedMs: Math.max(...parts.map((p) => p.startEpochMs - start + p.elapsedMs)),
    answered: parts.reduce((n, p) => n + p.answered, 0),
    errors: parts.reduce((n, p) => n + p.errors, 0),
    codes,
    perSecond,
    latencies,
    byKind,
    collected: parts.map((p) => p.collected),
  };
}

function concat(arrays) {
  const all = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    all.set(a, at);
    at += a.length;
  }
  return all;
}
