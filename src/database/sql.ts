import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

import { databaseUnavailable } from './failure-kind';
import type { Statement } from './statements';

export type Queryable = Pick<PoolClient, 'query'>;

const CONNECT_ATTEMPTS = 3;
/** A statement that only reads: SELECT without FOR UPDATE/SHARE (and no data-changing CTE). */
const READ_ONLY =
  /^\s*SELECT\b(?![\s\S]*\b(?:FOR\s+(?:UPDATE|SHARE|NO\s+KEY|KEY)|INSERT|UPDATE|DELETE)\b)/i;

/**
 * Plain parameterised SQL on TypeORM's own pg pool: repositories use it where they need
 * exact SQL (RETURNING, ON CONFLICT, guarded updates) and rows with predictable shapes.
 */
@Injectable()
export class Sql {
  readonly pool: Pool;

  constructor(@InjectDataSource() db: DataSource) {
    this.pool = (db.driver as PostgresDriver).master as Pool;
  }

  /** Outside the application (scripts, tests): plain SQL on a pool of one's own. */
  static onPool(pool: Pool): Sql {
    return new Sql({ driver: { master: pool } } as unknown as DataSource);
  }

  async rows<T extends QueryResultRow>(
    text: string,
    params: unknown[] = [],
    on?: Queryable,
  ): Promise<T[]> {
    if (on) {
      return (await on.query<T>(text, params)).rows;
    }
    try {
      return await this.rowsOnce<T>(text, params);
    } catch (error) {
      // A plain read whose connection was lost (Pgpool-II dropping its sessions as it detaches
      // a node, a failover) is asked once more on a new connection: reading twice is harmless.
      // A write is never repeated: it may have committed before the connection went.
      if (databaseUnavailable(error) && READ_ONLY.test(text)) {
        return this.rowsOnce<T>(text, params);
      }
      throw error;
    }
  }

  private async rowsOnce<T extends QueryResultRow>(text: string, params: unknown[]): Promise<T[]> {
    const client = await this.connect();
    // A checked-out client whose connection dies emits 'error'; with no listener that would
    // end the process (pg-pool listens only while a client is idle).
    let broken: Error | undefined;
    const onError = (error: Error) => (broken = error);
    client.on('error', onError);
    try {
      return (await client.query<T>(text, params)).rows;
    } catch (error) {
      broken ??= databaseUnavailable(error) ? (error as Error) : undefined;
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /**
   * A pooled connection; a connect that fails is tried twice more. Nothing was sent on it, so
   * this is safe for any statement: it covers Pgpool-II refusing new sessions for the moment
   * it detaches a node that is going away, and a connection the pool held that died idle.
   */
  private async connect(): Promise<PoolClient> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pool.connect();
      } catch (error) {
        if (attempt >= CONNECT_ATTEMPTS || !databaseUnavailable(error)) {
          throw error;
        }
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  /**
   * As `rows`, as a named prepared statement (database/statements.ts): parsed once per
   * connection, not per call (and planned once too, unless the transaction sets
   * plan_cache_mode, as the batch writer's does). For hot statements whose text never changes.
   */
  async prepared<T extends QueryResultRow>(
    { name, text }: Statement,
    params: unknown[],
    on: Queryable,
  ): Promise<T[]> {
    const result = await on.query<T>({ name, text, values: params });
    return result.rows;
  }

  async one<T extends QueryResultRow>(
    text: string,
    params: unknown[] = [],
    on?: Queryable,
  ): Promise<T | undefined> {
    return (await this.rows<T>(text, params, on))[0];
  }

  /**
   * Run `work` in one transaction on one connection; rolls back on any error. `first`
   * (statements without parameters: SET LOCAL, LOCK TABLE) runs with the BEGIN, in the same
   * round trip. A connection that breaks meanwhile (PostgreSQL restarting) fails the statement
   * in flight and leaves the pool; pg also emits 'error' on the client, which the pool listens
   * to only while the client is idle, and an 'error' nobody listens to would end the process.
   */
  async transaction<T>(work: (tx: PoolClient) => Promise<T>, first?: string): Promise<T> {
    const client = await this.connect();
    let broken: Error | undefined;
    const onError = (error: Error) => (broken = error);
    client.on('error', onError);
    try {
      await client.query(first ? `BEGIN; ${first}` : 'BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (!broken) {
        await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
      }
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }
}

/** PostgreSQL error with its SQLSTATE and constraint, as pg reports it. */
export function pgError(error: unknown): { code?: string; constraint?: string } {
  return typeof error === 'object' && error !== null ? error : {};
}

export const PG_UNIQUE_VIOLATION = '23505';
export const PG_CHECK_VIOLATION = '23514';
export const PG_FOREIGN_KEY_VIOLATION = '23503';
