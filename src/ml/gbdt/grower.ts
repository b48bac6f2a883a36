import type { BinMapper } from './binning.js';
import { leafWeight, nodeGain, type RegularizationParams } from './loss.js';
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
  hist: Float64Array | undefined;
  split: Split | undefined;
  left: GrowNode | undefined;
  right: GrowNode | undefined;
}

interface Split {
  readonly feature: number;
  /** Rows with bin < `bin` go left. */
  readonly bin: number;
  readonly defaultLeft: boolean;
  readonly gain: number;
  readonly gLeft: number;
  readonly hLeft: number;
}

/** The training inputs shared by every tree of one fit. */
export interface GrowContext {
  /**
   * Per cell (row-major), the histogram slot of its value: `binStart[f] + bin`, or `missingSlot` for a
   * missing value. Precomputed so the histogram loop is one load and two adds per cell.
   */
  readonly slots: Uint16Array | Uint32Array;
  readonly missingSlot: number;
  /** 1 where the feature has a missing value in some training row. */
  readonly featureHasMissing: Uint8Array;
  readonly cols: number;
  readonly mapper: BinMapper;
  readonly params: GrowParams;
  /** Free histogram buffers, reused across nodes and trees of one fit. */
  readonly pool: Float64Array[];
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
 * Histograms are built for the smaller child and derived for the larger by subtraction from the parent.
 */
export function growTree(
  context: GrowContext,
  rows: Uint32Array,
  grad: Float64Array,
  hess: Float64Array,
  treeFeatures: Int32Array,
  levelFeatures: (depth: number) => Int32Array,
): GrownTree {
  const { params } = context;
  let g = 0;
  let h = 0;
  for (let k = 0; k < rows.length; k++) {
    g += grad[rows[k]!]!;
    h += hess[rows[k]!]!;
  }
  const scratch = new Uint32Array(rows.length);
  const root: GrowNode = makeNode(0, 0, rows.length, g, h);
  const pool = context.pool;
  root.hist = buildHistogram(context, pool, rows, 0, rows.length, grad, hess, treeFeatures);

  let level = [root];
  for (let depth = 0; depth < params.max_depth && level.length > 0; depth++) {
    const features = levelFeatures(depth);
    const next: GrowNode[] = [];
    for (const node of level) {
      const split = findBestSplit(context, node, features);
      if (split === undefined) continue;
      node.split = split;
      const leftEnd = partition(context, rows, scratch, node, split);
      node.left = makeNode(depth + 1, node.start, leftEnd, split.gLeft, split.hLeft);
      node.right = makeNode(depth + 1, leftEnd, node.end, node.g - split.gLeft, node.h - split.hLeft);
      if (depth + 1 < params.max_depth) {
        const smallerIsLeft = leftEnd - node.start <= node.end - leftEnd;
        const smaller = smallerIsLeft ? node.left : node.right;
        const larger = smallerIsLeft ? node.right : node.left;
        smaller.hist = buildHistogram(
          context,
          pool,
          rows,
          smaller.start,
          smaller.end,
          grad,
          hess,
          treeFeatures,
        );
        // The parent's histogram becomes the larger child's: parent - smaller, in place.
        larger.hist = subtractInPlace(node.hist!, smaller.hist);
        node.hist = undefined;
      }
      next.push(node.left, node.right);
    }
    for (const node of level) {
      if (node.hist) pool.push(node.hist);
      node.hist = undefined;
    }
    level = next;
  }
  return flatten(root, context);
}

function makeNode(depth: number, start: number, end: number, g: number, h: number): GrowNode {
  return { depth, start, end, g, h, hist: undefined, split: undefined, left: undefined, right: undefined };
}

/**
 * Histogram of g and h per bin for the node's rows (plus a last slot collecting missing values, which
 * split finding ignores); the buffer comes from `pool` when one is free.
 */
function buildHistogram(
  context: GrowContext,
  pool: Float64Array[],
  rows: Uint32Array,
  start: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
  features: Int32Array,
): Float64Array {
  const { slots, cols, missingSlot } = context;
  const hist = pool.pop()?.fill(0) ?? new Float64Array((missingSlot + 1) * 2);
  if (features.length === cols) {
    for (let k = start; k < end; k++) {
      const row = rows[k]!;
      const gi = grad[row]!;
      const hi = hess[row]!;
      const base = row * cols;
      for (let f = 0; f < cols; f++) {
        const slot = slots[base + f]! << 1;
        hist[slot] = hist[slot]! + gi;
        hist[slot + 1] = hist[slot + 1]! + hi;
      }
    }
  } else {
    for (let k = start; k < end; k++) {
      const row = rows[k]!;
      const gi = grad[row]!;
      const hi = hess[row]!;
      const base = row * cols;
      for (let j = 0; j < features.length; j++) {
        const slot = slots[base + features[j]!]! << 1;
        hist[slot] = hist[slot]! + gi;
        hist[slot + 1] = hist[slot + 1]! + hi;
      }
    }
  }
  return hist;
}

function subtractInPlace(parent: Float64Array, child: Float64Array): Float64Array {
  for (let i = 0; i < parent.length; i++) parent[i] = parent[i]! - child[i]!;
  return parent;
}

/** XGBoost's split enumeration over one node's histogram: every bin boundary, missing values each way. */
function findBestSplit(context: GrowContext, node: GrowNode, features: Int32Array): Split | undefined {
  const { mapper, params, featureHasMissing } = context;
  const hist = node.hist!;
  const lambda = params.reg_lambda;
  // Without L1 or a step limit, a node's gain is G^2 / (H + lambda): computed inline in the hot loop.
  const plain = params.reg_alpha === 0 && params.max_delta_step === 0;
  const gainOf = (g: number, h: number) => (plain ? (g * g) / (h + lambda) : nodeGain(g, h, params));
  const nodeG = node.g;
  const nodeH = node.h;
  const parentGain = gainOf(nodeG, nodeH);
  const minChild = Math.max(params.min_child_weight, 1e-300);
  let bestGain = Number.NEGATIVE_INFINITY;
  let bestFeature = -1;
  let bestBin = 0;
  let bestDefaultLeft = false;
  let bestGLeft = 0;
  let bestHLeft = 0;

  for (let j = 0; j < features.length; j++) {
    const f = features[j]!;
    const first = mapper.binStart[f]! << 1;
    const end = mapper.binStart[f + 1]! << 1;
    if (end - first < 4 && featureHasMissing[f] !== 1) continue;
    let gMissing = 0;
    let hMissing = 0;
    if (featureHasMissing[f] === 1) {
      let gPresent = 0;
      let hPresent = 0;
      for (let slot = first; slot < end; slot += 2) {
        gPresent += hist[slot]!;
        hPresent += hist[slot + 1]!;
      }
      gMissing = nodeG - gPresent;
      hMissing = nodeH - hPresent;
    }
    const hasMissing = hMissing > 1e-12;
    if (hasMissing) {
      // XGBoost's two extra candidates: every present value on one side, the missing ones on the other.
      const hPresent = nodeH - hMissing;
      if (hPresent >= minChild && hMissing >= minChild) {
        const gPresent = nodeG - gMissing;
        const gain = gainOf(gPresent, hPresent) + gainOf(gMissing, hMissing) - parentGain;
        if (gain > bestGain) {
          // Present left (bin past the last), missing right.
          bestGain = gain;
          bestFeature = f;
          bestBin = (end - first) >> 1;
          bestDefaultLeft = false;
          bestGLeft = gPresent;
          bestHLeft = hPresent;
        }
        // Missing left, present right (bin 0) has the same gain: the first candidate wins the tie.
      }
    }
    let gLeft = 0;
    let hLeft = 0;
    // Boundary before bin b: rows in bins < b go left.
    for (let slot = first; slot < end - 2; slot += 2) {
      gLeft += hist[slot]!;
      hLeft += hist[slot + 1]!;
      // Missing values go right (the default when training saw none, as XGBoost).
      const hRight = nodeH - hLeft;
      if (hLeft >= minChild && hRight >= minChild) {
        const gRight = nodeG - gLeft;
        const gain = plain
          ? (gLeft * gLeft) / (hLeft + lambda) + (gRight * gRight) / (hRight + lambda) - parentGain
          : gainOf(gLeft, hLeft) + gainOf(gRight, hRight) - parentGain;
        if (gain > bestGain) {
          bestGain = gain;
          bestFeature = f;
          bestBin = ((slot - first) >> 1) + 1;
          bestDefaultLeft = false;
          bestGLeft = gLeft;
          bestHLeft = hLeft;
        }
      }
      if (hasMissing) {
        const gL = gLeft + gMissing;
        const hL = hLeft + hMissing;
        const hR = nodeH - hL;
        if (hL >= minChild && hR >= minChild) {
          const gain = gainOf(gL, hL) + gainOf(nodeG - gL, hR) - parentGain;
          if (gain > bestGain) {
            bestGain = gain;
            bestFeature = f;
            bestBin = ((slot - first) >> 1) + 1;
            bestDefaultLeft = true;
            bestGLeft = gL;
            bestHLeft = hL;
          }
        }
      }
    }
  }
  if (bestFeature < 0 || !(bestGain > MIN_SPLIT_GAIN) || bestGain < params.gamma) return undefined;
  return {
    feature: bestFeature,
    bin: bestBin,
    defaultLeft: bestDefaultLeft,
    gain: bestGain,
    gLeft: bestGLeft,
    hLeft: bestHLeft,
  };
}

/** Stable in-place partition of the node's rows: left rows first. Returns the end of the left part. */
function partition(
  context: GrowContext,
  rows: Uint32Array,
  scratch: Uint32Array,
  node: GrowNode,
  split: Split,
): number {
  const { slots, cols, missingSlot, mapper } = context;
  const boundary = mapper.binStart[split.feature]! + split.bin;
  let leftCount = 0;
  let rightCount = 0;
  for (let k = node.start; k < node.end; k++) {
    const row = rows[k]!;
    const slot = slots[row * cols + split.feature]!;
    const goesLeft = slot === missingSlot ? split.defaultLeft : slot < boundary;
    if (goesLeft) rows[node.start + leftCount++] = row;
    else scratch[rightCount++] = row;
  }
  rows.set(scratch.subarray(0, rightCount), node.start + leftCount);
  return node.start + leftCount;
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
