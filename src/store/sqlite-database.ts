import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDriver from 'better-sqlite3';
import { type CompiledQuery, Kysely, type RawBuilder, SqliteDialect, sql } from 'kysely';
import { OnsetError } from '../errors.js';
import { toEscapedLike, toGlob } from './like-pattern.js';
import { errorCode, insertInto, type SqlDatabase, typedDatabase } from './sql-database.js';

/** How long a writer waits for another process's write lock before giving up (ms). */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * The most each connection keeps of the file's pages in memory (KiB): SQLite's own default. better-sqlite3
 * is built with 16 MiB, and a server holds several connections (the platform's, the prediction log's
 * writing thread's, one per serving worker): the log's appends alone filled the writing thread's cache
 * with pages it never reads again, 21 MB more resident memory under load. Reads past the cache come from
 * the operating system's page cache.
 */
const CACHE_KIB = 2_000;

/**
 * `PRAGMA journal_mode = WAL`, tried again while another process holds the lock the switch needs: when
 * processes open a new file together, SQLite answers SQLITE_BUSY at once rather than through the busy
 * handler. Gives up after `SQLITE_BUSY_TIMEOUT_MS`, as a writer does.
 */
function enableWal(handle: SqliteDriver.Database): void {
  const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let waitMs = 1; ; waitMs = Math.min(waitMs * 2, 50)) {
    try {
      handle.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (errorCode(error) !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      // Opening is synchronous: the thread sleeps, as the busy handler would.
      Atomics.wait(pause, 0, 0, waitMs);
    }
  }
}

/**
 * Opens (creating when missing) a SQLite database file for the stores: WAL journal (readers never block
 * the writer), `synchronous=NORMAL` (durable across process crashes; the last transactions may be lost on
 * power loss), a busy timeout so concurrent processes queue for the write lock, foreign keys on, and a
 * page cache of `CACHE_KIB`.
 */
export function openSqliteDatabase(path: string): SqlDatabase {
  mkdirSync(dirname(path), { recursive: true });
  let handle: SqliteDriver.Database;
  try {
    handle = new SqliteDriver(path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    handle.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    enableWal(handle);
    handle.pragma('synchronous = NORMAL');
    handle.pragma('foreign_keys = ON');
    handle.pragma(`cache_size = -${CACHE_KIB}`);
  } catch (error) {
    throw new OnsetError(
      'INVALID_PARAMETER_VALUE',
      `Cannot open the SQLite store at ${path}: ${String(error)}`,
      { cause: error },
    );
  }
  const db = new Kysely<object>({ dialect: new SqliteDialect({ database: handle }) });
  let closed = false;
  async function transaction<T>(fn: (trx: Kysely<object>) => Promise<T>): Promise<T> {
    return db.connection().execute(async (connection) => {
      try {
        await sql`BEGIN IMMEDIATE`.execute(connection);
      } catch (error) {
        throw translateSqliteError(error);
      }
      try {
        const result = await fn(connection);
        await sql`COMMIT`.execute(connection);
        return result;
      } catch (error) {
        if (handle.inTransaction) await sql`ROLLBACK`.execute(connection);
        throw translateSqliteError(error);
      }
    });
  }
  /** Prepared once per table and columns (preparing costs more than running), each in its transaction. */
  const inserts = new Map<string, { immediate(count: number, valuesOf: RowValues): void }>();
  async function insertRows(
    table: string,
    columns: readonly string[],
    count: number,
    valuesOf: RowValues,
  ): Promise<void> {
    if (count === 0) return;
    const width = columns.length;
    const key = `${table}(${columns.join(',')})`;
    let insertAll = inserts.get(key);
    if (insertAll === undefined) {
      // Rows in statements of several rows: a statement per row spent a quarter of the time of a row of
      // the prediction log (41 values) in running the statement rather than in storing the row.
      const perStatement = Math.max(1, Math.min(ROWS_PER_INSERT, Math.floor(MAX_PARAMETERS / width)));
      const row = `(${columns.map(() => '?').join(', ')})`;
      const many = handle.prepare(
        `${insertInto(table, columns)} VALUES ${Array(perStatement).fill(row).join(', ')}`,
      );
      const one = handle.prepare(`${insertInto(table, columns)} VALUES ${row}`);
      insertAll = handle.transaction((rows: number, fill: RowValues) => {
        const values: unknown[] = new Array(width * perStatement);
        let next = 0;
        for (; next + perStatement <= rows; next += perStatement) {
          for (let r = 0; r < perStatement; r++) fill(next + r, values, r * width);
          many.run(values);
        }
        values.length = width;
        for (; next < rows; next++) {
          fill(next, values, 0);
          one.run(values);
        }
      });
      inserts.set(key, insertAll);
    }
    const run = insertAll;
    // On the connection Kysely lends one caller at a time: never inside another caller's transaction.
    await db.connection().execute(async () => {
      try {
        run.immediate(count, valuesOf);
      } catch (error) {
        throw translateSqliteError(error);
      }
    });
  }
  /** SELECTs prepared once by their text, in raw mode (rows as arrays). */
  const selects = new Map<string, SqliteDriver.Statement>();
  async function selectRows(query: CompiledQuery): Promise<unknown[][]> {
    // On the connection Kysely lends one caller at a time, as every other statement.
    return db.connection().execute(async () => {
      try {
        let statement = selects.get(query.sql);
        if (statement === undefined) {
          statement = handle.prepare(query.sql).raw(true);
          selects.set(query.sql, statement);
        }
        return statement.all(...query.parameters) as unknown[][];
      } catch (error) {
        throw translateSqliteError(error);
      }
    });
  }
  return typedDatabase({
    dialect: 'sqlite',
    db,
    transaction,
    insertRows,
    selectRows,
    // BEGIN IMMEDIATE holds the database's write lock for the whole run: other processes wait for it.
    withMigrationLock: transaction,
    like(expression: RawBuilder<unknown>, pattern: string): RawBuilder<boolean> {
      // SQLite's LIKE ignores ASCII case; GLOB is its case-sensitive matcher.
      return sql<boolean>`(${expression} GLOB ${toGlob(pattern)})`;
    },
    ilike(expression: RawBuilder<unknown>, pattern: string): RawBuilder<boolean> {
      // ASCII letters only: SQLite folds the case of ASCII characters in LIKE.
      return sql<boolean>`(${expression} LIKE ${toEscapedLike(pattern)} ESCAPE '\\')`;
    },
    orderText(expression: RawBuilder<unknown>): RawBuilder<unknown> {
      return expression;
    },
    isUniqueViolation(error: unknown): boolean {
      const code = errorCode(error);
      return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  });
}

type RowValues = (row: number, values: unknown[], offset: number) => void;

/** Rows per INSERT statement of `insertRows`, and SQLite's limit of parameters per statement. */
const ROWS_PER_INSERT = 50;
const MAX_PARAMETERS = 32_766;

function translateSqliteError(error: unknown): unknown {
  const code = errorCode(error);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new OnsetError(
      'TEMPORARILY_UNAVAILABLE',
      `The SQLite store is locked by another writer for more than ${SQLITE_BUSY_TIMEOUT_MS} ms; retry later`,
      { cause: error },
    );
  }
  return error;
}
