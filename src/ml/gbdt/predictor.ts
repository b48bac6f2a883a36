import { invalidParameter } from '../../errors.js';
import type { Matrix } from '../matrix.js';
import type { FlatTree } from './tree.js';

/**
 * Predicts from an ensemble packed into flat typed arrays (one set for all trees). It follows XGBoost's
 * CPU predictor arithmetic: features compared as float32 (`x < threshold`, missing values follow the
 * node's default direction) and leaf values summed into a float32 margin in tree order, so a model
 * predicts the same here and in XGBoost. A predictor never changes the model it was built from.
 */
export class TreeEnsemblePredictor {
  readonly featureCount: number;
  private readonly roots: Int32Array;
  /** Split feature, or -1 for a leaf. */
  private readonly feature: Int32Array;
  /** Split threshold (float32 value), or the leaf value. */
  private readonly value: Float64Array;
  /** Global index of the left child; the right child is the next node. */
  private readonly left: Int32Array;
  private readonly defaultLeft: Uint8Array;
  private readonly baseMargin: number;
  private readonly row: Float32Array;

  constructor(trees: readonly FlatTree[], baseMargin: number, featureCount: number) {
    this.featureCount = featureCount;
    this.baseMargin = Math.fround(baseMargin);
    const total = trees.reduce((sum, tree) => sum + tree.left.length, 0);
    this.roots = new Int32Array(trees.length);
    this.feature = new Int32Array(total);
    this.value = new Float64Array(total);
    this.left = new Int32Array(total);
    this.defaultLeft = new Uint8Array(total);
    this.row = new Float32Array(featureCount);
    let offset = 0;
    trees.forEach((tree, t) => {
      this.roots[t] = offset;
      for (let node = 0; node < tree.left.length; node++) {
        const at = offset + node;
        const leaf = tree.left[node] === -1;
        this.feature[at] = leaf ? -1 : tree.feature[node]!;
        this.value[at] = tree.condition[node]!;
        this.left[at] = leaf ? -1 : offset + tree.left[node]!;
        this.defaultLeft[at] = tree.defaultLeft[node]!;
      }
      offset += tree.left.length;
    });
  }

  /** The margin (log-odds) of one row given as float32 values. */
  private marginOfRow(row: Float32Array, treeLimit: number): number {
    const { roots, feature, value, left, defaultLeft } = this;
    let margin = this.baseMargin;
    for (let t = 0; t < treeLimit; t++) {
      let node = roots[t]!;
      let f = feature[node]!;
      while (f >= 0) {
        const x = row[f]!;
        const threshold = value[node]!;
        const child = left[node]!;
        node =
          x < threshold ? child : x >= threshold ? child + 1 : defaultLeft[node] === 1 ? child : child + 1;
        f = feature[node]!;
      }
      margin = Math.fround(margin + value[node]!);
    }
    return margin;
  }

  /** Margins of every row; `treeLimit` uses only the first trees (all by default). */
  predictMargin(x: Matrix, treeLimit = this.roots.length): Float64Array {
    this.checkWidth(x.cols);
    const out = new Float64Array(x.rows);
    const row = this.row;
    const cols = x.cols;
    const data = x.data;
    for (let i = 0; i < x.rows; i++) {
      const base = i * cols;
      for (let f = 0; f < cols; f++) row[f] = data[base + f]!;
      out[i] = this.marginOfRow(row, treeLimit);
    }
    return out;
  }

  /** The margin of a single row of feature values (the fast path for online serving). */
  predictMarginOne(values: ArrayLike<number>): number {
    this.checkWidth(values.length);
    const row = this.row;
    for (let f = 0; f < values.length; f++) row[f] = values[f]!;
    return this.marginOfRow(row, this.roots.length);
  }

  /** The leaf node (index within its tree) each row reaches in tree `t`, for explanations and tests. */
  leafIndex(values: ArrayLike<number>, t: number): number {
    const row = Float32Array.from(values);
    let node = this.roots[t]!;
    while (this.feature[node]! >= 0) {
      const x = row[this.feature[node]!]!;
      const threshold = this.value[node]!;
      const child = this.left[node]!;
      node =
        x < threshold ? child : x >= threshold ? child + 1 : this.defaultLeft[node] === 1 ? child : child + 1;
    }
    return node - this.roots[t]!;
  }

  private checkWidth(cols: number): void {
    if (cols !== this.featureCount) {
      throw invalidParameter(`The model expects ${this.featureCount} features per row, got ${cols}`);
    }
  }
}

/** XGBoost's sigmoid of a margin. */
export function marginToProbability(margin: number): number {
  return 1 / (1 + Math.exp(-margin));
}
