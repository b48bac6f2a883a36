import { invalidParameter } from '../../errors.js';
import { createMatrix, type Matrix, matrixColumn } from '../../math/matrix.js';
import { logit, sigmoid } from '../../math/sigmoid.js';
import { Random } from '../../util/random.js';
import { checkBoostingData } from '../check-training-data.js';
import type { Estimator, EstimatorName, FitOptions, FittedModel, ModelState } from '../estimator.js';
import type { TreeEnsembleExplainable } from '../explain/types.js';
import { type LossHistory, logisticGradients, meanLogLoss } from '../gbdt/loss.js';
import type { FlatTree } from '../gbdt/tree.js';
import {
  expectBestIteration,
  expectLossHistory,
  expectName,
  expectNumber,
  expectPositiveInteger,
  expectRecord,
  expectTrees,
  finiteNumbers,
} from '../model-state-checks.js';
import { fitBorders } from './borders.js';
import { type GrowContext, GrowWorkspace, growObliviousTree, type LevelFeatures } from './grower.js';
import { histogramLayout, layoutOffsets } from './histogram-layout.js';
import { ObliviousKernel } from './oblivious-kernel.js';
import { type ObliviousParams, resolveObliviousParams } from './params.js';
import {
  type ObliviousTree,
  type ObliviousTreeState,
  toFlatTree,
  treeFromState,
  treeToState,
} from './symmetric-tree.js';
import {
  CategoryEncoder,
  type CategoryStatistics,
  type CategoryStatisticsState,
  categoryStatistics,
  indexCategories,
  orderedTargetStatistics,
  statisticsFromState,
  statisticsToState,
} from './target-statistics.js';

/**
 * The estimator name. `EstimatorName & 'oblivious'` is `'oblivious'` once the `EstimatorName` union
 * lists it (and `never` before, which still type-checks wherever an `EstimatorName` is expected).
 */
export type ObliviousName = EstimatorName & 'oblivious';
export const OBLIVIOUS_NAME = 'oblivious' as ObliviousName;

export interface ObliviousOptions {
  /** Column indices of categorical features, encoded by ordered target statistics. */
  readonly categoricalFeatures?: readonly number[];
}

/** The saved form of an oblivious model (inside a model document's `model` field). */
export interface ObliviousState extends ModelState {
  readonly name: ObliviousName;
  readonly params: ObliviousParams;
  readonly feature_count: number;
  readonly categorical_features: readonly number[];
  /** The prior of the target statistics: the positive share of the training target. */
  readonly target_prior: number;
  /** Full-training-data counts per categorical feature, in `categorical_features` order. */
  readonly category_statistics: readonly CategoryStatisticsState[];
  /** The margin (log-odds) every prediction starts from. */
  readonly base_margin: number;
  /** Index of the best iteration when early stopping ran (the model keeps trees 0..best_iteration). */
  readonly best_iteration: number | null;
  /**
   * Per-iteration losses; on the training rows as boosting saw them (categorical columns by their ordered
   * statistics).
   */
  readonly history: LossHistory;
  readonly trees: readonly ObliviousTreeState[];
}

/**
 * CatBoost-style gradient boosting with symmetric (oblivious) trees for `binary:logistic` (CatBoost's
 * `Logloss`); categorical columns (`options.categoricalFeatures`) are encoded by ordered target statistics.
 */
export function oblivious(
  params: Readonly<Record<string, unknown>> = {},
  options: ObliviousOptions = {},
): Estimator<ObliviousModel> {
  const resolved = resolveObliviousParams(params);
  const categorical = checkCategoricalFeatures(options.categoricalFeatures ?? [], undefined);
  return {
    name: OBLIVIOUS_NAME,
    getParams: () => resolved,
    fit: (x, y, fitOptions) => fitOblivious(resolved, categorical, x, y, fitOptions),
  };
}

function checkCategoricalFeatures(features: readonly number[], cols: number | undefined): number[] {
  for (const f of features) {
    if (!Number.isInteger(f) || f < 0 || (cols !== undefined && f >= cols)) {
      throw invalidParameter(
        `oblivious: categorical feature ${f} is not a column index${cols === undefined ? '' : ` below ${cols}`}`,
      );
    }
  }
  if (new Set(features).size !== features.length) {
    throw invalidParameter(`oblivious: categorical features ${features.join(', ')} list a column twice`);
  }
  return [...features].sort((a, b) => a - b);
}

