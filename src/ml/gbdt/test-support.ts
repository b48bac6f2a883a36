/**
 * Helpers shared by the gbdt unit tests: small seeded data, a grow context built the way `fitGbdt` builds
 * it, and straightforward reference implementations (tree traversal, brute-force split search) that the
 * optimized code is checked against.
 */

import { createMatrix, type Matrix } from '../../math/matrix.js';
import type { Random } from '../../util/random.js';
import type { BinMapper } from './binning.js';
import { createGrowContext } from './gbdt.js';
import { type GrowContext, type GrownTree, type GrowParams, growTree } from './grower.js';
import { leafWeight, nodeGain } from './loss.js';
import type { FlatTree } from './tree.js';

export const DEFAULT_GROW_PARAMS: GrowParams = {
  max_depth: 6,
  min_child_weight: 1,
  gamma: 0,
  learning_rate: 0.3,
  reg_lambda: 1,
  reg_alpha: 0,
  max_delta_step: 0,
};

/**
 * A random matrix whose values are drawn from `levels` distinct values per feature (so every distinct
 * value becomes a threshold and histogram splits equal exact splits); a share `missing` of cells is NaN.
 */
export function randomGridMatrix(
  random: Random,
  rows: number,
  cols: number,
  options: { levels?: number; missing?: number } = {},
): Matrix {
  const levels = options.levels ?? 6;
  const missing = options.missing ?? 0;
  const data = new Float64Array(rows * cols);
  for (let k = 0; k < data.length; k++) {
    data[k] = random.next() < missing ? Number.NaN : random.int(levels) * 0.5 - 1;
  }
  return createMatrix(data, rows, cols);
}

/** Random gradients in [-1, 1) and hessians in [0.05, 1.05): continuous, so exact gain ties are unlikely. */
export function randomGradients(random: Random, n: number): { grad: Float64Array; hess: Float64Array } {
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    grad[i] = 2 * random.next() - 1;
    hess[i] = 0.05 + random.next();
  }
  return { grad, hess };
}

/** The grow context `fitGbdt` builds for a training matrix. */
export function makeGrowContext(x: Matrix, params: GrowParams, maxBin = 256): GrowContext {
  return createGrowContext(x, maxBin, params);
}

export interface GrowResult extends GrownTree {
  readonly mapper: BinMapper;
  /** The row buffer after growing (reordered by the grower). */
  readonly rows: Uint32Array;
}

/** Grows one tree on every row of `x` with every feature. */
export function growOnAllRows(
  x: Matrix,
  grad: Float64Array,
  hess: Float64Array,
  params: Partial<GrowParams> = {},
): GrowResult {
  const context = makeGrowContext(x, { ...DEFAULT_GROW_PARAMS, ...params });
  const rows = Uint32Array.from({ length: x.rows }, (_, i) => i);
  const features = Int32Array.from({ length: x.cols }, (_, f) => f);
  const grown = growTree(context, rows, grad, hess, features, () => features);
  return { ...grown, mapper: context.mapper, rows };
}

/** Whether a value goes left at a split: the float32 value compared with `x < condition`, NaN by default. */
export function goesLeft(value: number, condition: number, defaultLeft: boolean): boolean {
  const x = Math.fround(value);
  return Number.isNaN(x) ? defaultLeft : x < condition;
}

/** The leaf a row reaches, following `left`/`right` arrays exactly as saved (no packing). */
export function referenceLeaf(tree: FlatTree, row: ArrayLike<number>): number {
  let node = 0;
  while (tree.left[node] !== -1) {
    const left = goesLeft(row[tree.feature[node]!]!, tree.condition[node]!, tree.defaultLeft[node] === 1);
    node = left ? tree.left[node]! : tree.right[node]!;
  }
  return node;
}

/** XGBoost's margin: float32 base margin plus each tree's leaf value, accumulated in float32. */
export function referenceMargin(
  trees: readonly FlatTree[],
  baseMargin: number,
  row: ArrayLike<number>,
): number {
  let margin = Math.fround(baseMargin);
  for (const tree of trees) margin = Math.fround(margin + tree.condition[referenceLeaf(tree, row)]!);
  return margin;
}

