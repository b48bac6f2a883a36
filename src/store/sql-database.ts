import type { CompiledQuery, Kysely, RawBuilder } from 'kysely';

export type SqlDialectName = 'sqlite' | 'postgres';

/**
 * One open SQL database and what differs between the dialects. Each capability's store is written once
 * against this seam, typed with its own tables (`withTables`); `sqlite-database.ts` and
 * `postgres-database.ts` are its two implementations. The layer knows no capability's tables.
 *
 * `DB` maps table names to row interfaces, as Kysely types them; a database fresh from `openDatabase`
 * knows no tables (`object`).
 */
export interface SqlDatabase<DB extends object = object> {
  readonly dialect: SqlDialectName;
  readonly db: Kysely<DB>;
  /**
   * Runs `fn` in one write transaction: all of it commits or none of it does. SQLite takes the write lock
   * up front (`BEGIN IMMEDIATE`, waiting up to the busy timeout) so a transaction never fails half-way on a
   * lock upgrade; PostgreSQL uses READ COMMITTED with row locks.
   */
  transaction<T>(fn: (trx: Kysely<DB>) => Promise<T>): Promise<T>;
  /**
   * Runs Kysely's `Migrator` (`fn`) so that processes migrating one database at once take turns and the
   * later ones find nothing left to do: on SQLite inside `BEGIN IMMEDIATE` (Kysely's SqliteAdapter takes
   * no lock, as it assumes one process, and runs no transaction), on PostgreSQL on the pool (Kysely's
   * PostgresAdapter takes an advisory lock and runs the migrations in one transaction).
   */
  withMigrationLock<T>(fn: (db: Kysely<DB>) => Promise<T>): Promise<T>;
  /** A case-sensitive SQL LIKE (`%` and `_` wildcards, a backslash escapes the next character; see `like-pattern.ts`). */
  like(expression: RawBuilder<unknown>, pattern: string): RawBuilder<boolean>;
  /** A case-insensitive SQL LIKE. */
  ilike(expression: RawBuilder<unknown>, pattern: string): RawBuilder<boolean>;
  /** A text expression ordered byte-wise, the same on both dialects. */
  orderText(expression: RawBuilder<unknown>): RawBuilder<unknown>;
  /**
   * Appends `count` rows to `table`, all of them or none: `valuesOf(i, values, offset)` writes row i's
   * values into `values` from `offset` on, in the order of `columns` (plain names, quoted here);
   * `values` is reused. The path of a capability that appends many rows often (the prediction log), with
   * no object per row or value: multi-row INSERTs, in one transaction.
   */
  insertRows(
    table: string,
    columns: readonly string[],
    count: number,
    valuesOf: (row: number, values: unknown[], offset: number) => void,
  ): Promise<void>;
  /**
   * Runs a compiled SELECT and answers its rows as arrays, in the order of its select list: the path of
   * a capability that reads many rows of many columns (the prediction log's windows), with no object
   * per row (SQLite's raw mode, PostgreSQL's array row mode). Values are as the drivers give them.
   */
  selectRows(query: CompiledQuery): Promise<unknown[][]>;
  /** Whether `error` is a UNIQUE or PRIMARY KEY violation. */
  isUniqueViolation(error: unknown): boolean;
  /** The same database typed with `T`'s tables as well (types only: the connection is shared). */
  withTables<T extends object>(): SqlDatabase<DB & T>;
  /** Closes the connection (idempotent); every view `withTables` made shares it. */
  close(): Promise<void>;
}

/** What a dialect implements; `typedDatabase` makes a `SqlDatabase` of any tables over it. */
export type SqlDialectImplementation = Omit<SqlDatabase, 'withTables'>;

/**
 * The `SqlDatabase` view of `implementation` typed with tables `DB`. Table types exist only at compile
 * time (Kysely's own `withTables` is the same cast), so every view runs on the one connection.
 */
export function typedDatabase<DB extends object>(implementation: SqlDialectImplementation): SqlDatabase<DB> {
  const typed = (db: Kysely<object>) => db as unknown as Kysely<DB>;
  return {
    dialect: implementation.dialect,
    db: typed(implementation.db),
    transaction: (fn) => implementation.transaction((trx) => fn(typed(trx))),
    withMigrationLock: (fn) => implementation.withMigrationLock((db) => fn(typed(db))),
    like: (expression, pattern) => implementation.like(expression, pattern),
    ilike: (expression, pattern) => implementation.ilike(expression, pattern),
    orderText: (expression) => implementation.orderText(expression),
    insertRows: (table, columns, count, valuesOf) =>
      implementation.insertRows(table, columns, count, valuesOf),
    selectRows: (query) => implementation.selectRows(query),
    isUniqueViolation: (error) => implementation.isUniqueViolation(error),
    withTables: <T extends object>() => typedDatabase<DB & T>(implementation),
    close: () => implementation.close(),
  };
}

/** The driver's error code (`SQLITE_BUSY`, PostgreSQL's SQLSTATE such as `23505`), if any. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `INSERT INTO table ("a", "b", ...)`, refusing names that would need escaping (they come from code, not users). */
export function insertInto(table: string, columns: readonly string[]): string {
  for (const name of [table, ...columns]) {
    if (!NAME.test(name)) throw new Error(`Not a plain SQL name: ${JSON.stringify(name)}`);
  }
  return `INSERT INTO ${table} (${columns.map((column) => `"${column}"`).join(', ')})`;
}

/** Rows or ids per statement: keeps IN lists and multi-row inserts well under every driver's parameter limit. */
export const STATEMENT_CHUNK = 500;

/** `items` in consecutive pieces of at most `size`. */
export function chunks<T>(items: readonly T[], size = STATEMENT_CHUNK): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
