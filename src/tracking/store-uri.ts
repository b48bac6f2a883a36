import { isAbsolute, resolve } from 'node:path';
import { invalidParameter } from '../errors.js';
import type { PipelineStore } from '../pipelines/pipeline-store.js';
import type { RegistryStore } from './registry-store.js';
import { parseFilter, parseOrderBy } from './search/filter-parser.js';
import { openPostgresDatabase } from './sql/postgres-database.js';
import { openSqlStores } from './sql/sql-stores.js';
import type { OwnerProcess } from './sql/sql-tracking-store.js';
import { openSqliteDatabase } from './sql/sqlite-database.js';
import type { TrackingStore } from './tracking-store.js';

export interface StoreOptions {
  /** Artifact root URI (`file:///...`, `s3://bucket/prefix`): experiments default to `<root>/<id>`. */
  readonly artifactRoot: string;
  /**
   * Recorded as the `onset.pid`/`onset.host` tags of created runs so that `failAbandonedRuns` can tell
   * when their process died. Defaults to this process; a server creating runs for remote clients passes
   * `null`.
   */
  readonly ownerProcess?: OwnerProcess | null;
}

export interface Stores {
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  /** Pipeline runs, logs and schedules, in the same database. */
  readonly pipelines: PipelineStore;
  /** Closes the connection the stores share. */
  close(): Promise<void>;
}

interface StoreScheme {
  /** How the scheme is written, for the error listing known schemes. */
  readonly example: string;
  matches(uri: string): boolean;
  open(uri: string, options: StoreOptions): Promise<Stores>;
}

const PARSER = { parseFilter, parseOrderBy };

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

async function openSqlite(path: string, options: StoreOptions): Promise<Stores> {
  return openSqlStores(openSqliteDatabase(path), { ...options, parser: PARSER });
}

/** The store backends by URI scheme; the error for an unknown scheme lists them. */
export const STORE_SCHEMES: readonly StoreScheme[] = [
  {
    example: 'sqlite:///absolute/path.db, sqlite:relative/path.db or a bare file path (SQLite)',
    matches: (uri) => uri.startsWith('sqlite:') || isBarePath(uri),
    open: (uri, options) => openSqlite(uri.startsWith('sqlite:') ? sqlitePath(uri) : resolve(uri), options),
  },
  {
    example: 'postgres://user@host:port/database or postgresql://... (PostgreSQL)',
    matches: (uri) => uri.startsWith('postgres://') || uri.startsWith('postgresql://'),
    open: (uri, options) => openSqlStores(openPostgresDatabase(uri), { ...options, parser: PARSER }),
  },
];

/**
 * Opens the tracking and registry stores at `uri`, chosen by scheme (see `STORE_SCHEMES`), migrating the
 * schema when needed. Abandoned runs are not failed here: the caller (e.g. the server at start-up) calls
 * `tracking.failAbandonedRuns(reason)` when it decides to.
 */
export async function openStore(uri: string, options: StoreOptions): Promise<Stores> {
  const scheme = STORE_SCHEMES.find((candidate) => candidate.matches(uri));
  if (!scheme) {
    throw invalidParameter(
      `Unsupported tracking store URI "${uri}": known schemes are ${STORE_SCHEMES.map((s) => s.example).join('; ')}`,
    );
  }
  const stores = await scheme.open(uri, options);
  return {
    tracking: stores.tracking,
    registry: stores.registry,
    pipelines: stores.pipelines,
    close: () => stores.close(),
  };
}
