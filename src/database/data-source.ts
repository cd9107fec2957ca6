import { DataSource, DataSourceOptions } from 'typeorm';

import { Init1764000000000 } from './migrations/1764000000000-init';
import { Bookings1764100000000 } from './migrations/1764100000000-bookings';
import { BookingsReferences1764200000000 } from './migrations/1764200000000-bookings-references';

export const migrations = [
  Init1764000000000,
  Bookings1764100000000,
  BookingsReferences1764200000000,
];

/**
 * One definition for the app, the migration script and the tests; never `synchronize`. The
 * entities are the modules' own: the app passes them (app.module.ts); migrations and plain SQL
 * need none, so database/ imports no module above it.
 */
export function dataSourceOptions(
  url: string,
  poolSize = 20,
  entities: DataSourceOptions['entities'] = [],
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error'],
    extra: { max: poolSize, connectionTimeoutMillis: 5000 },
  };
}

const MIGRATION_LOCK_KEY = 7_411_020_001;

/**
 * Apply pending migrations. Several instances may start at once: a session-level advisory
 * lock held on a second connection makes the others wait, then find nothing left to do.
 */
export async function runMigrations(url: string): Promise<string[]> {
  const ds = new DataSource(dataSourceOptions(url, 2));
  await ds.initialize();
  const lock = ds.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const done = await ds.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
    await ds.destroy();
  }
}
