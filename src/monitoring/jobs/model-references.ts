import type { ReferenceProfile } from '../../data/reference-profile.js';
import { OnsetError } from '../../errors.js';
import type { ArtifactStore } from '../../tracking/artifacts/artifact-store.js';
import type { TrackingStore } from '../../tracking/tracking-store.js';
import { REFERENCE_PROFILE_ARTIFACT } from '../../tracking/training-logger.js';
import type { CheckedModel } from '../checks/monitoring-check-store.js';
import { referenceProfileOfRun } from '../drift/reference-profiles.js';
import { CbpeEstimator } from '../performance/cbpe.js';
import type { PerformanceEstimator } from './performance-check.js';

/** How a model version gets a reference profile, for the messages of the versions that have none. */
const HOW_TO_GET_ONE =
  'train it with onset train or an Onset pipeline (every training run stores one) and register that run';

/** A model version's reference profile and where it came from. */
export interface ModelReference {
  readonly profile: ReferenceProfile;
  /** `runs:/<run id>/data/reference-profile.json`. */
  readonly source: string;
}

/** `M version V` for messages. */
export function describeCheckedModel(model: CheckedModel): string {
  return `${model.name} version ${model.version}`;
}

/**
 * CBPE fitted on a reference profile's sample: its probabilities (out of fold when the model was
 * cross-validated) and the diagnoses kept with them; or why it cannot be (a profile stored before Onset
 * kept the diagnoses, a sample with too few of a class).
 */
export function fitPerformanceEstimator(profile: ReferenceProfile, model: string): PerformanceEstimator {
  const labels = profile.sample.labels;
  if (labels === null) {
    return {
      available: false,
      reason: `the reference profile of ${model} has no diagnoses (it was stored before Onset kept them, or the training data had none): retrain the model to get estimates`,
    };
  }
  try {
    const estimator = CbpeEstimator.fit(
      { probability: profile.sample.columns.probability, label: labels },
      // Its estimates are of the diagnoses the model makes: at its own threshold.
      { threshold: profile.decisionThreshold },
    );
    return { available: true, estimator, probabilitySource: profile.sample.probabilitySource };
  } catch (error) {
    if (error instanceof OnsetError) {
      return {
        available: false,
        reason: `CBPE cannot be fitted on the reference of ${model}: ${error.message}`,
      };
    }
    throw error;
  }
}

interface Cached {
  readonly reference: ModelReference;
  estimator?: PerformanceEstimator;
}

/**
 * The reference profiles of model versions (their training runs' artifacts) and the CBPE estimators fitted
 * on them, each read and fitted once per run and kept for the next checks (the few latest runs).
 */
export class ModelReferences {
  readonly #stores: { readonly tracking: TrackingStore; readonly artifacts: ArtifactStore };
  readonly #capacity: number;
  /** By run id, least recently used first. */
  readonly #cache = new Map<string, Promise<Cached>>();

  constructor(
    stores: { readonly tracking: TrackingStore; readonly artifacts: ArtifactStore },
    options: { readonly capacity?: number } = {},
  ) {
    this.#stores = stores;
    this.#capacity = Math.max(1, options.capacity ?? 4);
  }

  async #cached(model: CheckedModel): Promise<Cached> {
    const described = describeCheckedModel(model);
    if (model.runId === null) {
      throw new OnsetError(
        'RESOURCE_DOES_NOT_EXIST',
        `${described} has no reference profile: it was not registered from an Onset training run; ${HOW_TO_GET_ONE}`,
      );
    }
    const runId = model.runId;
    let entry = this.#cache.get(runId);
    if (entry === undefined) {
      entry = referenceProfileOfRun(this.#stores, runId, described).then((profile) => ({
        reference: { profile, source: `runs:/${runId}/${REFERENCE_PROFILE_ARTIFACT}` },
      }));
      // A profile that could not be read is read again next time (the artifact store may be back).
      entry.catch(() => this.#cache.delete(runId));
      this.#cache.set(runId, entry);
      while (this.#cache.size > this.#capacity) this.#cache.delete(this.#cache.keys().next().value!);
    } else {
      this.#cache.delete(runId);
      this.#cache.set(runId, entry);
    }
    return entry;
  }

  /** The version's reference profile; RESOURCE_DOES_NOT_EXIST (saying how to get one) when it has none. */
  async reference(model: CheckedModel): Promise<ModelReference> {
    return (await this.#cached(model)).reference;
  }

  /** CBPE fitted once on the version's reference, or why there is none (no profile among the reasons). */
  async estimator(model: CheckedModel): Promise<PerformanceEstimator> {
    let cached: Cached;
    try {
      cached = await this.#cached(model);
    } catch (error) {
      if (error instanceof OnsetError && error.code === 'RESOURCE_DOES_NOT_EXIST') {
        return { available: false, reason: error.message };
      }
      throw error;
    }
    cached.estimator ??= fitPerformanceEstimator(cached.reference.profile, describeCheckedModel(model));
    return cached.estimator;
  }
}
