import 'reflect-metadata';

import { createApp } from './app.factory';
import { AppConfig } from './config/app-config';
import { ConfigError, parseEnv } from './config/env.schema';
import { runMigrations } from './database/data-source';
import { seedDemoData } from './database/seed';

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = new AppConfig(parseEnv(process.env));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  await runMigrations(config.databaseUrl);
  if (config.seedDemoData) {
    await seedDemoData(config.databaseUrl);
  }
  const app = await createApp();
  const log = app.getHttpAdapter().getInstance().log;
  if (!config.servesHttp) {
    // APP_ROLE=worker: the booking writer only, no HTTP port.
    await app.init();
    log.info(`TicketNest worker running (strategy ${config.bookingStrategy})`);
    return;
  }
  await app.listen({ port: config.port, host: config.host });
  log.info(
    `TicketNest ${config.role} listening on http://localhost:${config.port} (docs at /api/docs, booking ${config.bookingStrategy})`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `TicketNest failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
