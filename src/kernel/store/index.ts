import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Migration as KyselyMigration } from 'kysely';
import pg from 'pg';
import type { Logger } from '../log.js';
import { postgresDialect, sqliteDialect, type Ddl, type Dialect } from './dialect.js';

export type { Dialect, Ddl } from './dialect.js';
export { sqlBool } from './dialect.js';

// int8 (bigserial sequences, counts) as JavaScript numbers: our sequences stay far below 2^53.
pg.types.setTypeParser(20, (value) => Number(value));

/** A connection or a transaction: what a layer's store.ts queries through. */
export interface Db {
  /** This handle typed with the caller's own tables, so a store can only name its own. */
  tables<T>(): Kysely<T>;
  /** Runs `fn` in a transaction; inside a transaction it joins the outer one. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Wakes listeners of `channel` in every process once the surrounding transaction (if any) commits. */
  notify(channel: string, payload?: string): Promise<void>;
}

export interface Tx extends Db {
  /** Runs after the transaction commits (never if it rolls back). */
  afterCommit(fn: () => void): void;
  /**
   * SQLite only (undefined on PostgreSQL): the better-sqlite3 connection this transaction runs on, for
   * bulk writes that reuse prepared statements row by row without Kysely's per-row query building.
   * Statements run on it synchronously inside `fn` are part of this transaction.
   */
  readonly sqlite: Database.Database | undefined;
}

/** A migration of one layer, written against the schema builder, importing no app code. */
export interface Migration {
  name: string;
  up(db: Kysely<unknown>, ddl: Ddl): Promise<void>;
}

export interface Store extends Db {
  dialect: Dialect;
  /**
   * SQLite: the database file, which worker threads may open with `readOnly` stores of their own
   * (WAL lets readers run beside the writer); undefined on PostgreSQL.
   */
  readonly sqliteFile: string | undefined;
  /** Runs every layer's migrations in name order under the engine's lock. */
  migrate(migrations: readonly Migration[]): Promise<{ applied: string[] }>;
  /** True when every known migration has run. */
  migrationsApplied(): Promise<boolean>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  /**
   * Marks a hot statement (a compiled query's exact SQL text) to run as a named statement on
   * PostgreSQL: each connection parses and plans it once, and later runs only bind and execute (for a
   * one-row read the planning cost several times the execution). Only for statements whose plan does
   * not depend on their parameters' values and whose columns are named (PostgreSQL refuses a cached
   * plan whose result type changed). Up to MAX_PREPARED texts; later ones run as before. SQLite
   * caches every statement already (withStatementCache): nothing to do there.
   */
  prepare(sqlText: string): void;
  /** Subscribes to `notify(channel)` from this and (PostgreSQL) every other process. */
  listen(channel: string, listener: (payload: string) => void): () => void;
  /** Resolves once notifications of every channel listened to so far are being received (at once on SQLite). */
  listening(): Promise<void>;
  destroy(): Promise<void>;
}

/** Statement texts a store runs as named statements (Store.prepare): each connection keeps them all. */
export const MAX_PREPARED = 64;

export interface StoreOptions {
  /** `postgres://…`, or undefined for SQLite at `sqliteFile`. */
  databaseUrl: string | undefined;
  sqliteFile: string;
  logger: Logger;
  poolSize?: number;
  /** SQLite: a read-only connection to an existing database (a reader beside the writing process); it never migrates. */
  readOnly?: boolean;
}