/** A fitted oblivious model. Immutable; predicts from flat typed arrays. */
export class ObliviousModel implements FittedModel, TreeEnsembleExplainable {
  readonly estimator: ObliviousName = OBLIVIOUS_NAME;
  readonly params: ObliviousParams;
  readonly featureCount: number;
  readonly categoricalFeatures: readonly number[];
  readonly targetPrior: number;
  readonly categoryStatistics: readonly CategoryStatistics[];
  readonly baseMargin: number;
  readonly trees: readonly ObliviousTree[];
  readonly bestIteration: number | null;
  readonly history: LossHistory;
  private readonly encoder: CategoryEncoder;
  /** Computes the margins (in WebAssembly: see `oblivious-kernel.wat`). */
  private readonly kernel: ObliviousKernel;
  private flatTrees: readonly FlatTree[] | undefined;

  constructor(parts: {
    params: ObliviousParams;
    featureCount: number;
    categoricalFeatures: readonly number[];
    targetPrior: number;
    categoryStatistics: readonly CategoryStatistics[];
    baseMargin: number;
    trees: readonly ObliviousTree[];
    bestIteration: number | null;
    history: LossHistory;
  }) {
    this.params = parts.params;
    this.featureCount = parts.featureCount;
    this.categoricalFeatures = parts.categoricalFeatures;
    this.targetPrior = parts.targetPrior;
    this.categoryStatistics = parts.categoryStatistics;
    this.baseMargin = parts.baseMargin;
    this.trees = parts.trees;
    this.bestIteration = parts.bestIteration;
    this.history = parts.history;
    this.encoder = new CategoryEncoder(parts.categoryStatistics, parts.targetPrior);
    this.kernel = new ObliviousKernel(parts.featureCount, parts.trees, parts.baseMargin);
  }

  /**
   * Margins (log-odds) per row: the base margin plus each tree's leaf value, summed in float64 in tree
   * order. Inputs are compared as float32 with categorical columns replaced by their statistics.
   */
  predictMargin(x: Matrix): Float64Array {
    this.checkWidth(x.cols);
    return this.kernel.margins(Float32Array.from(this.encoder.encode(x)), x.rows);
  }

  predictProba(x: Matrix): Float64Array {
    const margin = this.predictMargin(x);
    for (let i = 0; i < margin.length; i++) margin[i] = sigmoid(margin[i]!);
    return margin;
  }

  /** P(y = 1) of a single row of feature values. */
  predictProbaOne(values: ArrayLike<number>): number {
    this.checkWidth(values.length);
    if (this.categoricalFeatures.length === 0) return sigmoid(this.kernel.margin(values));
    const encoded = Float64Array.from(values);
    this.encoder.encodeInPlace(encoded, 1, encoded.length);
    return sigmoid(this.kernel.margin(encoded));
  }

  /**
   * The matrix the trees route on: `x` with categorical columns replaced by their full-training-data
   * statistics, every value rounded to float32 (the precision the trees compare at), so a reader routing
   * with or without float32 rounding reaches the same leaves.
   */
  routingMatrix(x: Matrix): Matrix {
    this.checkWidth(x.cols);
    const values = this.encoder.encode(x);
    for (let k = 0; k < values.length; k++) values[k] = Math.fround(values[k]!);
    return createMatrix(values, x.rows, x.cols);
  }

  /** The trees in the flat layout of `gbdt/tree.ts` (built once, on first use). */
  toFlatTrees(): readonly FlatTree[] {
    this.flatTrees ??= this.trees.map((tree) =>
      toFlatTree(tree, this.params.learning_rate, this.params.l2_leaf_reg),
    );
    return this.flatTrees;
  }

  explainInputs(x: Matrix): { trees: readonly FlatTree[]; baseMargin: number; routing: Matrix } {
    return { trees: this.toFlatTrees(), baseMargin: this.baseMargin, routing: this.routingMatrix(x) };
  }

  toJSON(): ObliviousState {
    return {
      name: OBLIVIOUS_NAME,
      params: this.params,
      feature_count: this.featureCount,
      categorical_features: [...this.categoricalFeatures],
      target_prior: this.targetPrior,
      category_statistics: this.categoryStatistics.map(statisticsToState),
      base_margin: this.baseMargin,
      best_iteration: this.bestIteration,
      history: this.history,
      trees: this.trees.map(treeToState),
    };
  }

