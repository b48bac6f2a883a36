import { invalidParameter } from '../../errors.js';
import type { Matrix } from '../../math/matrix.js';
import { type FlatTree, treeDepth } from './tree.js';

/** Rows scored together per tree in a batch, so their independent traversals overlap in the processor. */
const BLOCK_ROWS = 4;

/**
 * Predicts from an ensemble packed into flat typed arrays (one set for all trees). It follows XGBoost's
 * CPU predictor arithmetic: features compared as float32 (`x < threshold` goes left, missing values follow
 * the node's default direction) and leaf values summed into a float32 margin in tree order, so a model
 * predicts the same here and in XGBoost. A predictor never changes the model it was built from.
 *
 * Batches of rows without missing values take a branch-free path: leaves point to themselves, each tree
 * is walked for its full depth, and a block of rows advances one level at a time.
 */
export class TreeEnsemblePredictor {
  readonly featureCount: number;
  private readonly roots: Int32Array;
  private readonly depths: Int32Array;
  /** Split feature (0 for leaves). */
  private readonly feature: Int32Array;
  /** Split threshold (a float32 value), NaN for leaves so that no row moves on from them. */
  private readonly threshold: Float64Array;
  /** Global index of the left child (the right child is the next node); a leaf's own index. */
  private readonly child: Int32Array;
  private readonly leaf: Uint8Array;
  /** `(child << featureBits) | feature`: one load per step in the branch-free path. */
  private readonly packed: Int32Array;
  private readonly featureBits: number;
  private readonly featureMask: number;
  private readonly leafValue: Float64Array;
  private readonly defaultLeft: Uint8Array;
  private readonly baseMargin: number;
  private readonly row: Float32Array;

  constructor(trees: readonly FlatTree[], baseMargin: number, featureCount: number) {
    this.featureCount = featureCount;
    this.baseMargin = Math.fround(baseMargin);
    const total = trees.reduce((sum, tree) => sum + tree.left.length, 0);
    this.roots = new Int32Array(trees.length);
    this.depths = new Int32Array(trees.length);
    this.feature = new Int32Array(total);
    this.threshold = new Float64Array(total);
    this.child = new Int32Array(total);
    this.leaf = new Uint8Array(total);
    this.packed = new Int32Array(total);
    this.featureBits = Math.max(1, Math.ceil(Math.log2(featureCount)));
    this.featureMask = (1 << this.featureBits) - 1;
    if (total >= 2 ** (31 - this.featureBits)) {
      throw invalidParameter(
        `The model has ${total} nodes; at most ${2 ** (31 - this.featureBits)} fit the predictor`,
      );
    }
    this.leafValue = new Float64Array(total);
    this.defaultLeft = new Uint8Array(total);
    this.row = new Float32Array(featureCount);
    let offset = 0;
    trees.forEach((tree, t) => {
      this.roots[t] = offset;
      this.depths[t] = treeDepth(tree);
      for (let node = 0; node < tree.left.length; node++) {
        const at = offset + node;
        const isLeaf = tree.left[node] === -1;
        this.leaf[at] = isLeaf ? 1 : 0;
        this.feature[at] = isLeaf ? 0 : tree.feature[node]!;
        this.threshold[at] = isLeaf ? Number.NaN : tree.condition[node]!;
        this.child[at] = isLeaf ? at : offset + tree.left[node]!;
        this.leafValue[at] = isLeaf ? tree.condition[node]! : 0;
        this.defaultLeft[at] = tree.defaultLeft[node]!;
        this.packed[at] = (this.child[at]! << this.featureBits) | this.feature[at]!;
      }
      offset += tree.left.length;
    });
  }

  /** The margin of one row of float32 values, any value possibly missing (NaN). */
  private marginOfRow(row: Float32Array, treeLimit: number): number {
    const { roots, feature, threshold, child, leaf, leafValue, defaultLeft } = this;
    let margin = this.baseMargin;
    for (let t = 0; t < treeLimit; t++) {
      let node = roots[t]!;
      while (leaf[node] === 0) {
        const x = row[feature[node]!]!;
        const split = threshold[node]!;
        const left = child[node]!;
        node = x < split ? left : x >= split ? left + 1 : defaultLeft[node] === 1 ? left : left + 1;
      }
      margin = Math.fround(margin + leafValue[node]!);
    }
    return margin;
  }

