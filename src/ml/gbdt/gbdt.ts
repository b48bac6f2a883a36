import { invalidParameter } from '../../errors.js';
import type { Matrix } from '../../math/matrix.js';
import { logit, sigmoid } from '../../math/sigmoid.js';
import { Random } from '../../util/random.js';
import { checkBoostingData } from '../check-training-data.js';
import type { Estimator, FitOptions, FittedModel, ModelState } from '../estimator.js';
import type { TreeEnsembleExplainable } from '../explain/types.js';
import {
  expectBestIteration,
  expectLossHistory,
  expectName,
  expectPositiveInteger,
  expectRecord,
  expectTrees,
  finiteNumbers,
} from '../model-state-checks.js';
import { fitBinMapper } from './binning.js';
import { GrowKernel } from './grow-kernel.js';
import { type GrowContext, type GrowParams, growTree } from './grower.js';
import { type LossHistory, logisticGradients, meanLogLoss } from './loss.js';
import { type GbdtParams, resolveGbdtParams } from './params.js';
import { TreeEnsemblePredictor } from './predictor.js';
import { checkTreeStructure, type FlatTree } from './tree.js';

/** The saved form of a gbdt model (inside a model document's `model` field). */
export interface GbdtState extends ModelState {
  readonly name: 'gbdt';
  readonly params: GbdtParams;
  readonly feature_count: number;
  /** The initial prediction as a probability (XGBoost's `base_score`). */
  readonly base_score: number;
  /** Index of the best round when early stopping ran (the model keeps trees 0..best_iteration). */
  readonly best_iteration: number | null;
  readonly history: LossHistory;
  readonly trees: readonly TreeState[];
}

export interface TreeState {
  readonly left_children: readonly number[];
  readonly right_children: readonly number[];
  readonly parents: readonly number[];
  readonly split_indices: readonly number[];
  readonly split_conditions: readonly number[];
  readonly default_left: readonly number[];
  readonly loss_changes: readonly number[];
  readonly sum_hessian: readonly number[];
  readonly base_weights: readonly number[];
}

/** Gradient-boosted trees following XGBoost's `hist` method for `binary:logistic`. */
export function gbdt(params: Readonly<Record<string, unknown>> = {}): Estimator<GbdtModel> {
  const resolved = resolveGbdtParams(params);
  return {
    name: 'gbdt',
    getParams: () => resolved,
    fit: (x, y, options) => fitGbdt(resolved, x, y, options),
  };
}

/** A fitted gbdt model. Immutable; predicts from flat typed arrays. */
export class GbdtModel implements FittedModel, TreeEnsembleExplainable {
  readonly estimator = 'gbdt' as const;
  readonly params: GbdtParams;
  readonly featureCount: number;
  readonly baseScore: number;
  readonly trees: readonly FlatTree[];
  readonly bestIteration: number | null;
  readonly history: LossHistory;
  readonly predictor: TreeEnsemblePredictor;

  constructor(parts: {
    params: GbdtParams;
    featureCount: number;
    baseScore: number;
    trees: readonly FlatTree[];
    bestIteration: number | null;
    history: LossHistory;
  }) {
    this.params = parts.params;
    this.featureCount = parts.featureCount;
    this.baseScore = parts.baseScore;
    this.trees = parts.trees;
    this.bestIteration = parts.bestIteration;
    this.history = parts.history;
    this.predictor = new TreeEnsemblePredictor(parts.trees, baseMargin(parts.baseScore), parts.featureCount);
  }

  /** Margins (log-odds) per row. */
  predictMargin(x: Matrix): Float64Array {
    return this.predictor.predictMargin(x);
  }

  predictProba(x: Matrix): Float64Array {
    const margin = this.predictor.predictMargin(x);
    for (let i = 0; i < margin.length; i++) margin[i] = sigmoid(margin[i]!);
    return margin;
  }

  /** P(y = 1) of a single row of feature values. */
  predictProbaOne(values: ArrayLike<number>): number {
    return sigmoid(this.predictor.predictMarginOne(values));
  }

  /** What TreeSHAP needs: the trees, the base margin, and the rows as given (splits are on raw values). */
  explainInputs(x: Matrix): ReturnType<TreeEnsembleExplainable['explainInputs']> {
    if (x.cols !== this.featureCount) {
      throw invalidParameter(`The model expects ${this.featureCount} features per row, got ${x.cols}`);
    }
    return { trees: this.trees, baseMargin: baseMargin(this.baseScore), routing: x };
  }

  toJSON(): GbdtState {
    return {
      name: 'gbdt',
      params: this.params,
      feature_count: this.featureCount,
      base_score: this.baseScore,
      best_iteration: this.bestIteration,
      history: this.history,
      trees: this.trees.map(treeToState),
    };
  }
}

