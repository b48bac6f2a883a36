/**
 * What every prediction path needs to know of a loaded model, found once per model: the name the
 * prediction log gives it, and the training ranges its records are judged by.
 */
import { CalibratedModel } from '../ml/calibration/calibrated-model.js';
import { predictionSet, thresholdsFor } from '../ml/calibration/conformal.js';
import {
  DEFAULT_THRESHOLD_POLICY,
  decisionThreshold,
  describeThresholdPolicy,
  formatThresholdPolicy,
} from '../ml/decision/threshold-policy.js';
import { modelTrainingRanges } from '../ml/model-document.js';
import type { LoggedModel } from '../monitoring/prediction-log/prediction-log-store.js';
import type { ServedModel } from './model-source.js';

/** The model as the prediction log names it, made once per loaded model. */
const LOGGED_MODELS = new WeakMap<ServedModel, LoggedModel>();
export function loggedModelOf(served: ServedModel): LoggedModel {
  let logged = LOGGED_MODELS.get(served);
  if (!logged) {
    logged = {
      name: served.name,
      version: served.version,
      runId: served.runId,
      uri: served.uri,
      checksum: served.checksum,
    };
    LOGGED_MODELS.set(served, logged);
  }
  return logged;
}

/** The training ranges a model is judged by, found once per loaded model (see `modelTrainingRanges`). */
const TRAINING_RANGES = new WeakMap<ServedModel, ReturnType<typeof modelTrainingRanges>>();
export function trainingRangesOf(served: ServedModel) {
  let found = TRAINING_RANGES.get(served);
  if (!found) {
    found = modelTrainingRanges(served.document);
    TRAINING_RANGES.set(served, found);
  }
  return found;
}

/**
 * The answer's prediction set for a patient's probability (`{}` for a model without conformal thresholds,
 * so that the field is absent rather than made up). `row` is the patient's features, for a model whose
 * thresholds depend on the patient's subgroups.
 */
export function predictionSetOf(
  served: ServedModel,
  probability: number,
  row: ArrayLike<number>,
): { prediction_set?: (0 | 1)[] } {
  const conformal = served.document.conformal;
  return conformal === undefined
    ? {}
    : { prediction_set: predictionSet(probability, thresholdsFor(conformal, row)) };
}

/**
 * The answer's probability interval for a patient (`{}` unless the model is calibrated by Venn-Abers):
 * the pair (p0, p1) one of which is calibrated whatever the data's distribution, narrow where the
 * calibration patients say much about such a probability and wide where they say little.
 */
export function probabilityIntervalOf(
  served: ServedModel,
  row: ArrayLike<number>,
): { probability_interval?: [number, number] } {
  const model = served.model;
  const interval = model instanceof CalibratedModel ? model.probabilityIntervalOne(row) : undefined;
  return interval === undefined ? {} : { probability_interval: interval };
}

/** The threshold a model diagnoses at, as answers name it. */
export interface DecisionThreshold {
  /** The model diagnoses 1 when the probability is at least this. */
  readonly value: number;
  /** The policy that chose it, as `onset train --threshold` takes it (`0.5`, `sensitivity:0.95`, `cost:5`). */
  readonly policy: string;
  /** The policy in words. */
  readonly description: string;
}

/** The decision threshold of a model, made once per loaded model (0.5 for a model without one). */
const THRESHOLDS = new WeakMap<ServedModel, DecisionThreshold>();
export function decisionThresholdOf(served: ServedModel): DecisionThreshold {
  let found = THRESHOLDS.get(served);
  if (!found) {
    const policy = served.document.threshold?.policy ?? DEFAULT_THRESHOLD_POLICY;
    found = {
      value: decisionThreshold(served.document),
      policy: formatThresholdPolicy(policy),
      description: describeThresholdPolicy(policy),
    };
    THRESHOLDS.set(served, found);
  }
  return found;
}
