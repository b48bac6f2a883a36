import type { PipelineStore } from '../../pipelines/pipeline-store.js';
import { SqlPipelineStore } from '../../pipelines/sql-pipeline-store.js';
import type { RegistryStore } from '../registry-store.js';
import type { TrackingStore } from '../tracking-store.js';
import { migrate } from './migrations.js';
import type { SearchParser } from './search-parser.js';
import type { SqlDatabase } from './sql-database.js';
import { SqlRegistryStore } from './sql-registry-store.js';
import { type OwnerProcess, SqlTrackingStore } from './sql-tracking-store.js';

export interface SqlStoreOptions {
  /** Artifact root URI; experiments default to `<artifactRoot>/<experimentId>`. */
  readonly artifactRoot: string;
  readonly parser: SearchParser;
  /** Owner recorded on created runs (see `SqlTrackingStore`); default this process, `null` for none. */
  readonly ownerProcess?: OwnerProcess | null;
}

export interface SqlStores {
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  readonly pipelines: PipelineStore;
  readonly database: SqlDatabase;
  /** Closes the shared database (idempotent); `tracking.close()` does the same. */
  close(): Promise<void>;
}

/**
 * Migrates `database` to the current schema (a no-op when it is up to date) and opens both stores over
 * it. On a migration failure the database is closed and the error rethrown.
 */
export async function openSqlStores(database: SqlDatabase, options: SqlStoreOptions): Promise<SqlStores> {
  try {
    await migrate(database, { artifactRoot: options.artifactRoot });
  } catch (error) {
    await database.close();
    throw error;
  }
  const close = () => database.close();
  const tracking = new SqlTrackingStore(
    database,
    {
      artifactRoot: options.artifactRoot,
      parser: options.parser,
      ...(options.ownerProcess === undefined ? {} : { ownerProcess: options.ownerProcess }),
    },
    close,
  );
  const registry = new SqlRegistryStore(database, { parser: options.parser });
  return { tracking, registry, pipelines: new SqlPipelineStore(database), database, close };
}
