// `npm run dead-letters`: the booking log entries the writer could not take, and why.
//   -- --json          the same as a JSON array
//   -- --retry ID|--all  put one (or every) dead letter back on the booking log
//   -- --drop ID       remove one for good, after an operator decided
// Each action is logged on stderr with who ran it. Without DATABASE_URL / REDIS_URL it uses
// `npm start`'s private servers.
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import { join } from 'node:path';

import { ensureBuild, root, say } from './lib/services.mjs';

const args = process.argv.slice(2);
const usage = 'usage: npm run dead-letters [-- --json | --retry ID | --retry --all | --drop ID]';
const valueOf = (flag) => {
  const i = args.indexOf(flag);
  return i === -1 ? undefined : (args[i + 1] ?? '');
};
const retry = valueOf('--retry');
const drop = valueOf('--drop');
const all = args.includes('--all');
const known = new Set(['--json', '--retry', '--drop', '--all', retry, drop]);
if (
  args.some((a) => !known.has(a)) ||
  (retry !== undefined && drop !== undefined) ||
  (all && retry === undefined) ||
  (retry !== undefined && !all && !/^\d+-\d+$/.test(retry)) ||
  (drop !== undefined && !/^\d+-\d+$/.test(drop))
) {
  say(usage);
  process.exit(2);
}

const databaseUrl =
  process.env.DATABASE_URL ??
  `postgres://postgres:postgres@127.0.0.1:${process.env.TN_PG_PORT ?? 54329}/ticketnest`;
const redisUrl = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.TN_REDIS_PORT ?? 63790}`;
const prefix = process.env.REDIS_KEY_PREFIX ?? 'tn:';
const operator = process.env.SUDO_USER ?? userInfo().username;
const log = (action, fields) =>
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), msg: `dead letter ${action}`, operator, ...fields })}\n`,
  );

ensureBuild();
const load = createRequire(import.meta.url);
const { default: pg } = await import('pg');
const { createRedis } = load(join(root, 'dist', 'redis', 'redis.module.js'));
const { listDeadLetters, retryDeadLetters, dropDeadLetter } = load(
  join(root, 'dist', 'booking', 'dead-letters.js'),
);

const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
const redis = createRedis(redisUrl, prefix);
try {
  if (retry !== undefined) {
    const ids = all ? (await listDeadLetters(redis)).map((d) => d.id) : [retry];
    for (const r of await retryDeadLetters(db, redis, ids)) {
      if (r.outcome === 'retried') {
        log('retried', { id: r.id, bookingId: r.bookingId, logEntry: r.logEntry });
      } else {
        say(
          r.outcome === 'missing'
            ? `no dead letter ${r.id}`
            : `dead letter ${r.id} has no fields to put back on the log: drop it`,
        );
        process.exitCode = 1;
      }
    }
    if (ids.length === 0) {
      say('no dead letters');
    }
  } else if (drop !== undefined) {
    if (await dropDeadLetter(redis, drop)) {
      log('dropped', { id: drop });
    } else {
      say(`no dead letter ${drop}`);
      process.exitCode = 1;
    }
  } else {
    const letters = await listDeadLetters(redis);
    if (args.includes('--json')) {
      process.stdout.write(`${JSON.stringify(letters, null, 2)}\n`);
    } else {
      for (const d of letters) {
        process.stdout.write(
          `${d.id}  ${d.at}  log entry ${d.entry}  booking ${d.bookingId ?? '-'}  delivered ${d.deliveries}×\n` +
            `  error:  ${d.error}\n  fields: ${JSON.stringify(d.fields)}\n`,
        );
      }
      say(`${letters.length} dead letter(s)`);
    }
  }
} finally {
  await db.end();
  await redis.quit();
}
