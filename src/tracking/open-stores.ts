import { mkdir } from 'node:fs/promises';
import type { OnsetConfig } from '../config.js';
import type { ArtifactStore } from './artifacts/artifact-store.js';
import { openArtifactStore } from './artifacts/artifact-store-uri.js';
import type { RegistryStore } from './registry-store.js';
import { openStore } from './store-uri.js';
import type { TrackingStore } from './tracking-store.js';

export interface OnsetStores {
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  readonly artifacts: ArtifactStore;
  close(): Promise<void>;
}

/** Opens the configured tracking/registry store and artifact store (creating ONSET_HOME for the defaults). */
export async function openOnsetStores(config: OnsetConfig): Promise<OnsetStores> {
  await mkdir(config.home, { recursive: true });
  const artifacts = await openArtifactStore(config.artifactUri);
  const store = await openStore(config.trackingUri, { artifactRoot: artifacts.rootUri });
  return { tracking: store.tracking, registry: store.registry, artifacts, close: () => store.close() };
}
