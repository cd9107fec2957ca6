// `npm run migration:run`: apply pending migrations to DATABASE_URL.
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { ensureBuild, root, say } from './lib/services.mjs';

if (!process.env.DATABASE_URL) {
  say('DATABASE_URL is not set (npm start migrates its private database by itself)');
  process.exit(1);
}
ensureBuild();
const { runMigrations } = createRequire(import.meta.url)(
  join(root, 'dist', 'database', 'data-source.js'),
);
const done = await runMigrations(process.env.DATABASE_URL);
say(done.length ? `applied: ${done.join(', ')}` : 'nothing to apply');
