/**
 * Finding a model's reference profile: the one its training run stored (a run, or a registered version
 * through its run), or one computed from a reference data file for a model trained elsewhere.
 */
import { assertIngested, ingestCsvFile } from '../../data/csv-reader.js';
import {
  buildReferenceProfile,
  parseReferenceProfile,
  type ReferenceProfile,
} from '../../data/reference-profile.js';
import { OnsetError } from '../../errors.js';
import type { FittedModel } from '../../ml/estimator.js';
import { missingValuePolicy } from '../../ml/estimator-registry.js';
import { featureMatrix } from '../../ml/train-on-dataset.js';
import { runArtifactPrefix } from '../../tracking/artifact-paths.js';
import type { ArtifactStore } from '../../tracking/artifacts/artifact-store.js';
import type { ModelVersion } from '../../tracking/entities.js';
import type { TrackingStore } from '../../tracking/tracking-store.js';
import { REFERENCE_PROFILE_ARTIFACT } from '../../tracking/training-logger.js';

/** How to get a reference profile for a model that has none, for the messages that say so. */
export const HOW_TO_GET_A_REFERENCE =
  'train the model with onset train or an Onset pipeline (every training run stores one), or give the data it was trained on with --reference FILE';

/**
 * The reference profile a training run stored (`data/reference-profile.json` in its artifacts).
 * `model` names the model in the error when there is none (RESOURCE_DOES_NOT_EXIST, saying how to get one).
 */
export async function referenceProfileOfRun(
  stores: { readonly tracking: TrackingStore; readonly artifacts: ArtifactStore },
  runId: string,
  model: string,
): Promise<ReferenceProfile> {
  const run = await stores.tracking.getRun(runId);
  const path = `${runArtifactPrefix(stores.artifacts, run.info.artifactUri)}/${REFERENCE_PROFILE_ARTIFACT}`;
  let text: string;
  try {
    const stored = await stores.artifacts.stat(path);
    text = (await stores.artifacts.get(path, stored.sha256)).toString('utf8');
  } catch (error) {
    if (error instanceof OnsetError && error.code === 'RESOURCE_DOES_NOT_EXIST') {
      throw new OnsetError(
        'RESOURCE_DOES_NOT_EXIST',
        `${model} has no reference profile: its training run ${runId} has no ${REFERENCE_PROFILE_ARTIFACT} (it was logged before Onset stored reference profiles, or by another tool); ${HOW_TO_GET_A_REFERENCE}`,
      );
    }
    throw error;
  }
  return parseReferenceProfile(text, `runs:/${runId}/${REFERENCE_PROFILE_ARTIFACT}`);
}

/** The reference profile of a registered version: its run's. */
export async function referenceProfileOfVersion(
  stores: { readonly tracking: TrackingStore; readonly artifacts: ArtifactStore },
  version: ModelVersion,
): Promise<ReferenceProfile> {
  const model = `${version.name} version ${version.version}`;
  if (!version.runId) {
    throw new OnsetError(
      'RESOURCE_DOES_NOT_EXIST',
      `${model} has no reference profile: it was registered from ${version.source}, not from a training run; ${HOW_TO_GET_A_REFERENCE}`,
    );
  }
  return referenceProfileOfRun(stores, version.runId, model);
}

/**
 * A reference profile computed now from a data file (Kaggle layout; Diagnosis optional) and the model's
 * probabilities for its rows: for a model with no stored profile (a file trained elsewhere). When the
 * file is the model's training data, the probabilities are the model's own on rows it has seen.
 */
export async function referenceProfileFromFile(
  path: string,
  model: FittedModel,
  options: { readonly policy?: 'fail' | 'skip'; readonly seed?: number } = {},
): Promise<ReferenceProfile> {
  const { dataset } = assertIngested(
    await ingestCsvFile(path, {
      target: 'optional',
      policy: options.policy ?? 'fail',
      missingFeatures: missingValuePolicy(model.estimator),
    }),
  );
  if (dataset.rowCount === 0) {
    throw new OnsetError('INVALID_PARAMETER_VALUE', `The reference file ${path} has no rows`);
  }
  const probabilities = model.predictProba(featureMatrix(dataset));
  return buildReferenceProfile(dataset, probabilities, {
    probabilitySource: 'scored',
    seed: options.seed ?? 42,
  });
}
