import { setTimeout as sleep } from 'node:timers/promises';

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

import { databaseUnavailable } from './failure-kind';
import type { Statement } from './statements';

export type Queryable = Pick<PoolClient, 'query'>;

/** What Sql.onClient knows of its connection: set when it broke (it then leaves the pool). */
export interface ClientState {
  broken?: Error;
}

const CONNECT_ATTEMPTS = 3;
/**
 * Pauses before a read whose connection was lost is asked again. Pgpool-II ends every session
 * at once as it detaches a node: the pool's other idle connections died too, and after a
 * pause it has heard so and dropped them, where at once it would hand out another dead one.
 */
const READ_RETRY_PAUSES_MS = [50, 250];
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
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.rowsOnce<T>(text, params);
      } catch (error) {
        // A plain read whose connection was lost (Pgpool-II dropping its sessions as it
        // detaches a node, a failover) is asked again on another connection: reading twice is
        // harmless. A write is never repeated: it may have committed before the connection went.
        const pause = READ_RETRY_PAUSES_MS[attempt];
        if (pause === undefined || !databaseUnavailable(error) || !READ_ONLY.test(text)) {
          throw error;
        }
        await sleep(pause);
      }
    }
  }

  private rowsOnce<T extends QueryResultRow>(text: string, params: unknown[]): Promise<T[]> {
    return this.onClient(async (client) => (await client.query<T>(text, params)).rows);
  }

  /**
   * `work` on one pooled connection (several statements that must meet the same server). A
   * checked-out client whose connection dies emits 'error'; with no listener that would end
   * the process (pg-pool listens only while a client is idle). A connection that failed goes
   * out of the pool rather than back into it.
   */
  async onClient<T>(work: (client: PoolClient, state: ClientState) => Promise<T>): Promise<T> {
    const client = await this.connect();
    const state: ClientState = {};
    const onError = (error: Error) => (state.broken = error);
    client.on('error', onError);
    try {
      return await work(client, state);
    } catch (error) {
      state.broken ??= databaseUnavailable(error) ? (error as Error) : undefined;
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(state.broken);
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
        await sleep(100 * attempt);
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
   * in flight and leaves the pool (onClient).
   */
  async transaction<T>(work: (tx: PoolClient) => Promise<T>, first?: string): Promise<T> {
    return this.onClient(async (client, state) => {
      try {
        await client.query(first ? `BEGIN; ${first}` : 'BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (!state.broken) {
          await client.query('ROLLBACK').catch((rollback: Error) => (state.broken = rollback));
        }
        throw error;
      }
    });
  }
}

// pgError lives with the failure kinds it reads; offered here too, where queries are made.
export { pgError } from './failure-kind';

export const PG_UNIQUE_VIOLATION = '23505';
export const PG_CHECK_VIOLATION = '23514';
export const PG_FOREIGN_KEY_VIOLATION = '23503';