export function createStore(options: StoreOptions): Store {
  const local = new EventEmitter();
  local.setMaxListeners(0);
  let kysely: Kysely<unknown>;
  let dialect: Dialect;
  let pool: pg.Pool | undefined;
  let listener: PgListener | undefined;
  let sqlite: Database.Database | undefined;
  const preparedNames = new Map<string, string>();

  if (options.databaseUrl) {
    dialect = postgresDialect;
    pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      // Fail fast while PostgreSQL is down, so requests answer 503 instead of hanging.
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client dies when the server restarts; the pool drops it and the next query reconnects.
    pool.on('error', (err) => options.logger.warn({ err: err.message }, 'postgres connection lost'));
    // A client checked out when the server goes away emits 'error' with no listener of the pool's,
    // which would crash the process; its query fails on its own and the pool discards the client.
    pool.on('connect', (client) => {
      client.on('error', (err) => options.logger.warn({ err: err.message }, 'postgres connection lost mid-query'));
      // Kysely runs every query as query(text, values); a prepared text goes as a named statement instead.
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      client.query = ((...args: unknown[]) => {
        const [text, values] = args;
        const name = args.length === 2 && typeof text === 'string' && Array.isArray(values) ? preparedNames.get(text) : undefined;
        return name === undefined ? query(...args) : query({ name, text, values });
      }) as typeof client.query;
    });
    kysely = new Kysely({ dialect: new PostgresDialect({ pool }) });
    listener = new PgListener(options.databaseUrl, options.logger, (channel, payload) => local.emit(channel, payload));
  } else {
    dialect = sqliteDialect;
    if (options.readOnly) {
      sqlite = new Database(options.sqliteFile, { readonly: true, fileMustExist: true });
    } else {
      mkdirSync(dirname(options.sqliteFile), { recursive: true });
      sqlite = new Database(options.sqliteFile);
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = NORMAL');
      sqlite.pragma('foreign_keys = ON');
    }
    sqlite.pragma('busy_timeout = 5000');
    // 64 MiB page cache: bulk catalog writes touch many index pages.
    sqlite.pragma('cache_size = -65536');
    kysely = new Kysely({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  }

  const emitLocal = (channel: string, payload: string) => local.emit(channel, payload);

  async function pgNotify(db: Kysely<unknown>, channel: string, payload: string) {
    await sql`select pg_notify(${channel}, ${payload})`.execute(db);
  }

  // Outside a transaction, concurrent notifies of one (channel, payload) share a round trip: PostgreSQL
  // serializes every notifying commit on one lock, so a notify per enqueue caps the enqueue rate. A
  // caller joins a send that has not started yet (it starts after the caller's change committed);
  // one already in flight may have started before, so the caller waits for the next.
  const pendingNotifies = new Map<string, { next?: Promise<void>; inFlight?: Promise<void> }>();
  function coalescedPgNotify(channel: string, payload: string): Promise<void> {
    const key = `${channel}\u0000${payload}`;
    let slot = pendingNotifies.get(key);
    if (!slot) pendingNotifies.set(key, (slot = {}));
    const entry = slot;
    if (entry.next) return entry.next;
    const send = async () => {
      entry.next = undefined;
      const current = pgNotify(kysely, channel, payload);
      entry.inFlight = current;
      try {
        await current;
      } finally {
        if (entry.inFlight === current) entry.inFlight = undefined;
        if (!entry.inFlight && !entry.next) pendingNotifies.delete(key);
      }
    };
    const next = (entry.inFlight ?? Promise.resolve()).then(send, send);
    entry.next = next;
    return next;
  }

  function makeTx(trx: Kysely<unknown>, hooks: (() => void)[]): Tx {
    const tx: Tx = {
      sqlite,
      tables: <T>() => trx as unknown as Kysely<T>,
      transaction: (fn) => fn(tx),
      afterCommit: (fn) => hooks.push(fn),
      notify: async (channel, payload = '') => {
        if (dialect.listenNotify) await pgNotify(trx, channel, payload);
        hooks.push(() => emitLocal(channel, payload));
      },
    };
    return tx;
  }

  const migrator = (migrations: readonly Migration[]) =>
    new Migrator({
      db: kysely,
      migrationTableName: 'kernel_migrations',
      migrationLockTableName: 'kernel_migrations_lock',
      // Layers land at different times; a newer layer may carry an older date.
      allowUnorderedMigrations: true,
      provider: {
        getMigrations: async () =>
          Object.fromEntries(
            migrations.map((m): [string, KyselyMigration] => [m.name, { up: (db) => m.up(db, dialect.ddl) }]),
          ),
      },
    });
  let knownMigrations: readonly Migration[] = [];
  let allApplied = false;

  return {
    dialect,
    sqliteFile: options.databaseUrl ? undefined : options.sqliteFile,
    tables: <T>() => kysely as unknown as Kysely<T>,
    async transaction(fn) {
      const hooks: (() => void)[] = [];
      const result = await kysely.transaction().execute((trx) => fn(makeTx(trx, hooks)));
      for (const hook of hooks) hook();
      return result;
    },
    async notify(channel, payload = '') {
      if (dialect.listenNotify) await coalescedPgNotify(channel, payload);
      emitLocal(channel, payload);
    },
    async migrate(migrations) {
      if (options.readOnly) throw new Error('a read-only store does not migrate');
      knownMigrations = migrations;
      const names = new Set<string>();
      for (const m of migrations) {
        if (names.has(m.name)) throw new Error(`duplicate migration name ${m.name}`);
        names.add(m.name);
      }
      const { error, results } = await migrator(migrations).migrateToLatest();
      if (error) throw new Error('migration failed', { cause: error });
      allApplied = true;
      return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
    },
    async migrationsApplied() {
      if (allApplied) return true;
      const infos = await migrator(knownMigrations).getMigrations();
      return infos.length > 0 && infos.every((m) => m.executedAt !== undefined);
    },
    async ping() {
      await sql`select 1`.execute(kysely);
    },
    prepare(sqlText) {
      if (pool && !preparedNames.has(sqlText) && preparedNames.size < MAX_PREPARED) preparedNames.set(sqlText, `plinth_${preparedNames.size + 1}`);
    },
    listen(channel, fn) {
      local.on(channel, fn);
      listener?.listen(channel);
      return () => local.off(channel, fn);
    },
    listening: () => listener?.ready() ?? Promise.resolve(),
    async destroy() {
      await listener?.close();
      await kysely.destroy();
    },
  };
}

/**
 * One dedicated PostgreSQL connection for LISTEN. It reconnects with backoff when the server goes
 * away and then wakes every channel, since notifications sent while it was gone are lost.
 */
class PgListener {
  private client: pg.Client | undefined;
  private readonly channels = new Set<string>();
  private closed = false;
  private connecting: Promise<void> | undefined;
  private pendingListen: Promise<unknown> | undefined;
  private backoffMs = 250;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    private readonly deliver: (channel: string, payload: string) => void,
  ) {}

  listen(channel: string): void {
    if (this.channels.has(channel)) return;
    this.channels.add(channel);
    if (this.client) {
      this.pendingListen = this.client.query(`LISTEN ${quoteIdent(channel)}`).catch(() => this.reconnectSoon());
    } else {
      void this.connect();
    }
  }

  private connect(): Promise<void> {
    if (this.connecting || this.closed) return this.connecting ?? Promise.resolve();
    this.connecting = (async () => {
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 3000 });
      client.on('notification', (n) => this.deliver(n.channel, n.payload ?? ''));
      client.on('error', () => this.reconnectSoon());
      client.on('end', () => this.reconnectSoon());
      try {
        await client.connect();
        for (const channel of this.channels) await client.query(`LISTEN ${quoteIdent(channel)}`);
        if (this.closed) {
          await client.end();
          return;
        }
        const wasReconnect = this.backoffMs > 250;
        this.client = client;
        this.backoffMs = 250;
        if (wasReconnect) for (const channel of this.channels) this.deliver(channel, '');
      } catch (err) {
        client.end().catch(() => undefined);
        this.logger.warn({ err: (err as Error).message }, 'postgres listener cannot connect; retrying');
        this.scheduleRetry();
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  /** Waits for the current connection attempt and pending LISTENs (bounded, so a down server never blocks callers). */
  async ready(): Promise<void> {
    const wait = Promise.all([this.connecting, this.pendingListen]);
    await Promise.race([wait, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
  }

  private reconnectSoon(): void {
    if (this.closed) return;
    const old = this.client;
    this.client = undefined;
    old?.removeAllListeners('end');
    old?.end().catch(() => undefined);
    this.scheduleRetry();
  }

  private retryTimer: NodeJS.Timeout | undefined;
  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    this.backoffMs = Math.min(this.backoffMs * 2, 5000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, this.backoffMs);
    this.retryTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
    }
  }
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid channel name ${name}`);
  return `"${name}"`;
}

/** Statements longer than this (bulk inserts with their own row counts) are not worth keeping. */
const MAX_CACHED_SQL = 4096;
const MAX_CACHED_STATEMENTS = 500;

/**
 * Kysely prepares every query anew; compiling the SQL costs SQLite a good part of a small query's
 * time. Statements are kept by their text (the same query shape reuses its statement). Safe because
 * Kysely runs each statement to completion synchronously (we never stream results).
 */
function withStatementCache(db: Database.Database): Pick<Database.Database, 'prepare' | 'close'> {
  const statements = new Map<string, Database.Statement>();
  return {
    prepare(text: string) {
      if (text.length > MAX_CACHED_SQL) return db.prepare(text);
      let statement = statements.get(text);
      if (!statement) {
        statement = db.prepare(text);
        if (statements.size >= MAX_CACHED_STATEMENTS) statements.delete(statements.keys().next().value!);
        statements.set(text, statement);
      }
      return statement;
    },
    close: () => db.close(),
  } as Pick<Database.Database, 'prepare' | 'close'>;
}