  private checkWidth(cols: number): void {
    if (cols !== this.featureCount) {
      throw invalidParameter(`The model expects ${this.featureCount} features per row, got ${cols}`);
    }
  }
}

function fitOblivious(
  params: ObliviousParams,
  categoricalFeatures: readonly number[],
  x: Matrix,
  y: Float64Array,
  options: FitOptions = {},
): ObliviousModel {
  const { positives } = checkBoostingData('oblivious', x, y, options.validation, {
    earlyStoppingRounds: params.early_stopping_rounds,
    categoricalFeatures,
  });
  checkCategoricalFeatures(categoricalFeatures, x.cols);
  const validation = options.validation;

  const n = x.rows;
  const cols = x.cols;
  const random = new Random(params.random_seed);
  const prior = positives / n;

  // Ordered target statistics: one encoding of the categorical columns per permutation.
  const permutationCount = categoricalFeatures.length > 0 ? params.permutation_count : 1;
  const permutations = Array.from({ length: permutationCount }, () => random.permutation(n));
  const indexes = categoricalFeatures.map((f) => indexCategories(matrixColumn(x, f)));
  const ordered = indexes.map((index) =>
    permutations.map((permutation) => orderedTargetStatistics(index, y, permutation, prior)),
  );
  const borders = fitBorders(
    x,
    params.border_count,
    categoricalFeatures.map((feature, k) => ({ feature, encoded: concat(ordered[k]!) })),
  );
  const layout = histogramLayout(borders, cols);
  const offsetsByPermutation = permutations.map((_, p) => {
    const data = Float64Array.from(x.data);
    categoricalFeatures.forEach((f, k) => {
      const encoded = ordered[k]![p]!;
      for (let i = 0; i < n; i++) data[i * cols + f] = encoded[i]!;
    });
    return layoutOffsets(layout, createMatrix(data, n, cols));
  });
  const statistics = categoricalFeatures.map((f, k) => categoryStatistics(f, indexes[k]!, y));

  const baseMargin = params.boost_from_average ? logit(prior) : 0;
  const context: GrowContext = { layout, rows: n, cols };
  const workspace = new GrowWorkspace(context, params.depth);
  const margin = new Float64Array(n).fill(baseMargin);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const allFeatures = Int32Array.from({ length: cols }, (_, f) => f);
  const unitsOf = (features: Int32Array): Int32Array => {
    const units = new Set<number>();
    for (const f of features) if (layout.unitOf[f]! >= 0) units.add(layout.unitOf[f]!);
    return Int32Array.from(units).sort();
  };
  const everything: LevelFeatures = { features: allFeatures, units: unitsOf(allFeatures) };
  const levelFeatures =
    params.rsm >= 1
      ? () => everything
      : (): LevelFeatures => {
          const count = Math.max(1, Math.floor(params.rsm * cols));
          const features = Int32Array.from(random.shuffle(Array.from(allFeatures)).slice(0, count)).sort();
          return { features, units: unitsOf(features) };
        };

  // The validation rows, encoded once with the full-data statistics (as the final model predicts).
  const validEncoder = new CategoryEncoder(statistics, prior);
  const validValues = validation ? Float32Array.from(validEncoder.encode(validation.x)) : undefined;
  const validMargin = validation ? new Float64Array(validation.x.rows).fill(baseMargin) : undefined;

  const trees: ObliviousTree[] = [];
  const trainLoss: number[] = [];
  const validLoss: number[] = [];
  let bestIteration = -1;
  let bestLoss = Number.POSITIVE_INFINITY;
  // CatBoost's split-score noise: random_strength x the standard deviation of the gradients x a factor
  // that fades as the model grows (ln n - iteration x learning_rate through a logistic).
  const logRows = Math.log(n);

  for (let iteration = 0; iteration < params.iterations; iteration++) {
    logisticGradients(margin, y, params.scale_pos_weight, grad, hess);
    const p = permutationCount > 1 ? random.int(permutationCount) : 0;
    let noiseScale = 0;
    if (params.random_strength > 0) {
      let squares = 0;
      for (let i = 0; i < n; i++) squares += grad[i]! * grad[i]!;
      const left = Math.exp(logRows - iteration * params.learning_rate);
      noiseScale = params.random_strength * Math.sqrt(squares / n) * (left / (1 + left));
    }
    const tree = growObliviousTree(
      context,
      offsetsByPermutation[p]!,
      grad,
      hess,
      {
        depth: params.depth,
        learningRate: params.learning_rate,
        lambda: params.l2_leaf_reg,
        noiseScale,
        noiseSeed: random.nextUint32(),
      },
      levelFeatures,
      workspace,
    );
    trees.push(tree);
    const leafOf = workspace.leafOf;
    for (let i = 0; i < n; i++) margin[i] = margin[i]! + tree.leafValues[leafOf[i]!]!;
    trainLoss.push(meanLogLoss(margin, y));

    if (validation && validValues && validMargin) {
      addTreeMargins(tree, validValues, cols, validMargin);
      const loss = meanLogLoss(validMargin, validation.y);
      validLoss.push(loss);
      if (loss < bestLoss) {
        bestLoss = loss;
        bestIteration = iteration;
      }
      if (params.early_stopping_rounds !== null && iteration - bestIteration >= params.early_stopping_rounds)
        break;
    }
    options.onProgress?.({ iteration: iteration + 1, total: params.iterations });
  }

  const stopped = params.early_stopping_rounds !== null && bestIteration >= 0;
  return new ObliviousModel({
    params,
    featureCount: cols,
    categoricalFeatures,
    targetPrior: prior,
    categoryStatistics: statistics,
    baseMargin,
    trees: stopped ? trees.slice(0, bestIteration + 1) : trees,
    bestIteration: stopped ? bestIteration : null,
    history: validation
      ? { train_logloss: trainLoss, valid_logloss: validLoss }
      : { train_logloss: trainLoss },
  });
}

