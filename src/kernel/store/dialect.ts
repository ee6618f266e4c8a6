import type { ColumnDataType, CreateTableBuilder, Expression, Kysely, RawBuilder } from 'kysely';
import { sql } from 'kysely';

/**
 * Everything that differs between SQLite and PostgreSQL, in one place (STYLE §5). No other file
 * asks which engine runs; they ask for a capability.
 */
export interface Dialect {
  name: 'sqlite' | 'postgres';
  /** `FOR UPDATE SKIP LOCKED` exists (PostgreSQL): many workers claim jobs without blocking each other. */
  skipLocked: boolean;
  /** LISTEN/NOTIFY exists (PostgreSQL): wake-ups cross processes and machines. */
  listenNotify: boolean;
  /** A unique constraint was violated. */
  isUniqueViolation(error: unknown): boolean;
  /** The database cannot be reached right now (refused, restarting, shutting down). */
  isUnavailable(error: unknown): boolean;
  /** DDL helpers for migrations. */
  ddl: Ddl;
  /**
   * Serializes appenders to one ordered log inside a transaction, so sequence numbers become visible
   * in order (a PostgreSQL sequence alone hands out numbers that commit out of order). `key` names the log.
   */
  lockOrderedLog(trx: Kysely<unknown>, key: number): Promise<void>;
  /** The planner may run one query in parallel workers (PostgreSQL). */
  parallelQueries: boolean;
  /** Turns parallel workers off for the rest of the transaction: for short index walks the planner misjudges as long. */
  serialInTransaction(trx: Kysely<unknown>): Promise<void>;
  /** A JSON array (as text) holding one array of `columns` per row aggregated; `[]` when there is none. */
  jsonArrayOfArrays(columns: readonly RawBuilder<unknown>[]): RawBuilder<string>;
}

export interface Ddl {
  /** A monotonically increasing 64-bit integer primary key. */
  addSerialPrimaryKey<T extends string>(table: CreateTableBuilder<T>, column: string): CreateTableBuilder<T>;
  /** Integer column wide enough for 64-bit counters and sequence numbers. */
  bigint: ColumnDataType;
  /** Column type for JSON documents (stored as text on both engines and parsed in the mapper). */
  json: ColumnDataType;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

const networkErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  skipLocked: false,
  listenNotify: false,
  isUniqueViolation: (e) => /^SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)$/.test(errorCode(e) ?? ''),
  isUnavailable: (e) => ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN'].includes(errorCode(e) ?? ''),
  // SQLite has one writer at a time: a write transaction is already the lock.
  lockOrderedLog: async () => undefined,
  parallelQueries: false,
  serialInTransaction: async () => undefined,
  jsonArrayOfArrays: (columns) => sql<string>`json_group_array(json_array(${sql.join(columns)}))`,
  ddl: {
    addSerialPrimaryKey: (t, c) => t.addColumn(c, 'integer', (col) => col.primaryKey().autoIncrement()),
    bigint: 'integer',
    json: 'text',
  },
};

export const postgresDialect: Dialect = {
  name: 'postgres',
  skipLocked: true,
  listenNotify: true,
  isUniqueViolation: (e) => errorCode(e) === '23505',
  isUnavailable: (e) => {
    const code = errorCode(e) ?? '';
    if (networkErrorCodes.has(code)) return true;
    // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 08xxx connection exceptions.
    if (/^57P0[123]$/.test(code) || code.startsWith('08')) return true;
    const message = e instanceof Error ? e.message : '';
    return /Connection terminated|timeout exceeded when trying to connect|Client was closed|connection is closed/i.test(message);
  },
  lockOrderedLog: async (trx, key) => {
    await sql`select pg_advisory_xact_lock(${key})`.execute(trx);
  },
  parallelQueries: true,
  serialInTransaction: async (trx) => {
    await sql`set local max_parallel_workers_per_gather = 0`.execute(trx);
  },
  jsonArrayOfArrays: (columns) => sql<string>`coalesce(json_agg(json_build_array(${sql.join(columns)})), '[]')::text`,
  ddl: {
    addSerialPrimaryKey: (t, c) => t.addColumn(c, 'bigserial', (col) => col.primaryKey()),
    bigint: 'bigint',
    json: 'text',
  },
};

/** A SQL boolean literal both engines accept as a value (0/1). */
export function sqlBool(value: boolean): Expression<number> {
  return sql<number>`${value ? 1 : 0}`;
}
