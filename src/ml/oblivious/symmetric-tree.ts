/**
 * A symmetric (oblivious) tree: one split per depth level, shared by every node of that level. A tree of
 * depth d is d (feature, threshold) pairs and 2^d leaf values. As in CatBoost, the leaf of a row is the
 * number whose bit `level` is the outcome of the level's test (1 when `x >= threshold`, i.e. right; 0
 * when `x < threshold` or x is missing).
 */
import { invalidParameter } from '../../errors.js';
import { type FlatTree, NO_PARENT } from '../gbdt/tree.js';
import { finiteNumbers } from '../model-state-checks.js';

export interface ObliviousTree {
  /** Split feature of each level, root level first. */
  readonly features: Int32Array;
  /** Split threshold of each level (a float32 value). */
  readonly thresholds: Float32Array;
  /** 2^depth leaf values (already shrunk by the learning rate), indexed by the level bits. */
  readonly leafValues: Float32Array;
  /** Sum of training hessians in each leaf (cover). */
  readonly leafWeights: Float64Array;
}

/** The saved form of a tree. */
export interface ObliviousTreeState {
  readonly features: readonly number[];
  readonly thresholds: readonly number[];
  readonly leaf_values: readonly number[];
  readonly leaf_weights: readonly number[];
}

export function treeDepthOf(tree: ObliviousTree): number {
  return tree.features.length;
}

/** The leaf index of a row of values (compared as float32), the straightforward way. */
export function leafIndexOf(tree: ObliviousTree, row: ArrayLike<number>): number {
  let index = 0;
  for (let level = 0; level < tree.features.length; level++) {
    const value = Math.fround(row[tree.features[level]!]!);
    if (value >= tree.thresholds[level]!) index |= 1 << level;
  }
  return index;
}

/** `value` with its `bits` lowest bits in reverse order. */
function reverseBits(value: number, bits: number): number {
  let out = 0;
  for (let b = 0; b < bits; b++) out |= ((value >> b) & 1) << (bits - 1 - b);
  return out;
}

/**
 * The tree in the flat layout of `gbdt/tree.ts` (breadth-first, right child = left + 1, leaves with
 * `left = -1` and their value in `condition`, missing values going left). Node k of level l has children
 * 2k+1 and 2k+2; a leaf's position in the last level read from its most significant bit is the path from
 * the root, so its value is `leafValues[reverseBits(position)]`. Covers (`sumHessian`) are the training
 * hessian sums; `baseWeight` is the unshrunk weight `-G / (H + lambda)` of internal nodes (G recovered from
 * the leaf values) and the leaf value of leaves; `lossChange` is each node's own split gain.
 */
export function toFlatTree(tree: ObliviousTree, learningRate: number, lambda: number): FlatTree {
  const depth = treeDepthOf(tree);
  const n = 2 ** (depth + 1) - 1;
  const firstLeaf = 2 ** depth - 1;
  const left = new Int32Array(n);
  const right = new Int32Array(n);
  const parent = new Int32Array(n);
  const feature = new Int32Array(n);
  const condition = new Float32Array(n);
  const defaultLeft = new Uint8Array(n);
  const lossChange = new Float32Array(n);
  const sumHessian = new Float32Array(n);
  const baseWeight = new Float32Array(n);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  for (let node = 0; node < n; node++) {
    parent[node] = node === 0 ? NO_PARENT : (node - 1) >> 1;
    if (node < firstLeaf) {
      const level = 31 - Math.clz32(node + 1);
      left[node] = 2 * node + 1;
      right[node] = 2 * node + 2;
      feature[node] = tree.features[level]!;
      condition[node] = tree.thresholds[level]!;
      defaultLeft[node] = 1;
    } else {
      const leaf = reverseBits(node - firstLeaf, depth);
      const value = tree.leafValues[leaf]!;
      const hessian = tree.leafWeights[leaf]!;
      left[node] = -1;
      right[node] = -1;
      condition[node] = value;
      baseWeight[node] = value;
      h[node] = hessian;
      g[node] = (-value / learningRate) * (hessian + lambda);
    }
  }
  const score = (gs: number, hs: number): number => (gs * gs) / (hs + lambda);
  for (let node = firstLeaf - 1; node >= 0; node--) {
    const l = 2 * node + 1;
    const r = l + 1;
    g[node] = g[l]! + g[r]!;
    h[node] = h[l]! + h[r]!;
    baseWeight[node] = -g[node]! / (h[node]! + lambda);
    lossChange[node] = score(g[l]!, h[l]!) + score(g[r]!, h[r]!) - score(g[node]!, h[node]!);
  }
  for (let node = 0; node < n; node++) sumHessian[node] = h[node]!;
  return { left, right, parent, feature, condition, defaultLeft, lossChange, sumHessian, baseWeight };
}

export function treeToState(tree: ObliviousTree): ObliviousTreeState {
  return {
    features: Array.from(tree.features),
    thresholds: Array.from(tree.thresholds),
    leaf_values: Array.from(tree.leafValues),
    leaf_weights: Array.from(tree.leafWeights),
  };
}

/** Rebuilds a tree from its saved arrays, checking its shape. */
export function treeFromState(
  state: unknown,
  featureCount: number,
  maxDepth: number,
  where: string,
): ObliviousTree {
  const s = (typeof state === 'object' && state !== null ? state : {}) as Partial<ObliviousTreeState>;
  const numbers = (key: keyof ObliviousTreeState, integers: boolean): readonly number[] =>
    finiteNumbers(where, key, s[key], integers);
  const features = numbers('features', true);
  const thresholds = numbers('thresholds', false);
  const leafValues = numbers('leaf_values', false);
  const leafWeights = numbers('leaf_weights', false);
  const depth = features.length;
  if (depth > maxDepth)
    throw invalidParameter(`${where}: depth ${depth} is above the model's depth ${maxDepth}`);
  if (thresholds.length !== depth) {
    throw invalidParameter(`${where}: ${depth} split features but ${thresholds.length} thresholds`);
  }
  if (leafValues.length !== 2 ** depth || leafWeights.length !== 2 ** depth) {
    throw invalidParameter(`${where}: a tree of depth ${depth} needs ${2 ** depth} leaf values and weights`);
  }
  if (features.some((f) => f < 0 || f >= featureCount)) {
    throw invalidParameter(`${where}: split features must be column indices below ${featureCount}`);
  }
  if (leafWeights.some((w) => w < 0)) throw invalidParameter(`${where}: leaf weights must not be negative`);
  return {
    features: Int32Array.from(features),
    thresholds: Float32Array.from(thresholds),
    leafValues: Float32Array.from(leafValues),
    leafWeights: Float64Array.from(leafWeights),
  };
}
