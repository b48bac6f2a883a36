import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { OnsetConfig } from '../config.js';
import type { PipelineStore } from '../pipelines/pipeline-store.js';
import { processIsAlive } from '../util/process.js';
import type { ArtifactStore } from './artifacts/artifact-store.js';
import type { RegistryStore } from './registry-store.js';
import type { TrackingStore } from './tracking-store.js';

export interface OnsetStores {
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  readonly artifacts: ArtifactStore;
  readonly pipelines: PipelineStore;
  /** Tracking runs left RUNNING by a process that died, marked FAILED when the stores opened. */
  readonly abandonedRunsFailed: number;
  /** Pipeline runs left RUNNING by a process that died, marked FAILED when the stores opened. */
  readonly abandonedPipelineRunsFailed: number;
  close(): Promise<void>;
}

/** The reason recorded on runs whose process died before finishing them. */
export const ABANDONED_RUN_REASON = 'the process that ran it ended without finishing it';

/**
 * Opens the configured tracking/registry store and artifact store (creating ONSET_HOME for the defaults).
 * Opening also marks FAILED the runs left RUNNING by a process of this host that has died (safe while other
 * processes are training: only runs whose owner process is gone are touched).
 */
export async function openOnsetStores(config: OnsetConfig): Promise<OnsetStores> {
  await mkdir(config.home, { recursive: true });
  // Loaded here, not at start-up: the SQL drivers and the AWS SDK take ~0.3 s to load, and most CLI
  // commands (data, predict, evaluate, explain) never touch the stores.
  const [{ openArtifactStore }, { openStore }] = await Promise.all([
    import('./artifacts/artifact-store-uri.js'),
    import('./store-uri.js'),
  ]);
  const artifacts = await openArtifactStore(config.artifactUri);
  const store = await openStore(config.trackingUri, { artifactRoot: artifacts.rootUri });
  const abandonedRunsFailed = await store.tracking.failAbandonedRuns(ABANDONED_RUN_REASON);
  const abandonedPipelineRunsFailed = await store.pipelines.failAbandonedRuns(
    ABANDONED_RUN_REASON,
    hostname(),
    processIsAlive,
  );
  return {
    tracking: store.tracking,
    registry: store.registry,
    artifacts,
    pipelines: store.pipelines,
    abandonedRunsFailed,
    abandonedPipelineRunsFailed,
    close: () => store.close(),
  };
}
