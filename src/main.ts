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
  await app.listen({ port: config.port, host: config.host });
  app
    .getHttpAdapter()
    .getInstance()
    .log.info(`TicketNest listening on http://localhost:${config.port} (docs at /api/docs)`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `TicketNest failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
