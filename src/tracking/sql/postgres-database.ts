import { Kysely, PostgresDialect, type RawBuilder, sql } from 'kysely';
import pg from 'pg';
import { toEscapedLike } from './like-pattern.js';
import type { Database } from './schema.js';
import { errorCode, type SqlDatabase } from './sql-database.js';

const INT8_OID = 20;
/** An arbitrary constant naming Onset's migration lock among PostgreSQL advisory locks. */
const MIGRATION_LOCK_KEY = 0x0_5e7_7ac;

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
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    dialect: 'postgres',
    db,
    transaction<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
      return db.transaction().execute(fn);
    },
    async lockForMigration(trx: Kysely<Database>): Promise<void> {
      await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(trx);
    },
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
  };
}