/**
 * The same trees giving `scale · margin + shift`: every node's weight and leaf value scaled, and the base
 * score moved so that its margin is `scale · base margin + shift` (in float32, as XGBoost keeps them).
 */
export function withAffineMargin(model: GbdtModel, scale: number, shift: number): GbdtModel {
  const scaled = (values: Float32Array) => Float32Array.from(values, (v) => v * scale);
  const trees = model.trees.map((tree) => {
    const condition = Float32Array.from(tree.condition);
    for (let node = 0; node < condition.length; node++) {
      if (tree.left[node] === -1) condition[node] = condition[node]! * scale;
    }
    return { ...tree, condition, baseWeight: scaled(tree.baseWeight) };
  });
  return new GbdtModel({
    params: model.params,
    featureCount: model.featureCount,
    baseScore: sigmoid(scale * baseMargin(model.baseScore) + shift),
    trees,
    bestIteration: model.bestIteration,
    history: model.history,
  });
}

/** XGBoost's base margin: the logit of `base_score`, in float32. */
export function baseMargin(baseScore: number): number {
  return Math.fround(logit(Math.fround(baseScore)));
}

function fitGbdt(params: GbdtParams, x: Matrix, y: Float64Array, options: FitOptions = {}): GbdtModel {
  checkBoostingData('gbdt', x, y, options.validation, { earlyStoppingRounds: params.early_stopping_rounds });
  const validation = options.validation;

  const context = createGrowContext(x, params.max_bin, params);
  const n = x.rows;
  const margin = new Float64Array(n).fill(baseMargin(params.base_score));
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const random = new Random(params.seed);
  const validMargin = validation
    ? new Float64Array(validation.x.rows).fill(baseMargin(params.base_score))
    : undefined;
  const allFeatures = Int32Array.from({ length: x.cols }, (_, f) => f);
  const allRows = Uint32Array.from({ length: n }, (_, i) => i);
  const sampled = new Uint8Array(n);

  const trees: FlatTree[] = [];
  const trainLoss: number[] = [];
  const validLoss: number[] = [];
  let bestIteration = -1;
  let bestLoss = Number.POSITIVE_INFINITY;

  for (let round = 0; round < params.n_estimators; round++) {
    // The loss at the current margins is the training loss after the previous round.
    const previousLoss = logisticGradients(margin, y, params.scale_pos_weight, grad, hess);
    if (round > 0) trainLoss.push(previousLoss);
    const rows = params.subsample < 1 ? sampleRows(random, n, params.subsample) : allRows.slice();
    if (rows.length < n) {
      sampled.fill(0);
      for (let k = 0; k < rows.length; k++) sampled[rows[k]!] = 1;
    }
    const treeFeatures = sampleFeatures(random, allFeatures, params.colsample_bytree);
    const levels = new Map<number, Int32Array>();
    const levelFeatures = (depth: number): Int32Array => {
      if (params.colsample_bylevel >= 1) return treeFeatures;
      let features = levels.get(depth);
      if (features === undefined) {
        features = sampleFeatures(random, treeFeatures, params.colsample_bylevel);
        levels.set(depth, features);
      }
      return features;
    };
    const { tree, leafOf } = growTree(context, rows, grad, hess, treeFeatures, levelFeatures);
    trees.push(tree);

    // Rows the tree grew on know their leaf; only the rows left out by subsampling are routed.
    addLeafValues(tree, rows, leafOf, margin);
    if (rows.length < n) addTreeMargins(tree, x, margin, sampled);
    if (validation && validMargin) {
      addTreeMargins(tree, validation.x, validMargin);
      const loss = meanLogLoss(validMargin, validation.y);
      validLoss.push(loss);
      if (loss < bestLoss) {
        bestLoss = loss;
        bestIteration = round;
      }
      if (params.early_stopping_rounds !== null && round - bestIteration >= params.early_stopping_rounds)
        break;
    }
    options.onProgress?.({ iteration: round + 1, total: params.n_estimators });
  }

  trainLoss.push(meanLogLoss(margin, y));
  const stopped = params.early_stopping_rounds !== null && bestIteration >= 0;
  const kept = stopped ? trees.slice(0, bestIteration + 1) : trees;
  return new GbdtModel({
    params,
    featureCount: x.cols,
    baseScore: params.base_score,
    trees: kept,
    bestIteration: stopped ? bestIteration : null,
    history: validation
      ? { train_logloss: trainLoss, valid_logloss: validLoss }
      : { train_logloss: trainLoss },
  });
}

/** Bins the training matrix (into the kernel's memory): the inputs every tree grows on. */
export function createGrowContext(x: Matrix, maxBin: number, params: GrowParams): GrowContext {
  const mapper = fitBinMapper(x, maxBin);
  return { mapper, params, kernel: new GrowKernel(x, mapper, params) };
}