function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Adds one tree's leaf values to `margin` for every row of a float32 row-major buffer. */
function addTreeMargins(tree: ObliviousTree, values: Float32Array, cols: number, margin: Float64Array): void {
  const depth = tree.features.length;
  for (let i = 0, base = 0; i < margin.length; i++, base += cols) {
    let index = 0;
    for (let level = 0; level < depth; level++) {
      index |= +(values[base + tree.features[level]!]! >= tree.thresholds[level]!) << level;
    }
    margin[i] = margin[i]! + tree.leafValues[index]!;
  }
}

/** Rebuilds an oblivious model from its saved state, validating it. */
export function loadObliviousModel(state: unknown): ObliviousModel {
  const where = 'oblivious model state';
  const record = expectRecord(where, state);
  expectName(where, record, OBLIVIOUS_NAME);
  const params = resolveObliviousParams(
    record.params === undefined ? {} : expectRecord(`${where}: params`, record.params),
  );
  const featureCount = expectPositiveInteger(where, record, 'feature_count');
  const categoricalFeatures = checkCategoricalFeatures(
    finiteNumbers(where, 'categorical_features', record.categorical_features, true),
    featureCount,
  );
  const prior = record.target_prior;
  if (typeof prior !== 'number' || !(prior > 0 && prior < 1)) {
    throw invalidParameter(`${where}: target_prior must be a probability strictly between 0 and 1`);
  }
  const statisticsStates = record.category_statistics;
  if (!Array.isArray(statisticsStates) || statisticsStates.length !== categoricalFeatures.length) {
    throw invalidParameter(`${where}: category_statistics must hold one entry per categorical feature`);
  }
  const statistics = statisticsStates.map((entry, k) => {
    const parsed = statisticsFromState(entry, featureCount, `${where}: category_statistics[${k}]`);
    if (parsed.feature !== categoricalFeatures[k]) {
      throw invalidParameter(
        `${where}: category_statistics[${k}] is for feature ${parsed.feature}; expected ${categoricalFeatures[k]}`,
      );
    }
    return parsed;
  });
  const baseMargin = expectNumber(where, record, 'base_margin');
  const trees = expectTrees(where, record).map((tree, t) =>
    treeFromState(tree, featureCount, params.depth, `${where}: tree ${t}`),
  );
  return new ObliviousModel({
    params,
    featureCount,
    categoricalFeatures,
    targetPrior: prior,
    categoryStatistics: statistics,
    baseMargin,
    trees,
    bestIteration: expectBestIteration(where, record, trees.length),
    history: expectLossHistory(where, record),
  });
}
