import type { Kysely, RawBuilder } from 'kysely';
import type { Database } from './schema.js';

export type SqlDialectName = 'sqlite' | 'postgres';

/**
 * One open SQL database and what differs between the dialects. The stores are written once against this
 * seam; `sqlite-database.ts` and `postgres-database.ts` are its two implementations.
 */
export interface SqlDatabase {
  readonly dialect: SqlDialectName;
  readonly db: Kysely<Database>;
  /**
   * Runs `fn` in one write transaction: all of it commits or none of it does. SQLite takes the write lock
   * up front (`BEGIN IMMEDIATE`, waiting up to the busy timeout) so a transaction never fails half-way on a
   * lock upgrade; PostgreSQL uses READ COMMITTED with row locks.
   */
  transaction<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /** Serialises schema migrations across processes, inside a `transaction`. */
  lockForMigration(trx: Kysely<Database>): Promise<void>;
  /** A case-sensitive SQL LIKE (`%` and `_` wildcards, a backslash escapes the next character; see `like-pattern.ts`). */
  like(expression: RawBuilder<unknown>, pattern: string): RawBuilder<boolean>;
  /** A case-insensitive SQL LIKE. */
  ilike(expression: RawBuilder<unknown>, pattern: string): RawBuilder<boolean>;
  /** A text expression ordered byte-wise, the same on both dialects. */
  orderText(expression: RawBuilder<unknown>): RawBuilder<unknown>;
  /** Whether `error` is a UNIQUE or PRIMARY KEY violation. */
  isUniqueViolation(error: unknown): boolean;
  close(): Promise<void>;
}

/** The driver's error code (`SQLITE_BUSY`, PostgreSQL's SQLSTATE such as `23505`), if any. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** Rows or ids per statement: keeps IN lists and multi-row inserts well under every driver's parameter limit. */
export const STATEMENT_CHUNK = 500;

/** `items` in consecutive pieces of at most `size`. */
export function chunks<T>(items: readonly T[], size = STATEMENT_CHUNK): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
