import { invalidParameter } from '../../errors.js';
import { createMatrix, type Matrix } from '../../math/matrix.js';
import { checkTreeStructure, type FlatTree, treeDepth } from '../gbdt/tree.js';
import type { Contributions, TreeEnsembleExplainable } from './types.js';

/**
 * Exact TreeSHAP for a tree ensemble (Lundberg, Erion & Lee 2018, "Consistent Individualized Feature
 * Attribution for Tree Ensembles", Algorithm 2): path-dependent Shapley values, where a feature left out of
 * a coalition is integrated out by following both children of its splits weighted by their cover. Runs in
 * O(T·L·D²) per row (T trees, L leaves, depth D).
 *
 * The result is in margin space (log-odds): for each row, `bias + sum(values[row, j])` equals the model's
 * margin. `bias` is the expected margin: the base margin plus, for each tree, the cover-weighted mean of its
 * leaf values. Rows are routed exactly as the predictor routes them (float32 comparison `x < threshold` goes
 * left, a missing value follows the node's default direction), and the arithmetic follows XGBoost's
 * `pred_contribs=True` (`RegTree::CalculateContributions`) in double precision. A split that no
 * training row reached (cover 0, e.g. an empty branch of an oblivious tree) weighs its two children
 * equally; XGBoost would divide by zero there.
 *
 * A level-symmetric tree (every node of a depth shares one split, as in oblivious trees) routes a row by
 * its D split outcomes alone, so its contributions depend only on those D bits: they are computed once per
 * outcome pattern and reused, which makes explaining many rows O(T·D) per row after the first 2^D.
 */
export function treeShap(model: TreeEnsembleExplainable, x: Matrix): Contributions {
  const { trees, baseMargin, routing } = model.explainInputs(x);
  if (routing.rows !== x.rows) {
    throw invalidParameter(`TreeSHAP: the routing matrix has ${routing.rows} rows for ${x.rows} input rows`);
  }
  return new TreeShapExplainer(trees, baseMargin, routing.cols).explain(routing);
}

/** The deepest tree TreeSHAP accepts (the reciprocal table below covers the path lengths it implies). */
const MAX_DEPTH = 250;

/**
 * TreeSHAP over one ensemble, packed once into flat typed arrays with preallocated path buffers, so that
 * explaining rows allocates nothing per node or per row. Calls are synchronous and reuse those buffers;
 * they never change the trees.
 */
export class TreeShapExplainer {
  /** The expected margin: base margin + Σ over trees of the cover-weighted mean leaf value. */
  readonly bias: number;
  readonly featureCount: number;
  private readonly roots: Int32Array;
  /** Global index of the left child (the right child follows it); -1 for leaves. */
  private readonly left: Int32Array;
  private readonly feature: Int32Array;
  /** Split threshold (a float32 value) for internal nodes, the leaf value for leaves. */
  private readonly condition: Float64Array;
  private readonly defaultLeft: Uint8Array;
  private readonly cover: Float64Array;
  // The unique path of Algorithm 2, one segment per depth of recursion (as XGBoost lays it out).
  private readonly pathFeature: Int32Array;
  private readonly pathZero: Float64Array;
  private readonly pathOne: Float64Array;
  private readonly pathWeight: Float64Array;
  private readonly row: Float32Array;
  /** Per tree: its level splits and contribution memo when it is level-symmetric, otherwise undefined. */
  private readonly symmetric: readonly (SymmetricTree | undefined)[];
  /** Where a symmetric tree's contributions are gathered before they are memoized (zero between uses). */
  private readonly scratch: Float64Array;
  /** Where `recurse` adds contributions: the output array and the offset of the current row. */
  private phi: Float64Array;
  private phiOffset = 0;

