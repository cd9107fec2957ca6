// `npm run seed`: demo accounts and goods into DATABASE_URL, only when it has no users yet.
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { ensureBuild, root, say } from './lib/services.mjs';

if (!process.env.DATABASE_URL) {
  say('DATABASE_URL is not set (npm start seeds its private database by itself)');
  process.exit(1);
}
if (process.env.NODE_ENV === 'production') {
  say('refusing to seed demo accounts with public passwords in production');
  process.exit(1);
}
ensureBuild();
const load = createRequire(import.meta.url);
await load(join(root, 'dist', 'database', 'data-source.js')).runMigrations(
  process.env.DATABASE_URL,
);
const seeded = await load(join(root, 'dist', 'seed.js')).seedDemoData(process.env.DATABASE_URL);
say(seeded ? 'seeded demo accounts and goods' : 'the database already has users: nothing seeded');
