import type { Matrix } from '../../math/matrix.js';
import type { FlatTree } from '../gbdt/tree.js';

/**
 * Additive explanation of a model's raw score: for each row, `bias + sum(values[row, j])` equals the
 * model's margin, its `predictMargin` (log-odds for classifiers with a sigmoid, the raw score for `linear`).
 */
export interface Contributions {
  /** The expected raw score (the same for every row). */
  readonly bias: number;
  /** `rows x featureCount`, in feature order. */
  readonly values: Matrix;
}

/**
 * A model that explains itself exactly (the linear and logistic models: coefficient × centred value,
 * see `linear-contributions.ts`).
 */
export interface ContributionsModel {
  contributions(x: Matrix): Contributions;
}

export function isContributionsModel(model: unknown): model is ContributionsModel {
  return typeof (model as { contributions?: unknown } | null)?.contributions === 'function';
}

/**
 * What exact TreeSHAP needs from a tree ensemble: its trees in the flat layout (breadth-first nodes,
 * `sumHessian` as each node's cover), the base margin, and the matrix the trees route on. For models
 * that transform some columns before splitting (e.g. target statistics of categorical features), the
 * routing matrix holds the transformed values in the same column positions, so contributions are
 * attributed to the original features.
 */
export interface TreeEnsembleExplainable {
  explainInputs(x: Matrix): {
    readonly trees: readonly FlatTree[];
    readonly baseMargin: number;
    readonly routing: Matrix;
  };
}

export function isTreeEnsembleExplainable(model: unknown): model is TreeEnsembleExplainable {
  return typeof (model as { explainInputs?: unknown } | null)?.explainInputs === 'function';
}
