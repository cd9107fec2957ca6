import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

import { registry } from '../telemetry/metrics';

const KIND = 'ticketnest-writer';
const STOP_TIMEOUT_MS = 15_000;
const METRICS_TIMEOUT_MS = 2_000;

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

type FromThread =
  { type: 'running' } | { type: 'stopped' } | { type: 'metrics'; id: number; metrics: MetricsJson };

type ToThread = { type: 'stop' } | { type: 'metrics'; id: number };

/** Whether this code runs in the writer thread that `WriterThread.start` made. */
export function inWriterThread(): boolean {
  return !isMainThread && (workerData as { kind?: string } | null)?.kind === KIND;
}

/**
 * The metrics the writer records (outcomes, admission-to-commit time): counters and histograms
 * named booking_*. Gauges read Redis and the API thread registers the same ones; its process
 * and heap metrics are the API thread's.
 */
async function writerMetrics(): Promise<MetricsJson> {
  const all = (await registry.getMetricsAsJSON()) as MetricsJson;
  // MetricType is declared a numeric enum, but the values are these strings.
  const kept = new Set<string>(['counter', 'histogram']);
  return all.filter((m) => m.name.startsWith('booking_') && kept.has(String(m.type)));
}

/**
 * APP_ROLE=all with WRITER_THREAD: the booking writer runs in a worker thread of this process,
 * with its own event loop and heap. A batch's JavaScript (parse, decide, encode, settle) and its
 * garbage (the writer's objects outlive young-generation collections, and their mark-compacts
 * paused the API in the sustained bench) no longer sit between a booking request
 * and its answer. The thread is the APP_ROLE=writer application (src/main.ts), so a split
 * deployment and a single node run the same writer.
 */
export class WriterThread {
  /** The one this process started, if any (the API thread's shutdown and /metrics use it). */
  static current: WriterThread | undefined;

  private readonly logger = new Logger(WriterThread.name);
  private running = false;
  private stopping = false;
  private nextId = 0;
  private readonly waiting = new Map<number, (metrics: MetricsJson) => void>();
  private readonly exited: Promise<number>;

  private constructor(private readonly worker: Worker) {
    this.exited = new Promise((resolve) => worker.once('exit', resolve));
    // An uncaught error ends the thread: say what it was; the exit below stops the process.
    worker.on('error', (error: Error) =>
      this.logger.error(`booking writer thread failed: ${error.message}`, error.stack),
    );
    worker.on('message', (m: FromThread) => {
      if (m.type === 'metrics') {
        this.waiting.get(m.id)?.(m.metrics);
        this.waiting.delete(m.id);
      }
    });
    void this.exited.then((code) => {
      this.waiting.forEach((resolve) => resolve([]));
      this.waiting.clear();
      if (this.running && !this.stopping) {
        // Bookings would be admitted and never written: stop the process, its supervisor
        // restarts it, and the restarted writer takes the log over where this one left it.
        this.logger.error(`booking writer thread exited (code ${code}); stopping the process`);
        process.exit(1);
      }
    });
  }

  /**
   * Start `entry` (the service's main script) as the writer; resolves once it runs, rejects if
   * it fails to start. `env` is the thread's environment (APP_ROLE=writer, no demo seed).
   */
  static async start(entry: string, env: NodeJS.ProcessEnv): Promise<WriterThread> {
    const worker = new Worker(entry, { env, workerData: { kind: KIND } });
    const thread = new WriterThread(worker);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromThread) => {
        if (m.type === 'running') {
          thread.running = true;
          worker.off('message', onMessage);
          worker.off('error', reject);
          resolve();
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      void thread.exited.then((code) => reject(new Error(`writer thread exited (code ${code})`)));
    });
    WriterThread.current = thread;
    return thread;
  }

  /** Let the writer finish the batch it holds and close; resolves when the thread has gone. */
  async stop(): Promise<void> {
    if (this.stopping) {
      await this.exited;
      return;
    }
    this.stopping = true;
    this.worker.postMessage({ type: 'stop' } satisfies ToThread);
    const timer = setTimeout(() => void this.worker.terminate(), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
    if (WriterThread.current === this) {
      WriterThread.current = undefined;
    }
  }

  /**
   * The writer's booking_* counters and histograms, as prom-client JSON; none if the thread
   * does not answer within METRICS_TIMEOUT_MS (a scrape never hangs on a stuck writer).
   */
  metrics(): Promise<MetricsJson> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve([]);
      }, METRICS_TIMEOUT_MS);
      this.waiting.set(id, (metrics) => {
        clearTimeout(timer);
        resolve(metrics);
      });
      this.worker.postMessage({ type: 'metrics', id } satisfies ToThread);
    });
  }

  /**
   * In the writer thread, once its application runs: answer the API thread's requests (stop,
   * metrics) and say it is running.
   */
  static serve(app: INestApplicationContext): void {
    const port = parentPort!;
    port.on('message', (m: ToThread) => {
      if (m.type === 'metrics') {
        void writerMetrics().then((metrics) =>
          port.postMessage({ type: 'metrics', id: m.id, metrics } satisfies FromThread),
        );
      } else if (m.type === 'stop') {
        void app.close().finally(() => {
          port.postMessage({ type: 'stopped' } satisfies FromThread);
          process.exit(0);
        });
      }
    });
    port.postMessage({ type: 'running' } satisfies FromThread);
  }
}

/**
 * The Prometheus text of this process: the API thread's registry, with the writer thread's
 * booking_* counters and histograms added into the families both record (booking_outcomes_total:
 * ADMITTED here, CONFIRMED there).
 */
export async function processMetrics(): Promise<string> {
  const thread = WriterThread.current;
  if (thread === undefined) {
    return registry.metrics();
  }
  const theirs = await thread.metrics();
  const shared = new Set(theirs.map((m) => m.name));
  const names = registry.getMetricsAsArray().map((m) => m.name);
  // From the registry, not each metric: only the registry adds the default labels
  // (instance_id), and without them our half and the thread's would be two series.
  const ours = ((await registry.getMetricsAsJSON()) as MetricsJson).filter((m) =>
    shared.has(m.name),
  );
  const merged = AggregatorRegistry.aggregate([ours, theirs]);
  const parts = await Promise.all(
    names.filter((name) => !shared.has(name)).map((name) => registry.getSingleMetricAsString(name)),
  );
  parts.push((await merged.metrics()).trimEnd());
  return `${parts.join('\n\n')}\n`;
}

/** The same metrics as values (this process's and its writer thread's, summed), for summaries. */
export async function processMetricsJson(): Promise<MetricsJson> {
  const thread = WriterThread.current;
  const ours = (await registry.getMetricsAsJSON()) as MetricsJson;
  if (thread === undefined) {
    return ours;
  }
  return await AggregatorRegistry.aggregate([ours, await thread.metrics()]).getMetricsAsJSON();
}

/** Stops the writer thread before the API thread's own shutdown (its connections stay open). */
@Injectable()
export class WriterThreadShutdown implements BeforeApplicationShutdown {
  async beforeApplicationShutdown(): Promise<void> {
    await WriterThread.current?.stop();
  }
}
