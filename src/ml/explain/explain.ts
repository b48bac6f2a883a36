import { invalidParameter } from '../../errors.js';
import type { Matrix } from '../../math/matrix.js';
import { uncalibrated } from '../calibration/calibrated-model.js';
import type { FittedModel } from '../estimator.js';
import { type SplitImportance, splitImportance } from './split-importance.js';
import { treeShap } from './tree-shap.js';
import { type Contributions, isContributionsModel, isTreeEnsembleExplainable } from './types.js';

/**
 * Per-row feature contributions to a model's raw score (margin space), exact for every family Onset
 * explains: tree ensembles get TreeSHAP (path-dependent, cover-weighted); `linear` and `logistic` get
 * coefficient × centred value with the score of the mean patient as bias (their own `contributions`).
 * Throws an `OnsetError` for a model family without an explanation.
 */
export function explainModel(calibrated: FittedModel, x: Matrix): Contributions {
  // A calibration maps the probability monotonically: the contributions are to the model's own score.
  const model = uncalibrated(calibrated);
  if (isTreeEnsembleExplainable(model)) return treeShap(model, x);
  if (isContributionsModel(model)) return model.contributions(x);
  throw invalidParameter(
    `Cannot explain a ${model.estimator} model: explanations exist for tree ensembles (TreeSHAP) and for linear and logistic models`,
  );
}

/** Whether `explainModel` explains this model (its family has exact contributions). */
export function isExplainable(calibrated: FittedModel): boolean {
  const model = uncalibrated(calibrated);
  return isTreeEnsembleExplainable(model) || isContributionsModel(model);
}

/** Global feature importance of a model on a set of rows. */
export interface GlobalImportance {
  /** Rows the contributions were averaged over. */
  readonly rows: number;
  /** Mean absolute contribution per feature (margin units), in feature order. */
  readonly meanAbsContribution: Float64Array;
  /** XGBoost's split-based importances (gain, cover, ...), for tree ensembles; undefined otherwise. */
  readonly splits: SplitImportance | undefined;
}

/**
 * Mean |contribution| per feature over the rows of `x` (the contributions are computed with `explainModel`
 * unless given), plus split gain and cover importances when the model is a tree ensemble.
 */
export function globalImportance(
  model: FittedModel,
  x: Matrix,
  contributions: Contributions = explainModel(model, x),
): GlobalImportance {
  if (contributions.values.rows !== x.rows || contributions.values.cols !== x.cols) {
    throw invalidParameter(
      `Global importance: contributions are ${contributions.values.rows} x ${contributions.values.cols} for a ${x.rows} x ${x.cols} input`,
    );
  }
  const own = uncalibrated(model);
  const splits = isTreeEnsembleExplainable(own)
    ? splitImportance(own.explainInputs(x).trees, x.cols)
    : undefined;
  return { rows: x.rows, meanAbsContribution: meanAbsoluteContributions(contributions), splits };
}

/** Mean absolute contribution per feature (0 for every feature when there are no rows). */
export function meanAbsoluteContributions(contributions: Contributions): Float64Array {
  const { data, rows, cols } = contributions.values;
  const out = new Float64Array(cols);
  if (rows === 0) return out;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[j] = out[j]! + Math.abs(data[i * cols + j]!);
  }
  for (let j = 0; j < cols; j++) out[j] = out[j]! / rows;
  return out;
}

/** Named per-feature scores with their feature index, largest first (ties keep feature order). */
export function rankFeatures(
  scores: ArrayLike<number>,
  names: readonly string[],
): { readonly feature: string; readonly index: number; readonly value: number }[] {
  if (scores.length !== names.length) {
    throw invalidParameter(`${scores.length} scores for ${names.length} feature names`);
  }
  return names
    .map((feature, index) => ({ feature, index, value: scores[index]! }))
    .sort((a, b) => b.value - a.value);
}
