import 'reflect-metadata';

import { createApp } from './app.factory';
import { AppConfig } from './config/app-config';
import { ConfigError, redactCredentials } from './config/env.schema';
import { runMigrations } from './database/data-source';
import { seedDemoData } from './seed';
import { inWriterThread, WriterThread } from './booking/writer-thread';
import { labelInstance } from './telemetry/metrics';
import { serveMetrics } from './health/metrics-server';
import { tracing } from './telemetry/tracing';

/** The configuration, or the process ends naming every bad variable. */
function configuration(): AppConfig {
  try {
    return AppConfig.fromEnvironment(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/** APP_ROLE=writer: the booking writer only, no HTTP port (METRICS_PORT: /metrics alone). */
async function runWriter(
  app: Awaited<ReturnType<typeof createApp>>,
  config: AppConfig,
  writerThread: boolean,
): Promise<void> {
  const log = app.getHttpAdapter().getInstance().log;
  await app.init();
  const metricsPort = writerThread ? undefined : config.metricsPort;
  if (metricsPort !== undefined) {
    await serveMetrics(config, metricsPort);
  }
  log.info(
    `TicketNest writer running${writerThread ? ' (thread)' : ''} (strategy ${config.bookingStrategy}${metricsPort ? `, metrics on ${metricsPort}` : ''})`,
  );
  if (writerThread) {
    WriterThread.serve(app);
  }
}

/** What start says about the environment (the writer thread's copy says nothing twice). */
function startWarnings(config: AppConfig): string[] {
  return [
    ...config.warnings,
    ...(config.jwtSecretGenerated
      ? [
          'JWT_SECRET is not set: tokens are signed with a random secret kept in .data/jwt-secret (set JWT_SECRET for a real deployment; production refuses to start without one)',
        ]
      : []),
  ];
}

async function main(): Promise<void> {
  let config = configuration();
  labelInstance(config.instanceId);
  if (config.otlpEndpoint) {
    await tracing.start(config.otlpEndpoint, config.serviceName, config.instanceId);
  }
  const writerThread = inWriterThread();
  if (!writerThread) {
    await runMigrations(config.databaseUrl);
    if (config.seedDemoData) {
      await seedDemoData(config.databaseUrl);
    }
  }
  if (config.role === 'migrate') {
    return;
  }
  if (config.role === 'all' && config.runsWorker && config.writerThread) {
    // This script again, as APP_ROLE=writer in a thread (its environment is its own); this
    // thread serves HTTP only.
    await WriterThread.start(__filename, {
      ...process.env,
      APP_ROLE: 'writer',
      SEED_DEMO_DATA: 'false',
    });
    config = config.withRole('api');
  }
  const app = await createApp(config);
  const log = app.getHttpAdapter().getInstance().log;
  if (!writerThread) {
    startWarnings(config).forEach((warning) => log.warn(warning));
  }
  if (!config.servesHttp) {
    await runWriter(app, config, writerThread);
    return;
  }
  await app.listen({ port: config.port, host: config.host });
  log.info(
    `TicketNest ${config.role} listening on http://localhost:${config.port} (web app at /, API docs: ${config.apiDocs}, booking ${config.bookingStrategy})`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `TicketNest failed to start: ${redactCredentials(error instanceof Error ? error.message : String(error))}\n`,
  );
  process.exit(1);
});
