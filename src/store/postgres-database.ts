import { createRequire } from 'node:module';
import { CompiledQuery, Kysely, PostgresDialect, type RawBuilder, sql } from 'kysely';
import type pg from 'pg';
import { OnsetError } from '../errors.js';
import { toEscapedLike } from './like-pattern.js';
import { errorCode, insertInto, type SqlDatabase, typedDatabase } from './sql-database.js';

const INT8_OID = 20;

/**
 * The `pg` driver, loaded when a PostgreSQL store is first opened rather than with this module: every
 * process and thread that opens a store imports this module (each serving worker, the prediction log's
 * writing thread), and `pg` took 3 MB of each one's heap on a server that uses SQLite.
 */
function loadPg(): typeof pg {
  return createRequire(import.meta.url)('pg') as typeof pg;
}

/** Parameters per statement: PostgreSQL's protocol takes at most 65,535. */
const MAX_PARAMETERS = 65_535;

/**
 * Opens a connection pool to a PostgreSQL database (`postgres://` or `postgresql://` URL). BIGINT columns
 * (millisecond timestamps, steps) are read as JS numbers, which hold them exactly up to 2^53.
 */
export function openPostgresDatabase(url: string, options: { maxConnections?: number } = {}): SqlDatabase {
  const pg = loadPg();
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID && format !== 'binary'
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // A connection the server ends (a restart, a failover) emits 'error' on its client. An idle client's
  // reaches the pool's listener; a checked-out one's (between the statements of a transaction) would have
  // none and crash the process. The query in flight rejects with that error anyway, and a broken client
  // leaves the pool when released: the next query connects afresh.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const server = new URL(url).host;
  const db = new Kysely<object>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  /** INSERT statements by their text's key (table, columns, rows): written once. */
  const inserts = new Map<string, string>();
  const insertText = (table: string, columns: readonly string[], rows: number): string => {
    const key = `${table}\u0000${columns.join(',')}\u0000${rows}`;
    let text = inserts.get(key);
    if (text === undefined) {
      const width = columns.length;
      const tuples = Array.from(
        { length: rows },
        (_, r) => `(${columns.map((_, c) => `$${r * width + c + 1}`).join(',')})`,
      );
      text = `${insertInto(table, columns)} VALUES ${tuples.join(',')}`;
      inserts.set(key, text);
    }
    return text;
  };
  const run = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw translatePostgresError(error, server);
    }
  };
  return typedDatabase({
    dialect: 'postgres',
    db,
    async insertRows(table, columns, count, valuesOf) {
      if (count === 0) return;
      const width = columns.length;
      const perStatement = Math.max(1, Math.min(500, Math.floor(MAX_PARAMETERS / width)));
      const statements: CompiledQuery[] = [];
      for (let start = 0; start < count; start += perStatement) {
        const rows = Math.min(perStatement, count - start);
        const parameters: unknown[] = new Array(rows * width);
        for (let row = 0; row < rows; row++) valuesOf(start + row, parameters, row * width);
        statements.push(CompiledQuery.raw(insertText(table, columns, rows), parameters));
      }
      // One statement is atomic by itself; several share a transaction.
      if (statements.length === 1) {
        await run(() => db.executeQuery(statements[0]!));
        return;
      }
      await run(() =>
        db.transaction().execute(async (trx) => {
          for (const statement of statements) await trx.executeQuery(statement);
        }),
      );
    },
    async selectRows(query) {
      const result = await run(() =>
        pool.query<unknown[]>({ text: query.sql, values: [...query.parameters], rowMode: 'array' }),
      );
      return result.rows;
    },
    async transaction<T>(fn: (trx: Kysely<object>) => Promise<T>): Promise<T> {
      try {
        return await db.transaction().execute(fn);
      } catch (error) {
        throw translatePostgresError(error, server);
      }
    },
    // Kysely's Migrator takes a session advisory lock and migrates in one transaction on PostgreSQL.
    withMigrationLock: (fn) => fn(db),
    like(expression: RawBuilder<unknown>, pattern: string): RawBuilder<boolean> {
      return sql<boolean>`(${expression} LIKE ${toEscapedLike(pattern)} ESCAPE '\\')`;
    },
    ilike(expression: RawBuilder<unknown>, pattern: string): RawBuilder<boolean> {
      return sql<boolean>`(${expression} ILIKE ${toEscapedLike(pattern)} ESCAPE '\\')`;
    },
    orderText(expression: RawBuilder<unknown>): RawBuilder<unknown> {
      return sql`${expression} COLLATE "C"`;
    },
    isUniqueViolation(error: unknown): boolean {
      return errorCode(error) === '23505';
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  });
}

/** SQLSTATEs of a server going away or not taking connections: admin or crash shutdown, starting up. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03']);
const UNREACHABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);

/**
 * A connection lost or refused (the server restarting, down or unreachable) as TEMPORARILY_UNAVAILABLE, to
 * be retried later. Other errors are returned as they are. (A connection lost during COMMIT leaves it
 * unknown whether the transaction committed: the message does not claim either way.)
 */
function translatePostgresError(error: unknown, server: string): unknown {
  const code = errorCode(error) ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (
    UNAVAILABLE_STATES.has(code) ||
    code.startsWith('08') ||
    UNREACHABLE_ERRNOS.has(code) ||
    /^Connection terminated|not queryable/.test(message)
  ) {
    return new OnsetError(
      'TEMPORARILY_UNAVAILABLE',
      `The PostgreSQL store at ${server} is unavailable: restarting, down or unreachable (${message}); retry later`,
      { cause: error },
    );
  }
  return error;
}