  constructor(trees: readonly FlatTree[], baseMargin: number, featureCount: number) {
    if (!Number.isInteger(featureCount) || featureCount < 1) {
      throw invalidParameter(`TreeSHAP: featureCount must be a positive integer, got ${featureCount}`);
    }
    if (!Number.isFinite(baseMargin))
      throw invalidParameter(`TreeSHAP: base margin ${baseMargin} is not finite`);
    this.featureCount = featureCount;
    const total = trees.reduce((sum, tree) => sum + tree.left.length, 0);
    this.roots = new Int32Array(trees.length);
    this.left = new Int32Array(total);
    this.feature = new Int32Array(total);
    this.condition = new Float64Array(total);
    this.defaultLeft = new Uint8Array(total);
    this.cover = new Float64Array(total);
    let bias = baseMargin;
    let deepest = 0;
    let offset = 0;
    trees.forEach((tree, t) => {
      const problem = checkTreeStructure(tree, featureCount);
      if (problem !== undefined) throw invalidParameter(`TreeSHAP: tree ${t} ${problem}`);
      const n = tree.left.length;
      for (let node = 0; node < n; node++) {
        const at = offset + node;
        const isLeaf = tree.left[node] === -1;
        this.left[at] = isLeaf ? -1 : offset + tree.left[node]!;
        this.feature[at] = isLeaf ? 0 : tree.feature[node]!;
        this.condition[at] = tree.condition[node]!;
        this.defaultLeft[at] = tree.defaultLeft[node]!;
        this.cover[at] = tree.sumHessian[node]!;
        if (!(this.cover[at]! >= 0 && Number.isFinite(this.cover[at]!))) {
          throw invalidParameter(
            `TreeSHAP: node ${node} of tree ${t} has cover (sum_hessian) ${this.cover[at]}; covers must be finite and not negative`,
          );
        }
      }
      this.roots[t] = offset;
      bias += meanValue(this.left, this.condition, this.cover, offset, n);
      deepest = Math.max(deepest, treeDepth(tree));
      offset += n;
    });
    this.bias = bias;
    if (deepest > MAX_DEPTH) {
      throw invalidParameter(`TreeSHAP: a tree has depth ${deepest}; at most ${MAX_DEPTH} is supported`);
    }
    // A node with a path of u + 1 elements (u <= its depth d) copies it into the segment that starts
    // u + 1 elements after its parent's; XGBoost's (D + 2)(D + 3) / 2 elements hold the deepest recursion.
    const maxd = deepest + 2;
    const size = (maxd * (maxd + 1)) / 2 + 1;
    this.pathFeature = new Int32Array(size);
    this.pathZero = new Float64Array(size);
    this.pathOne = new Float64Array(size);
    this.pathWeight = new Float64Array(size);
    this.row = new Float32Array(featureCount);
    this.phi = new Float64Array(featureCount);
    this.scratch = new Float64Array(featureCount);
    this.symmetric = trees.map(symmetricTreeOf);
  }

  /** Contributions of every row of `routing` (`rows x featureCount`, missing values NaN). */
  explain(routing: Matrix): Contributions {
    if (routing.cols !== this.featureCount) {
      throw invalidParameter(
        `TreeSHAP: the model expects ${this.featureCount} features per row, got ${routing.cols}`,
      );
    }
    const cols = this.featureCount;
    const out = new Float64Array(routing.rows * cols);
    for (let i = 0; i < routing.rows; i++) {
      this.row.set(routing.data.subarray(i * cols, i * cols + cols));
      this.explainPrepared(out, i * cols);
    }
    return { bias: this.bias, values: createMatrix(out, routing.rows, cols) };
  }

  /**
   * Contributions of a single row into `out` (length `featureCount`, overwritten); returns the bias, so
   * that `bias + sum(out)` is the row's margin.
   */
  explainRow(values: ArrayLike<number>, out: Float64Array): number {
    if (values.length !== this.featureCount || out.length !== this.featureCount) {
      throw invalidParameter(
        `TreeSHAP: the model expects ${this.featureCount} features per row, got ${values.length} values and room for ${out.length}`,
      );
    }
    for (let f = 0; f < values.length; f++) this.row[f] = values[f]!;
    out.fill(0);
    this.explainPrepared(out, 0);
    return this.bias;
  }