export function matrixRow(x: Matrix, i: number): Float64Array {
  return x.data.subarray(i * x.cols, (i + 1) * x.cols);
}

/** The training rows (indices) that reach each node of `tree`. */
export function rowsPerNode(tree: FlatTree, x: Matrix): number[][] {
  const out: number[][] = Array.from({ length: tree.left.length }, () => []);
  for (let i = 0; i < x.rows; i++) {
    const row = matrixRow(x, i);
    let node = 0;
    out[0]!.push(i);
    while (tree.left[node] !== -1) {
      const left = goesLeft(row[tree.feature[node]!]!, tree.condition[node]!, tree.defaultLeft[node] === 1);
      node = left ? tree.left[node]! : tree.right[node]!;
      out[node]!.push(i);
    }
  }
  return out;
}

export interface CandidateSplit {
  readonly feature: number;
  readonly threshold: number;
  readonly defaultLeft: boolean;
  readonly gain: number;
}

export function sums(rows: readonly number[], values: Float64Array): number {
  let total = 0;
  for (const i of rows) total += values[i]!;
  return total;
}

/**
 * Every valid split of `rows` by brute force: each feature, each candidate threshold (`x < t` left), missing
 * values right and, when the node has missing values in the feature, left. Gain as XGBoost's evaluator:
 * gain(left) + gain(right) - gain(parent), both children needing `min_child_weight` hessian.
 */
export function allSplits(
  x: Matrix,
  rows: readonly number[],
  grad: Float64Array,
  hess: Float64Array,
  thresholds: (feature: number) => readonly number[],
  params: GrowParams,
): CandidateSplit[] {
  const g = sums(rows, grad);
  const h = sums(rows, hess);
  const parent = nodeGain(g, h, params);
  const out: CandidateSplit[] = [];
  for (let f = 0; f < x.cols; f++) {
    const hasMissing = rows.some((i) => Number.isNaN(x.data[i * x.cols + f]!));
    for (const threshold of thresholds(f)) {
      for (const defaultLeft of hasMissing ? [false, true] : [false]) {
        let gl = 0;
        let hl = 0;
        for (const i of rows) {
          if (goesLeft(x.data[i * x.cols + f]!, threshold, defaultLeft)) {
            gl += grad[i]!;
            hl += hess[i]!;
          }
        }
        const hr = h - hl;
        if (hl < params.min_child_weight || hr < params.min_child_weight || hl <= 0 || hr <= 0) continue;
        const gain = nodeGain(gl, hl, params) + nodeGain(g - gl, hr, params) - parent;
        out.push({ feature: f, threshold, defaultLeft, gain });
      }
    }
  }
  return out;
}

/** The best of `allSplits`, or undefined when none passes XGBoost's tests (gain > 1e-6 and >= gamma). */
export function bruteForceBestSplit(
  x: Matrix,
  rows: readonly number[],
  grad: Float64Array,
  hess: Float64Array,
  thresholds: (feature: number) => readonly number[],
  params: GrowParams,
): CandidateSplit | undefined {
  let best: CandidateSplit | undefined;
  for (const split of allSplits(x, rows, grad, hess, thresholds, params)) {
    if (best === undefined || split.gain > best.gain) best = split;
  }
  if (best === undefined || !(best.gain > 1e-6) || best.gain < params.gamma) return undefined;
  return best;
}

/** Thresholds of a feature in a bin mapper. */
export function mapperThresholds(mapper: BinMapper): (feature: number) => number[] {
  return (f) => Array.from(mapper.cuts.subarray(mapper.cutStart[f]!, mapper.cutStart[f + 1]!));
}

/** The leaf value XGBoost gives a node: CalcWeight (0 below min_child_weight) times the learning rate. */
export function expectedLeafValue(g: number, h: number, params: GrowParams): number {
  const weight = h < params.min_child_weight ? 0 : leafWeight(g, h, params);
  return Math.fround(weight * params.learning_rate);
}
