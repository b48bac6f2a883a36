import type { BinMapper } from './binning.js';
import type { GrowKernel, KernelSplit } from './grow-kernel.js';
import { leafWeight, type RegularizationParams } from './loss.js';
import { type FlatTree, NO_PARENT } from './tree.js';

export interface GrowParams extends RegularizationParams {
  readonly max_depth: number;
  readonly min_child_weight: number;
  readonly gamma: number;
  readonly learning_rate: number;
}

/** XGBoost's smallest loss change worth a split (kRtEps). */
const MIN_SPLIT_GAIN = 1e-6;

/** A node while the tree grows. Rows of the node are `rows[start .. end)` of the grower's row buffer. */
interface GrowNode {
  readonly depth: number;
  readonly start: number;
  readonly end: number;
  readonly g: number;
  readonly h: number;
  /** Where its histogram is in the kernel's memory, while it has one. */
  hist: number | undefined;
  split: KernelSplit | undefined;
  left: GrowNode | undefined;
  right: GrowNode | undefined;
}

/** The training inputs shared by every tree of one fit. */
export interface GrowContext {
  readonly mapper: BinMapper;
  readonly params: GrowParams;
  /**
   * The histograms, the split search and the partitions, with the cells (each cell's histogram slot),
   * the gradients and the row buffer in its memory.
   */
  readonly kernel: GrowKernel;
}

/** A grown tree: its flat form, and the leaf of every row it was grown on (for fast margin updates). */
export interface GrownTree {
  readonly tree: FlatTree;
  /** `growTree` reorders `rows` in place; afterwards row `rows[k]` is in leaf `leafOf[k]` of `tree`. */
  readonly leafOf: Int32Array;
}

/**
 * Grows one tree depthwise on the rows `rows` (indices into the binned matrix) with gradients `grad` and
 * hessians `hess`, evaluating splits on `features` (features allowed per level through `levelFeatures`).
 * Histograms are built for the smaller child and derived for the larger by subtraction from the parent;
 * both, and the search of each node's best split (XGBoost's enumeration over every bin boundary, missing
 * values each way), run in the context's kernel (`grow-kernel.wat`).
 */
export function growTree(
  context: GrowContext,
  rows: Uint32Array,
  grad: Float64Array,
  hess: Float64Array,
  treeFeatures: Int32Array,
  levelFeatures: (depth: number) => Int32Array,
): GrownTree {
  const { params, kernel } = context;
  let g = 0;
  let h = 0;
  for (let k = 0; k < rows.length; k++) {
    g += grad[rows[k]!]!;
    h += hess[rows[k]!]!;
  }
  kernel.setGradients(grad, hess);
  kernel.rows().set(rows);
  const root: GrowNode = makeNode(0, 0, rows.length, g, h);
  root.hist = kernel.histogram(0, rows.length, treeFeatures);

  let level = [root];
  for (let depth = 0; depth < params.max_depth && level.length > 0; depth++) {
    const features = levelFeatures(depth);
    const next: GrowNode[] = [];
    for (const node of level) {
      const split = kernel.bestSplit(node.hist!, features, node.g, node.h);
      if (split === undefined || !(split.gain > MIN_SPLIT_GAIN) || split.gain < params.gamma) continue;
      node.split = split;
      const leftEnd = kernel.partition(
        node.start,
        node.end,
        split.feature,
        context.mapper.binStart[split.feature]! + split.bin,
        split.defaultLeft,
      );
      node.left = makeNode(depth + 1, node.start, leftEnd, split.gLeft, split.hLeft);
      node.right = makeNode(depth + 1, leftEnd, node.end, node.g - split.gLeft, node.h - split.hLeft);
      if (depth + 1 < params.max_depth) {
        const smallerIsLeft = leftEnd - node.start <= node.end - leftEnd;
        const smaller = smallerIsLeft ? node.left : node.right;
        const larger = smallerIsLeft ? node.right : node.left;
        smaller.hist = kernel.histogram(smaller.start, smaller.end, treeFeatures);
        // The parent's histogram becomes the larger child's: parent - smaller, in place.
        larger.hist = kernel.subtract(node.hist!, smaller.hist);
        node.hist = undefined;
      }
      next.push(node.left, node.right);
    }
    for (const node of level) {
      if (node.hist !== undefined) kernel.release(node.hist);
      node.hist = undefined;
    }
    level = next;
  }
  for (const node of level) {
    if (node.hist !== undefined) kernel.release(node.hist);
  }
  rows.set(kernel.rows().subarray(0, rows.length));
  return flatten(root, context);
}

function makeNode(depth: number, start: number, end: number, g: number, h: number): GrowNode {
  return { depth, start, end, g, h, hist: undefined, split: undefined, left: undefined, right: undefined };
}

/** Numbers the nodes breadth-first (XGBoost's layout) and records each grown row's leaf. */
function flatten(root: GrowNode, context: GrowContext): GrownTree {
  const { params, mapper } = context;
  const order: GrowNode[] = [root];
  for (let i = 0; i < order.length; i++) {
    const node = order[i]!;
    if (node.left && node.right) order.push(node.left, node.right);
  }
  const n = order.length;
  const tree: FlatTree = {
    left: new Int32Array(n),
    right: new Int32Array(n),
    parent: new Int32Array(n),
    feature: new Int32Array(n),
    condition: new Float32Array(n),
    defaultLeft: new Uint8Array(n),
    lossChange: new Float32Array(n),
    sumHessian: new Float32Array(n),
    baseWeight: new Float32Array(n),
  };
  const leafOf = new Int32Array(root.end - root.start);
  tree.parent[0] = NO_PARENT;
  let nextChild = 1;
  order.forEach((node, id) => {
    const weight = node.h < params.min_child_weight ? 0 : leafWeight(node.g, node.h, params);
    tree.sumHessian[id] = node.h;
    if (node.split && node.left && node.right) {
      tree.left[id] = nextChild;
      tree.right[id] = nextChild + 1;
      tree.parent[nextChild] = id;
      tree.parent[nextChild + 1] = id;
      nextChild += 2;
      tree.feature[id] = node.split.feature;
      tree.condition[id] = splitThreshold(mapper, node.split.feature, node.split.bin);
      tree.defaultLeft[id] = node.split.defaultLeft ? 1 : 0;
      tree.lossChange[id] = node.split.gain;
      tree.baseWeight[id] = weight;
    } else {
      tree.left[id] = -1;
      tree.right[id] = -1;
      const value = weight * params.learning_rate;
      tree.condition[id] = value;
      tree.baseWeight[id] = value;
      leafOf.fill(id, node.start, node.end);
    }
  });
  return { tree, leafOf };
}

/**
 * The `split_condition` of "rows in bins below `bin` go left": threshold `bin - 1` of the feature. A split
 * with every present value on the left (bin past the last) uses a value above the training maximum, as
 * XGBoost's last cut does (max + |max| + 1e-5).
 */
function splitThreshold(mapper: BinMapper, feature: number, bin: number): number {
  const thresholds = mapper.cutStart[feature + 1]! - mapper.cutStart[feature]!;
  if (bin <= thresholds) return mapper.cuts[mapper.cutStart[feature]! + bin - 1]!;
  const max = mapper.maxValue[feature]!;
  return Math.fround(max + (Math.abs(max) + 1e-5));
}
