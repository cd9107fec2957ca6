import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

export type Queryable = Pick<PoolClient, 'query'>;

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

  async rows<T extends QueryResultRow>(
    text: string,
    params: unknown[] = [],
    on: Queryable = this.pool,
  ): Promise<T[]> {
    const result = await on.query<T>(text, params);
    return result.rows;
  }

  /**
   * As `rows`, as a named prepared statement: parsed once per connection, not per call (and
   * planned once too, unless the transaction sets plan_cache_mode, as the batch writer's does).
   * For hot statements whose text never changes (the batch writer's).
   */
  async prepared<T extends QueryResultRow>(
    name: string,
    text: string,
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
   * round trip.
   */
  async transaction<T>(work: (tx: PoolClient) => Promise<T>, first?: string): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query(first ? `BEGIN; ${first}` : 'BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
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