  /** Adds the contributions of `this.row` (float32 values) into `out` at `offset`. */
  private explainPrepared(out: Float64Array, offset: number): void {
    this.phi = out;
    this.phiOffset = offset;
    const roots = this.roots;
    const row = this.row;
    for (let t = 0; t < roots.length; t++) {
      const tree = this.symmetric[t];
      if (tree === undefined) {
        this.phi = out;
        this.phiOffset = offset;
        // The root starts a path holding only the dummy element (feature -1, fractions 1) at index 1.
        this.recurse(roots[t]!, 0, 0, 1, 1, -1);
        continue;
      }
      let pattern = 0;
      for (let level = 0; level < tree.levelFeature.length; level++) {
        const x = row[tree.levelFeature[level]!]!;
        const threshold = tree.levelThreshold[level]!;
        const goesRight = x < threshold ? false : x >= threshold ? true : tree.levelDefaultLeft[level] === 0;
        pattern = (pattern << 1) | (goesRight ? 1 : 0);
      }
      const k = tree.features.length;
      const { memo, known } = tree;
      if (known[pattern] === 0) {
        const scratch = this.scratch;
        this.phi = scratch;
        this.phiOffset = 0;
        this.recurse(roots[t]!, 0, 0, 1, 1, -1);
        for (let j = 0; j < k; j++) {
          const feature = tree.features[j]!;
          memo[pattern * k + j] = scratch[feature]!;
          scratch[feature] = 0;
        }
        known[pattern] = 1;
      }
      for (let j = 0; j < k; j++) {
        const at = offset + tree.features[j]!;
        out[at] = out[at]! + memo[pattern * k + j]!;
      }
    }
  }

  /**
   * XGBoost's `RegTree::TreeShap` without the interaction conditioning. The parent's path occupies
   * `parentStart .. parentStart + depth`; this node's path is copied after it and extended by the split
   * that led here (feature `parentFeature`, fractions `parentZero` / `parentOne`).
   */
  private recurse(
    node: number,
    uniqueDepth: number,
    parentStart: number,
    parentZero: number,
    parentOne: number,
    parentFeature: number,
  ): void {
    const pathFeature = this.pathFeature;
    const pathZero = this.pathZero;
    const pathOne = this.pathOne;
    const pathWeight = this.pathWeight;
    const start = parentStart + uniqueDepth + 1;
    // A plain loop: the paths are short, and copyWithin's call costs more than the copy.
    for (let k = 0; k < uniqueDepth; k++) {
      pathFeature[start + k] = pathFeature[parentStart + k]!;
      pathZero[start + k] = pathZero[parentStart + k]!;
      pathOne[start + k] = pathOne[parentStart + k]!;
      pathWeight[start + k] = pathWeight[parentStart + k]!;
    }
    extendPath(
      pathFeature,
      pathZero,
      pathOne,
      pathWeight,
      start,
      uniqueDepth,
      parentZero,
      parentOne,
      parentFeature,
    );

    const left = this.left[node]!;
    if (left === -1) {
      const value = this.condition[node]!;
      const phi = this.phi;
      const base = this.phiOffset;
      for (let i = 1; i <= uniqueDepth; i++) {
        const w = unwoundPathSum(pathZero, pathOne, pathWeight, start, uniqueDepth, i);
        const at = base + pathFeature[start + i]!;
        phi[at] = phi[at]! + w * (pathOne[start + i]! - pathZero[start + i]!) * value;
      }
      return;
    }

    const split = this.feature[node]!;
    const x = this.row[split]!;
    const threshold = this.condition[node]!;
    const goesLeft = x < threshold ? true : x >= threshold ? false : this.defaultLeft[node] === 1;
    const hot = goesLeft ? left : left + 1;
    const cold = goesLeft ? left + 1 : left;
    const cover = this.cover[node]!;
    // A split no training row reached (cover 0, as in the empty branches of oblivious trees) weighs its
    // children equally, as `meanValue` does, so the contributions still add up to the margin.
    const hotZero = cover > 0 ? this.cover[hot]! / cover : 0.5;
    const coldZero = cover > 0 ? this.cover[cold]! / cover : 0.5;
    let incomingZero = 1;
    let incomingOne = 1;

    // A feature split on earlier in the path is undone, to be redone here with the combined fractions.
    let depth = uniqueDepth;
    for (let k = 1; k <= depth; k++) {
      if (pathFeature[start + k] === split) {
        incomingZero = pathZero[start + k]!;
        incomingOne = pathOne[start + k]!;
        unwindPath(pathFeature, pathZero, pathOne, pathWeight, start, depth, k);
        depth -= 1;
        break;
      }
    }

    // A child whose zero and one fractions are both 0 contributes exactly 0 (every permutation weight
    // below it is 0): it is skipped, which also avoids XGBoost's 0/0 when such an element is unwound.
    const hotZeroFraction = hotZero * incomingZero;
    if (hotZeroFraction !== 0 || incomingOne !== 0) {
      this.recurse(hot, depth + 1, start, hotZeroFraction, incomingOne, split);
    }
    const coldZeroFraction = coldZero * incomingZero;
    if (coldZeroFraction !== 0) this.recurse(cold, depth + 1, start, coldZeroFraction, 0, split);
  }
}

