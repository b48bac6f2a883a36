import { migrate } from '../../store/migrations.js';
import type { SqlDatabase } from '../../store/sql-database.js';
import type { OwnerProcess } from '../../util/process.js';
import type { LoggedModelStore } from '../logged-model-store.js';
import type { RegistryStore } from '../registry-store.js';
import { parseFilter, parseOrderBy } from '../search/filter-parser.js';
import type { TrackingStore } from '../tracking-store.js';
import { trackingMigrations } from './migrations.js';
import type { TrackingTables } from './schema.js';
import { SqlLoggedModelStore } from './sql-logged-model-store.js';
import { SqlRegistryStore } from './sql-registry-store.js';
import { SqlTrackingStore } from './sql-tracking-store.js';

export interface TrackingStoreOptions {
  /** Artifact root URI (`file:///...`, `s3://bucket/prefix`): experiments default to `<root>/<id>`. */
  readonly artifactRoot: string;
  /**
   * Recorded as the `onset.pid`/`onset.host`/`onset.process_start` tags of created runs so that `failAbandonedRuns` can tell
   * when their process died. Defaults to this process; a server creating runs for remote clients passes
   * `null`.
   */
  readonly ownerProcess?: OwnerProcess | null;
}

export interface TrackingStores {
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  /** MLflow 3's logged models, in the same database. */
  readonly loggedModels: LoggedModelStore;
}

/**
 * Migrates the tracking and registry tables of `database` (a no-op when they are up to date) and opens
 * the tracking, registry and logged-model stores over it. `tracking.close()` closes `database`.
 */
export async function openTrackingStores(
  database: SqlDatabase,
  options: TrackingStoreOptions,
): Promise<TrackingStores> {
  await migrate(database, trackingMigrations({ artifactRoot: options.artifactRoot }));
  const tables = database.withTables<TrackingTables>();
  const parser = { parseFilter, parseOrderBy };
  const tracking = new SqlTrackingStore(tables, {
    artifactRoot: options.artifactRoot,
    parser,
    ...(options.ownerProcess === undefined ? {} : { ownerProcess: options.ownerProcess }),
  });
  return {
    tracking,
    registry: new SqlRegistryStore(tables, { parser }),
    loggedModels: new SqlLoggedModelStore(tables, { artifactRoot: options.artifactRoot, parser }),
  };
}