  /** Margins of every row; `treeLimit` uses only the first trees (all by default). */
  predictMargin(x: Matrix, treeLimit = this.roots.length): Float64Array {
    this.checkWidth(x.cols);
    const cols = x.cols;
    const values = Float32Array.from(x.data);
    const out = new Float64Array(x.rows);
    // Rows with a missing value need the default directions: they take the general path.
    const complete: number[] = [];
    const row = this.row;
    for (let i = 0; i < x.rows; i++) {
      const base = i * cols;
      let hasMissing = false;
      for (let f = 0; f < cols; f++) {
        if (Number.isNaN(values[base + f]!)) {
          hasMissing = true;
          break;
        }
      }
      if (hasMissing) {
        row.set(values.subarray(base, base + cols));
        out[i] = this.marginOfRow(row, treeLimit);
      } else {
        complete.push(i);
      }
    }
    const { roots, depths, threshold, packed, leafValue, featureBits, featureMask } = this;
    const count = complete.length;
    let start = 0;
    // Four rows at a time in locals: four independent chains of loads for the processor to overlap.
    for (; start + BLOCK_ROWS <= count; start += BLOCK_ROWS) {
      const b0 = complete[start]! * cols;
      const b1 = complete[start + 1]! * cols;
      const b2 = complete[start + 2]! * cols;
      const b3 = complete[start + 3]! * cols;
      let m0 = this.baseMargin;
      let m1 = m0;
      let m2 = m0;
      let m3 = m0;
      for (let t = 0; t < treeLimit; t++) {
        let n0 = roots[t]!;
        let n1 = n0;
        let n2 = n0;
        let n3 = n0;
        for (let level = depths[t]!; level > 0; level--) {
          const p0 = packed[n0]!;
          const p1 = packed[n1]!;
          const p2 = packed[n2]!;
          const p3 = packed[n3]!;
          // true adds 1 (right child); false, and NaN at a leaf, add 0.
          n0 = (p0 >> featureBits) + +(values[b0 + (p0 & featureMask)]! >= threshold[n0]!);
          n1 = (p1 >> featureBits) + +(values[b1 + (p1 & featureMask)]! >= threshold[n1]!);
          n2 = (p2 >> featureBits) + +(values[b2 + (p2 & featureMask)]! >= threshold[n2]!);
          n3 = (p3 >> featureBits) + +(values[b3 + (p3 & featureMask)]! >= threshold[n3]!);
        }
        m0 = Math.fround(m0 + leafValue[n0]!);
        m1 = Math.fround(m1 + leafValue[n1]!);
        m2 = Math.fround(m2 + leafValue[n2]!);
        m3 = Math.fround(m3 + leafValue[n3]!);
      }
      out[complete[start]!] = m0;
      out[complete[start + 1]!] = m1;
      out[complete[start + 2]!] = m2;
      out[complete[start + 3]!] = m3;
    }
    for (; start < count; start++) {
      const i = complete[start]!;
      row.set(values.subarray(i * cols, i * cols + cols));
      out[i] = this.marginOfRow(row, treeLimit);
    }
    return out;
  }

  /** The margin of a single row of feature values (the online serving path). */
  predictMarginOne(values: ArrayLike<number>): number {
    this.checkWidth(values.length);
    const row = this.row;
    let complete = true;
    for (let f = 0; f < values.length; f++) {
      row[f] = values[f]!;
      if (Number.isNaN(row[f]!)) complete = false;
    }
    if (!complete) return this.marginOfRow(row, this.roots.length);
    const { roots, depths, threshold, packed, leafValue, featureBits, featureMask } = this;
    let margin = this.baseMargin;
    const trees = roots.length;
    let t = 0;
    // Four trees at a time: independent walks the processor overlaps; leaves are still added in tree
    // order, so the float32 sum is the same as one tree at a time.
    for (; t + 4 <= trees; t += 4) {
      let n0 = roots[t]!;
      let n1 = roots[t + 1]!;
      let n2 = roots[t + 2]!;
      let n3 = roots[t + 3]!;
      const depth = Math.max(depths[t]!, depths[t + 1]!, depths[t + 2]!, depths[t + 3]!);
      for (let level = depth; level > 0; level--) {
        const p0 = packed[n0]!;
        const p1 = packed[n1]!;
        const p2 = packed[n2]!;
        const p3 = packed[n3]!;
        n0 = (p0 >> featureBits) + +(row[p0 & featureMask]! >= threshold[n0]!);
        n1 = (p1 >> featureBits) + +(row[p1 & featureMask]! >= threshold[n1]!);
        n2 = (p2 >> featureBits) + +(row[p2 & featureMask]! >= threshold[n2]!);
        n3 = (p3 >> featureBits) + +(row[p3 & featureMask]! >= threshold[n3]!);
      }
      margin = Math.fround(margin + leafValue[n0]!);
      margin = Math.fround(margin + leafValue[n1]!);
      margin = Math.fround(margin + leafValue[n2]!);
      margin = Math.fround(margin + leafValue[n3]!);
    }
    for (; t < trees; t++) {
      let node = roots[t]!;
      for (let level = depths[t]!; level > 0; level--) {
        const p = packed[node]!;
        node = (p >> featureBits) + +(row[p & featureMask]! >= threshold[node]!);
      }
      margin = Math.fround(margin + leafValue[node]!);
    }
    return margin;
  }

  /** The leaf node (index within its tree) a row reaches in tree `t`, for explanations and tests. */
  leafIndex(values: ArrayLike<number>, t: number): number {
    const row = Float32Array.from(values);
    let node = this.roots[t]!;
    while (this.leaf[node] === 0) {
      const x = row[this.feature[node]!]!;
      const split = this.threshold[node]!;
      const left = this.child[node]!;
      node = x < split ? left : x >= split ? left + 1 : this.defaultLeft[node] === 1 ? left : left + 1;
    }
    return node - this.roots[t]!;
  }

  private checkWidth(cols: number): void {
    if (cols !== this.featureCount) {
      throw invalidParameter(`The model expects ${this.featureCount} features per row, got ${cols}`);
    }
  }
}
