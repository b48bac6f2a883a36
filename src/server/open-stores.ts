/**
 * The platform's stores, composed: one database from the store URI, each capability migrating and
 * typing its own tables in it (tracking and registry, then pipelines), and the artifact store. The CLI and
 * the server open them here.
 */
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { OnsetConfig } from '../config.js';
import type { AlertStore } from '../monitoring/alerts/alert-store.js';
import type { MonitoringCheckStore } from '../monitoring/checks/monitoring-check-store.js';
import type { PredictionLogStore } from '../monitoring/prediction-log/prediction-log-store.js';
import type { PipelineStore } from '../pipelines/pipeline-store.js';
import type { ArtifactStore } from '../tracking/artifacts/artifact-store.js';
import type { LoggedModelStore } from '../tracking/logged-model-store.js';
import type { RegistryStore } from '../tracking/registry-store.js';
import type { TrackingStoreOptions } from '../tracking/sql/open-tracking-stores.js';
import type { TrackingStore } from '../tracking/tracking-store.js';
import { processIsAlive } from '../util/process.js';

export interface Stores {
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  /** MLflow 3's logged models. */
  readonly loggedModels: LoggedModelStore;
  /** Pipeline runs, logs and schedules, in the same database. */
  readonly pipelines: PipelineStore;
  /** Logged predictions and their feedback, in the same database. */
  readonly predictionLog: PredictionLogStore;
  /** The stored results of the drift and performance checks, in the same database. */
  readonly checks: MonitoringCheckStore;
  /** The alerts Alertmanager delivered and what they triggered, in the same database. */
  readonly alertHistory: AlertStore;
  /** Closes the connection the stores share (idempotent). */
  close(): Promise<void>;
}

/**
 * Opens the database at `uri` (a SQLite path or URI, or `postgres://`; see `store/database-uri.ts`),
 * migrates the tracking, then the pipeline, then the monitoring tables (a no-op when they are up to date) and opens the
 * stores over it. On a failure the database is closed and the error rethrown. Abandoned runs are not
 * failed here: `openOnsetStores` does it, or the caller when it decides to.
 */
export async function openStore(uri: string, options: TrackingStoreOptions): Promise<Stores> {
  // Loaded here, not at start-up: the SQL drivers take ~0.3 s to load, and most CLI commands (data,
  // predict, evaluate, explain) never touch the stores.
  const [
    { openDatabase },
    { openTrackingStores },
    { openPipelineStore },
    { openPredictionLogStore },
    { openMonitoringCheckStore },
    { openAlertStore },
  ] = await Promise.all([
    import('../store/database-uri.js'),
    import('../tracking/sql/open-tracking-stores.js'),
    import('../pipelines/sql/sql-pipeline-store.js'),
    import('../monitoring/prediction-log/sql/sql-prediction-log-store.js'),
    import('../monitoring/checks/sql/sql-monitoring-check-store.js'),
    import('../monitoring/alerts/sql/sql-alert-store.js'),
  ]);
  const database = openDatabase(uri);
  try {
    const { tracking, registry, loggedModels } = await openTrackingStores(database, options);
    const pipelines = await openPipelineStore(database);
    const predictionLog = await openPredictionLogStore(database);
    const checks = await openMonitoringCheckStore(database);
    const alertHistory = await openAlertStore(database);
    return {
      tracking,
      registry,
      loggedModels,
      pipelines,
      predictionLog,
      checks,
      alertHistory,
      close: () => database.close(),
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

export interface OnsetStores extends Stores {
  readonly artifacts: ArtifactStore;
  /** Tracking runs left RUNNING by a process that died, marked FAILED when the stores opened. */
  readonly abandonedRunsFailed: number;
  /** Pipeline runs left RUNNING by a process that died, marked FAILED when the stores opened. */
  readonly abandonedPipelineRunsFailed: number;
}

/** The reason recorded on runs whose process died before finishing them. */
export const ABANDONED_RUN_REASON = 'the process that ran it ended without finishing it';

/**
 * Opens the configured stores and artifact store (creating the home when a store is in it). Opening also
 * marks FAILED the runs left RUNNING by a process of this host that has died (safe while other processes
 * are training: only runs whose owner process is gone are touched).
 */
export async function openOnsetStores(config: OnsetConfig): Promise<OnsetStores> {
  if (config.trackingUriSource === 'default' || config.artifactUriSource === 'default') {
    await mkdir(config.home, { recursive: true });
  }
  // The AWS SDK takes a few hundred ms to load: only an s3:// artifact store loads it.
  const { openArtifactStore } = await import('../tracking/artifacts/artifact-store-uri.js');
  const artifacts = await openArtifactStore(config.artifactUri, {
    s3: { endpoint: config.s3Endpoint, timeoutMs: config.s3TimeoutMs },
  });
  const stores = await openStore(config.trackingUri, { artifactRoot: artifacts.rootUri });
  try {
    const abandonedRunsFailed = await stores.tracking.failAbandonedRuns(ABANDONED_RUN_REASON);
    const abandonedPipelineRunsFailed = await stores.pipelines.failAbandonedRuns(
      ABANDONED_RUN_REASON,
      hostname(),
      processIsAlive,
    );
    return { ...stores, artifacts, abandonedRunsFailed, abandonedPipelineRunsFailed };
  } catch (error) {
    await stores.close();
    throw error;
  }
}
