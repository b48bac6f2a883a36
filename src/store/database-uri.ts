/**
 * Opens the SQL database a URI names, by scheme: SQLite (`sqlite:///abs/path.db`, `sqlite:relative.db` or
 * a bare file path) or PostgreSQL (`postgres://`, `postgresql://`). Unknown schemes are refused with the
 * list of known ones. The database comes back with no tables known: each capability migrates and types
 * its own.
 */
import { isAbsolute, resolve } from 'node:path';
import { invalidParameter } from '../errors.js';
import { openPostgresDatabase } from './postgres-database.js';
import type { SqlDatabase } from './sql-database.js';
import { openSqliteDatabase } from './sqlite-database.js';

interface DatabaseScheme {
  /** How the scheme is written, for the error listing known schemes. */
  readonly example: string;
  matches(uri: string): boolean;
  open(uri: string): SqlDatabase;
}

/** `sqlite:///abs/path.db` (absolute), `sqlite:relative.db` or `sqlite:/abs/path.db` → a file path. */
export function sqlitePath(uri: string): string {
  const rest = uri.slice('sqlite:'.length);
  if (rest.startsWith('///')) return rest.slice(2).replace(/^\/+/, '/');
  if (rest.startsWith('//')) {
    throw invalidParameter(
      `Invalid SQLite store URI "${uri}": write sqlite:///absolute/path.db or sqlite:relative/path.db`,
    );
  }
  if (rest === '') throw invalidParameter(`Invalid SQLite store URI "${uri}": the file path is missing`);
  return resolve(rest);
}

const SCHEME_PATTERN = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** Whether `uri` is a plain file path (no scheme; a one-letter "scheme" is a Windows drive). */
function isBarePath(uri: string): boolean {
  const scheme = SCHEME_PATTERN.exec(uri)?.[0];
  return uri.length > 0 && (scheme === undefined || scheme.length === 2 || isAbsolute(uri));
}

/** The database backends by URI scheme; the error for an unknown scheme lists them. */
export const DATABASE_SCHEMES: readonly DatabaseScheme[] = [
  {
    example: 'sqlite:///absolute/path.db, sqlite:relative/path.db or a bare file path (SQLite)',
    matches: (uri) => uri.startsWith('sqlite:') || isBarePath(uri),
    open: (uri) => openSqliteDatabase(uri.startsWith('sqlite:') ? sqlitePath(uri) : resolve(uri)),
  },
  {
    example: 'postgres://user@host:port/database or postgresql://... (PostgreSQL)',
    matches: (uri) => uri.startsWith('postgres://') || uri.startsWith('postgresql://'),
    open: (uri) => openPostgresDatabase(uri),
  },
];

/** Opens the database at `uri`, chosen by scheme (see `DATABASE_SCHEMES`). */
export function openDatabase(uri: string): SqlDatabase {
  const scheme = DATABASE_SCHEMES.find((candidate) => candidate.matches(uri));
  if (!scheme) {
    throw invalidParameter(
      `Unsupported store URI "${uri}": known schemes are ${DATABASE_SCHEMES.map((s) => s.example).join('; ')}`,
    );
  }
  return scheme.open(uri);
}
