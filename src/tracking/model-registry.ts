import { invalidParameter, OnsetError } from '../errors.js';
import { type LoadedModel, parseModel } from '../ml/model-document.js';
import { sourceArtifactPath } from './artifact-paths.js';
import type { ArtifactStore } from './artifacts/artifact-store.js';
import { MODEL_STAGES, type ModelStage, type ModelVersion } from './entities.js';
import type { RegistryStore } from './registry-store.js';
import type { TrackingStore } from './tracking-store.js';

/** The run metrics a model version keeps a snapshot of, when the run has them. */
export const SNAPSHOT_METRICS = [
  'cv_roc_auc',
  'cv_accuracy',
  'cv_log_loss',
  'cv_brier',
  'training_roc_auc',
  'holdout_roc_auc',
  'holdout_accuracy',
] as const;

export interface RegistryStores {
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  readonly artifacts: ArtifactStore;
}

/**
 * Creates a model version from an artifact: resolves the source (`runs:/<id>/<path>` or a path in the
 * artifact store) and records the artifact's sha256 and a snapshot of the run's key metrics.
 */
export async function registerModelVersion(
  stores: RegistryStores,
  input: {
    name: string;
    source: string;
    runId?: string | null;
    description?: string;
    userId?: string;
    /** Create the registered model when missing (the CLI does; MLflow's REST API answers 404 instead). */
    createModelIfMissing?: boolean;
  },
): Promise<ModelVersion> {
  const run = input.runId ? await stores.tracking.getRun(input.runId) : undefined;
  const stored = await stores.artifacts.stat(sourceArtifactPath(stores.artifacts, input.source, run));
  const metrics: Record<string, number> = {};
  for (const metric of run?.data.metrics ?? []) {
    if ((SNAPSHOT_METRICS as readonly string[]).includes(metric.key)) metrics[metric.key] = metric.value;
  }
  try {
    await stores.registry.getRegisteredModel(input.name);
  } catch (error) {
    if (
      !(input.createModelIfMissing && error instanceof OnsetError && error.code === 'RESOURCE_DOES_NOT_EXIST')
    )
      throw error;
    await stores.registry.createRegisteredModel({ name: input.name });
  }
  return stores.registry.createModelVersion({
    name: input.name,
    source: input.source,
    runId: input.runId ?? null,
    checksum: stored.sha256,
    metrics,
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.userId === undefined ? {} : { userId: input.userId }),
  });
}

/**
 * Finds a version by number, stage (`Production`, `Staging`, ...: the latest in that stage) or alias
 * (`@champion`), as in `models:/<name>/<version|stage>` and `models:/<name>@<alias>` URIs.
 */
export async function findModelVersion(
  registry: RegistryStore,
  name: string,
  reference: string,
): Promise<ModelVersion> {
  if (reference.startsWith('@')) return registry.getModelVersionByAlias(name, reference.slice(1));
  if (/^\d+$/.test(reference)) return registry.getModelVersion(name, reference);
  const stage = MODEL_STAGES.find((s) => s.toLowerCase() === reference.toLowerCase()) as
    | ModelStage
    | undefined;
  if (stage === undefined) {
    throw invalidParameter(
      `"${reference}" is neither a version number, a stage (${MODEL_STAGES.join(', ')}) nor an alias (@name)`,
    );
  }
  const [latest] = await registry.getLatestVersions(name, [stage]);
  if (latest === undefined) {
    throw new OnsetError(
      'RESOURCE_DOES_NOT_EXIST',
      `Registered model ${name} has no version in stage ${stage}`,
    );
  }
  return latest;
}

/**
 * Loads a registered version's model, refusing an artifact whose sha256 differs from the one recorded at
 * registration (a corrupt or replaced file).
 */
export async function loadModelVersion(
  stores: RegistryStores,
  version: ModelVersion,
): Promise<LoadedModel & { version: ModelVersion }> {
  const run = version.runId ? await stores.tracking.getRun(version.runId) : undefined;
  const path = sourceArtifactPath(stores.artifacts, version.source, run);
  const stored = await stores.artifacts.stat(path);
  if (stored.sha256 !== version.checksum) {
    throw new OnsetError(
      'INVALID_STATE',
      `Model ${version.name} version ${version.version}: its artifact ${path} changed since registration (sha256 ${stored.sha256}, registered ${version.checksum}); refusing to load it`,
    );
  }
  const content = await stores.artifacts.get(path, version.checksum);
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString('utf8'));
  } catch {
    throw new OnsetError(
      'INVALID_STATE',
      `Model ${version.name} version ${version.version}: ${path} is not valid JSON`,
    );
  }
  return { ...parseModel(parsed, `${version.name} version ${version.version}`), version };
}