/** Each row is kept with probability `share` (XGBoost's uniform sampling); at least one row is kept. */
function sampleRows(random: Random, n: number, share: number): Uint32Array {
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (random.next() < share) rows.push(i);
  if (rows.length === 0) rows.push(random.int(n));
  return Uint32Array.from(rows);
}

/** max(1, floor(share * count)) of `features`, in ascending order. */
function sampleFeatures(random: Random, features: Int32Array, share: number): Int32Array {
  if (share >= 1) return features;
  const count = Math.max(1, Math.floor(share * features.length));
  const chosen = random.shuffle(Array.from(features)).slice(0, count);
  return Int32Array.from(chosen).sort();
}

/**
 * Adds each grown row's leaf value to its margin (row `rows[k]` is in leaf `leafOf[k]`). A function of its
 * own, not a loop in the fit's: the fit runs once, so its loops stay slow until V8 replaces them mid-run,
 * while a function called once a tree is compiled after its first calls.
 */
function addLeafValues(tree: FlatTree, rows: Uint32Array, leafOf: Int32Array, margin: Float64Array): void {
  const values = tree.condition;
  for (let k = 0; k < rows.length; k++) margin[rows[k]!] = margin[rows[k]!]! + values[leafOf[k]!]!;
}

/**
 * Adds one tree's leaf values to `margin` for every row of `x` (float32 comparisons, as predicting), or
 * only for the rows not marked in `skip`.
 */
function addTreeMargins(tree: FlatTree, x: Matrix, margin: Float64Array, skip?: Uint8Array): void {
  for (let i = 0; i < x.rows; i++) {
    if (skip !== undefined && skip[i] === 1) continue;
    let node = 0;
    while (tree.left[node] !== -1) {
      const value = Math.fround(x.data[i * x.cols + tree.feature[node]!]!);
      const goesLeft = Number.isNaN(value) ? tree.defaultLeft[node] === 1 : value < tree.condition[node]!;
      node = goesLeft ? tree.left[node]! : tree.right[node]!;
    }
    margin[i] = margin[i]! + tree.condition[node]!;
  }
}

function treeToState(tree: FlatTree): TreeState {
  return {
    left_children: Array.from(tree.left),
    right_children: Array.from(tree.right),
    parents: Array.from(tree.parent),
    split_indices: Array.from(tree.feature),
    split_conditions: Array.from(tree.condition),
    default_left: Array.from(tree.defaultLeft),
    loss_changes: Array.from(tree.lossChange),
    sum_hessian: Array.from(tree.sumHessian),
    base_weights: Array.from(tree.baseWeight),
  };
}

/** Rebuilds a tree from its saved arrays, checking its structure. */
export function treeFromState(state: unknown, featureCount: number, where: string): FlatTree {
  const record = expectRecord(where, state);
  const integerKeys = new Set<keyof TreeState>([
    'left_children',
    'right_children',
    'parents',
    'split_indices',
    'default_left',
  ]);
  const numbers = (key: keyof TreeState): readonly number[] =>
    finiteNumbers(where, key, record[key], integerKeys.has(key));
  const tree: FlatTree = {
    left: Int32Array.from(numbers('left_children')),
    right: Int32Array.from(numbers('right_children')),
    parent: Int32Array.from(numbers('parents')),
    feature: Int32Array.from(numbers('split_indices')),
    condition: Float32Array.from(numbers('split_conditions')),
    defaultLeft: Uint8Array.from(numbers('default_left')),
    lossChange: Float32Array.from(numbers('loss_changes')),
    sumHessian: Float32Array.from(numbers('sum_hessian')),
    baseWeight: Float32Array.from(numbers('base_weights')),
  };
  const problem = checkTreeStructure(tree, featureCount);
  if (problem !== undefined) throw invalidParameter(`${where} ${problem}`);
  return tree;
}

/** Rebuilds a gbdt model from its saved state, validating it. */
export function loadGbdtModel(state: unknown): GbdtModel {
  const where = 'gbdt model state';
  const record = expectRecord(where, state);
  expectName(where, record, 'gbdt');
  const params = resolveGbdtParams(
    record.params === undefined ? {} : expectRecord(`${where}: params`, record.params),
  );
  const featureCount = expectPositiveInteger(where, record, 'feature_count');
  const baseScore = record.base_score;
  if (typeof baseScore !== 'number' || !(baseScore > 0 && baseScore < 1)) {
    throw invalidParameter(`${where}: base_score must be a probability strictly between 0 and 1`);
  }
  const trees = expectTrees(where, record).map((tree, t) =>
    treeFromState(tree, featureCount, `${where}: tree ${t}`),
  );
  return new GbdtModel({
    params,
    featureCount,
    baseScore,
    trees,
    bestIteration: expectBestIteration(where, record, trees.length),
    history: expectLossHistory(where, record),
  });
}