/** The shared split of each depth of a level-symmetric tree, and its memo of contributions per pattern. */
interface SymmetricTree {
  readonly levelFeature: Int32Array;
  readonly levelThreshold: Float64Array;
  readonly levelDefaultLeft: Uint8Array;
  /** The distinct split features: a tree contributes to these only. */
  readonly features: Int32Array;
  /** `2^D x features.length` contributions, filled per pattern on first use (`known`). */
  readonly memo: Float64Array;
  readonly known: Uint8Array;
}

/** Deeper symmetric trees are explained by plain recursion (their memo would outgrow its use). */
const MAX_MEMO_DEPTH = 10;

/**
 * The level splits of `tree` when it is complete and level-symmetric (the nodes of each depth share
 * feature, threshold and default direction; leaves all at depth D), otherwise undefined.
 */
function symmetricTreeOf(tree: FlatTree): SymmetricTree | undefined {
  const levelFeature: number[] = [];
  const levelThreshold: number[] = [];
  const levelDefaultLeft: number[] = [];
  let level = [0];
  while (tree.left[level[0]!] !== -1) {
    const first = level[0]!;
    const next: number[] = [];
    for (const node of level) {
      const left = tree.left[node]!;
      if (
        left === -1 ||
        tree.feature[node] !== tree.feature[first] ||
        tree.condition[node] !== tree.condition[first] ||
        tree.defaultLeft[node] !== tree.defaultLeft[first]
      ) {
        return undefined;
      }
      next.push(left, tree.right[node]!);
    }
    levelFeature.push(tree.feature[first]!);
    levelThreshold.push(tree.condition[first]!);
    levelDefaultLeft.push(tree.defaultLeft[first]!);
    if (levelFeature.length > MAX_MEMO_DEPTH) return undefined;
    level = next;
  }
  if (levelFeature.length === 0 || level.some((node) => tree.left[node] !== -1)) return undefined;
  const features = Int32Array.from(new Set(levelFeature));
  const patterns = 1 << levelFeature.length;
  return {
    levelFeature: Int32Array.from(levelFeature),
    levelThreshold: Float64Array.from(levelThreshold),
    levelDefaultLeft: Uint8Array.from(levelDefaultLeft),
    features,
    memo: new Float64Array(patterns * features.length),
    known: new Uint8Array(patterns),
  };
}

/**
 * The cover-weighted mean leaf value of the tree stored at `offset` (its root's expected value), as
 * XGBoost's `FillNodeMeanValues` computes it; a node with cover 0 averages its children equally.
 */
