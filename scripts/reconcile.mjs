// `npm run reconcile`: rebuild missing Redis booking state from PostgreSQL.
// `npm run reconcile -- --check`: report drift between Redis and PostgreSQL, change nothing
// (exit 1 when there is drift). Without DATABASE_URL / REDIS_URL it uses `npm start`'s
// private servers.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { ensureBuild, root, say } from './lib/services.mjs';

// An unknown flag ends here: `--chek` once ran the repairing mode (issue 23).
let check;
try {
  check = parseArgs({ options: { check: { type: 'boolean', default: false } } }).values.check;
} catch (error) {
  say(`${error.message}\nusage: npm run reconcile [-- --check]`);
  process.exit(2);
}
const databaseUrl =
  process.env.DATABASE_URL ??
  `postgres://postgres:postgres@127.0.0.1:${process.env.TN_PG_PORT ?? 54329}/ticketnest`;
const redisUrl = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.TN_REDIS_PORT ?? 63790}`;
const prefix = process.env.REDIS_KEY_PREFIX ?? 'tn:';

ensureBuild();
const load = createRequire(import.meta.url);
const { default: pg } = await import('pg');
const { createRedis } = load(join(root, 'dist', 'redis', 'redis.module.js'));
const { reconcile } = load(join(root, 'dist', 'booking', 'reconcile.js'));

const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
const redis = createRedis(redisUrl, prefix);
try {
  const report = await reconcile(db, redis, { check });
  if (check) {
    for (const d of report.drift) {
      say(
        `drift: goods ${d.goodsId} ${d.what}${d.userId ? ` of user ${d.userId}` : ''}: redis ${d.redis ?? 'missing'}, expected ${d.expected}`,
      );
    }
    say(`${report.goods} goods checked, ${report.drift.length} drift(s)`);
    process.exitCode = report.drift.length > 0 ? 1 : 0;
  } else {
    say(
      `${report.goods} goods, loaded into Redis: ${report.loaded.length ? report.loaded.join(', ') : 'none (all present)'}`,
    );
  }
} finally {
  await db.end();
  await redis.quit();
}
