import type { ColumnDataType, CreateTableBuilder, Expression, Kysely, RawBuilder, SqlBool } from 'kysely';
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
  /**
   * An ordered, limited select computes its expensive columns (subqueries) only for the rows it
   * returns (PostgreSQL postpones them past the sort and limit); SQLite computes them for every row it
   * sorts, so there a page's ids come first and its heavy columns in a second query.
   */
  lateProjection: boolean;
  /**
   * Every query is a round trip to a server process (PostgreSQL): reads that arrive together are
   * cheaper as one query. SQLite runs a query inside this process, where there is no trip to share.
   */
  roundTrips: boolean;
  /**
   * The text pairs `(first, second)` of the rows aggregated, as `<count>\x02<first>\x01<second>\x02…`
   * (`0\x02` when there is none). Joining text cost the database less than half of what building JSON
   * arrays did; a value holding a separator changes the counts, which is how a reader tells (issue #3).
   */
  joinedPairs(first: RawBuilder<unknown>, second: RawBuilder<unknown>): RawBuilder<string>;
  /**
   * `expression` is one of the texts `values`. PostgreSQL takes them as one array parameter, so one
   * statement text serves any number of values (and can be prepared, see Store.prepare); SQLite, which
   * has no arrays, gets a parameter per value.
   */
  oneOfTexts(expression: Expression<unknown>, values: readonly string[]): RawBuilder<SqlBool>;
}

export interface Ddl {
  /** A monotonically increasing 64-bit integer primary key. */
  addSerialPrimaryKey<T extends string>(table: CreateTableBuilder<T>, column: string): CreateTableBuilder<T>;
  /** Integer column wide enough for 64-bit counters and sequence numbers. */
  bigint: ColumnDataType;
  /** Column type for JSON documents (stored as text on both engines and parsed in the mapper). */
  json: ColumnDataType;
  /**
   * Statistics of how `columns` of `table` go together (PostgreSQL's extended statistics, built by
   * ANALYZE), for filters on several columns the planner would otherwise take as independent. SQLite's
   * planner keeps no such statistics: nothing is created there.
   */
  createColumnStatistics(db: Kysely<unknown>, name: string, table: string, columns: readonly string[]): Promise<void>;
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
  lateProjection: false,
  roundTrips: false,
  joinedPairs: (first, second) => sql<string>`count(*) || char(2) || coalesce(group_concat(${first} || char(1) || ${second}, char(2)), '')`,
  oneOfTexts: (expression, values) => sql<SqlBool>`${expression} in (${sql.join(values)})`,
  ddl: {
    createColumnStatistics: async () => undefined,
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
  lateProjection: true,
  roundTrips: true,
  joinedPairs: (first, second) => sql<string>`count(*) || chr(2) || coalesce(string_agg(${first} || chr(1) || ${second}, chr(2)), '')`,
  oneOfTexts: (expression, values) => sql<SqlBool>`${expression} = any(${[...values]}::text[])`,
  ddl: {
    createColumnStatistics: async (db, name, table, columns) => {
      await sql`create statistics if not exists ${sql.id(name)} (mcv, dependencies) on ${sql.join(columns.map((c) => sql.id(c)))} from ${sql.table(table)}`.execute(db);
    },
    addSerialPrimaryKey: (t, c) => t.addColumn(c, 'bigserial', (col) => col.primaryKey()),
    bigint: 'bigint',
    json: 'text',
  },
};

/** A SQL boolean literal both engines accept as a value (0/1). */
export function sqlBool(value: boolean): Expression<number> {
  return sql<number>`${value ? 1 : 0}`;
}