function meanValue(
  left: Int32Array,
  condition: Float64Array,
  cover: Float64Array,
  offset: number,
  n: number,
): number {
  const mean = new Float64Array(n);
  // Children come after their parent (breadth-first order), so a backward sweep sees them first.
  for (let node = n - 1; node >= 0; node--) {
    const at = offset + node;
    const child = left[at]!;
    if (child === -1) {
      mean[node] = condition[at]!;
    } else {
      const l = child - offset;
      mean[node] =
        cover[at]! > 0
          ? (mean[l]! * cover[child]! + mean[l + 1]! * cover[child + 1]!) / cover[at]!
          : (mean[l]! + mean[l + 1]!) / 2;
    }
  }
  return mean[0]!;
}

/** Algorithm 2's EXTEND: adds element `depth` to the path at `start`, updating the permutation weights. */
function extendPath(
  feature: Int32Array,
  zero: Float64Array,
  one: Float64Array,
  weight: Float64Array,
  start: number,
  depth: number,
  zeroFraction: number,
  oneFraction: number,
  featureIndex: number,
): void {
  feature[start + depth] = featureIndex;
  zero[start + depth] = zeroFraction;
  one[start + depth] = oneFraction;
  weight[start + depth] = depth === 0 ? 1 : 0;
  const scale = 1 / (depth + 1);
  for (let i = depth - 1; i >= 0; i--) {
    weight[start + i + 1] = weight[start + i + 1]! + oneFraction * weight[start + i]! * (i + 1) * scale;
    weight[start + i] = zeroFraction * weight[start + i]! * (depth - i) * scale;
  }
}

/** Algorithm 2's UNWIND: removes element `index` from the path at `start` (of `depth + 1` elements). */
function unwindPath(
  feature: Int32Array,
  zero: Float64Array,
  one: Float64Array,
  weight: Float64Array,
  start: number,
  depth: number,
  index: number,
): void {
  const oneFraction = one[start + index]!;
  const zeroFraction = zero[start + index]!;
  let nextOnePortion = weight[start + depth]!;
  for (let i = depth - 1; i >= 0; i--) {
    if (oneFraction !== 0) {
      const tmp = weight[start + i]!;
      weight[start + i] = (nextOnePortion * (depth + 1)) / ((i + 1) * oneFraction);
      nextOnePortion = tmp - (weight[start + i]! * zeroFraction * (depth - i)) / (depth + 1);
    } else {
      weight[start + i] = (weight[start + i]! * (depth + 1)) / (zeroFraction * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    feature[start + i] = feature[start + i + 1]!;
    zero[start + i] = zero[start + i + 1]!;
    one[start + i] = one[start + i + 1]!;
  }
}

/** 1 / k for k = 0 .. 255 (entry 0 unused): the path weights divide by small integers in the inner loops. */
const RECIPROCAL = Float64Array.from({ length: 256 }, (_, k) => (k === 0 ? 0 : 1 / k));

/** The total permutation weight of the path at `start` with element `index` unwound (without changing it). */
function unwoundPathSum(
  zero: Float64Array,
  one: Float64Array,
  weight: Float64Array,
  start: number,
  depth: number,
  index: number,
): number {
  const oneFraction = one[start + index]!;
  const zeroFraction = zero[start + index]!;
  const d1 = depth + 1;
  let total = 0;
  // XGBoost's loop, with its divisions by (i + 1), (depth - i) and the fractions turned into products.
  if (oneFraction !== 0) {
    const up = d1 / oneFraction;
    const down = zeroFraction / d1;
    let nextOnePortion = weight[start + depth]!;
    for (let i = depth - 1; i >= 0; i--) {
      const tmp = nextOnePortion * up * RECIPROCAL[i + 1]!;
      total += tmp;
      nextOnePortion = weight[start + i]! - tmp * down * (depth - i);
    }
  } else if (zeroFraction !== 0) {
    for (let i = depth - 1; i >= 0; i--) total += weight[start + i]! * RECIPROCAL[depth - i]!;
    total *= d1 / zeroFraction;
  }
  return total;
}
