import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Counter } from 'prom-client';
import { Pool } from 'pg';

import { AppConfig } from '../config/app-config';
import { registry } from '../telemetry/metrics';
import { Queryable, Sql } from './sql';

/**
 * A WAL position as bytes since 0/0, in decimal: what `pg_lsn - pg_lsn` gives, comparable as
 * a number in Lua (exact below 2^53 bytes of WAL).
 */
export type WalPosition = string;

/** The primary's WAL position now: every transaction committed before this is at or below it. */
export async function currentWalPosition(primary: Sql): Promise<WalPosition | undefined> {
  const row = await primary.one<{ lsn: string }>(
    `SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS lsn`,
  );
  return row?.lsn;
}

const reads = new Counter({
  name: 'database_catalogue_reads_total',
  help: 'Catalogue reads that missed the cache, by the server that answered: replica (DATABASE_READ_URL, caught up), primary (no read path, or no position known), behind (the replica had not replayed the last goods write) or failed (the read path errored, or did within READ_PATH_REST_MS)',
  labelNames: ['served'] as const,
  registers: [registry],
});

/** After a failure the read path is left alone this long: a dead one costs each miss nothing. */
const READ_PATH_REST_MS = 5_000;

/**
 * The optional read path (DATABASE_READ_URL): a standby, or Pgpool-II balancing over the
 * standbys. A standby may not have replayed a write the primary has already acknowledged,
 * so `read` takes its answer only when its replay position has reached the position the
 * caller needs (the last goods write, kept with the goods cache's generation), asked on the
 * same connection before the read: a snapshot taken after that replay sees the write. On a
 * server not in recovery (Pgpool-II sending the session to the primary) every answer is
 * current.
 */
@Injectable()
export class ReadReplica implements OnModuleDestroy {
  private readonly logger = new Logger(ReadReplica.name);
  private readonly pool?: Pool;
  private readonly sql?: Sql;
  private restUntil = 0;

  constructor(config: AppConfig) {
    if (config.databaseReadUrl === undefined) {
      return;
    }
    this.pool = new Pool({
      connectionString: config.databaseReadUrl,
      max: config.databasePoolSize,
      // Short: a read path that does not answer sends the read to the primary, not a client
      // waiting (the primary's pool waits 5 s).
      connectionTimeoutMillis: 1000,
    });
    // An idle connection that dies (a standby restarting) is dropped; the next read reconnects.
    this.pool.on('error', (error) => this.logger.warn(`read path: ${error.message}`));
    this.sql = Sql.onPool(this.pool);
  }

  get enabled(): boolean {
    return this.sql !== undefined;
  }

  /**
   * `work` on the read path if it has replayed `needed`; undefined when there is no read
   * path, no position is known, it is behind, or it failed: the caller then reads the primary.
   */
  async read<T>(
    needed: WalPosition | undefined,
    work: (on: Queryable) => Promise<T>,
  ): Promise<{ value: T } | undefined> {
    if (this.sql === undefined || needed === undefined) {
      reads.inc({ served: 'primary' });
      return undefined;
    }
    if (Date.now() < this.restUntil) {
      reads.inc({ served: 'failed' });
      return undefined;
    }
    try {
      return await this.sql.onClient(async (client) => {
        const { rows } = await client.query<{ current: boolean }>(
          `SELECT NOT pg_is_in_recovery()
               OR pg_last_wal_replay_lsn() - '0/0'::pg_lsn >= $1::numeric AS current`,
          [needed],
        );
        if (!rows[0]?.current) {
          reads.inc({ served: 'behind' });
          return undefined;
        }
        const value = await work(client);
        reads.inc({ served: 'replica' });
        return { value };
      });
    } catch (error) {
      reads.inc({ served: 'failed' });
      this.restUntil = Date.now() + READ_PATH_REST_MS;
      this.logger.warn(
        `read path failed, reading the primary for ${READ_PATH_REST_MS / 1000} s: ${(error as Error).message}`,
      );
      return undefined;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool?.end();
  }
}
