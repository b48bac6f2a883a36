import { invalidParameter } from '../../errors.js';
import type { FlatTree } from '../gbdt/tree.js';

/**
 * XGBoost's split-based feature importances (`Booster.get_score(importance_type=...)`), one entry per
 * feature in feature order. Every internal node counts once for its split feature; features never split on
 * have 0 everywhere (XGBoost leaves them out of its dictionary).
 */
export interface SplitImportance {
  /** Number of splits on the feature (`weight`). */
  readonly weight: Float64Array;
  /** Sum of the loss reductions of those splits (`total_gain`). */
  readonly totalGain: Float64Array;
  /** Mean loss reduction per split (`gain` = total_gain / weight). */
  readonly gain: Float64Array;
  /** Sum of the covers (sums of hessians) of the split nodes (`total_cover`). */
  readonly totalCover: Float64Array;
  /** Mean cover per split (`cover` = total_cover / weight). */
  readonly cover: Float64Array;
}

/** Split importances of an ensemble's trees over `featureCount` features. */
export function splitImportance(trees: readonly FlatTree[], featureCount: number): SplitImportance {
  if (!Number.isInteger(featureCount) || featureCount < 1) {
    throw invalidParameter(`Split importance: featureCount must be a positive integer, got ${featureCount}`);
  }
  const weight = new Float64Array(featureCount);
  const totalGain = new Float64Array(featureCount);
  const totalCover = new Float64Array(featureCount);
  trees.forEach((tree, t) => {
    for (let node = 0; node < tree.left.length; node++) {
      if (tree.left[node] === -1) continue;
      const feature = tree.feature[node]!;
      if (!(feature >= 0 && feature < featureCount)) {
        throw invalidParameter(
          `Split importance: node ${node} of tree ${t} splits on feature ${feature}; the model has ${featureCount}`,
        );
      }
      weight[feature] = weight[feature]! + 1;
      totalGain[feature] = totalGain[feature]! + tree.lossChange[node]!;
      totalCover[feature] = totalCover[feature]! + tree.sumHessian[node]!;
    }
  });
  const perSplit = (total: Float64Array) => total.map((value, f) => value / Math.max(1, weight[f]!));
  return { weight, totalGain, gain: perSplit(totalGain), totalCover, cover: perSplit(totalCover) };
}
