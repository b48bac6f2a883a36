import { Kysely, PostgresDialect, type RawBuilder, sql } from 'kysely';
import pg from 'pg';
import { toEscapedLike } from './like-pattern.js';
import { errorCode, type SqlDatabase, typedDatabase } from './sql-database.js';

const INT8_OID = 20;

/**
 * Opens a connection pool to a PostgreSQL database (`postgres://` or `postgresql://` URL). BIGINT columns
 * (millisecond timestamps, steps) are read as JS numbers, which hold them exactly up to 2^53.
 */
export function openPostgresDatabase(url: string, options: { maxConnections?: number } = {}): SqlDatabase {
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
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<object>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return typedDatabase({
    dialect: 'postgres',
    db,
    transaction<T>(fn: (trx: Kysely<object>) => Promise<T>): Promise<T> {
      return db.transaction().execute(fn);
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
