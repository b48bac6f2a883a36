/**
 * Grows one symmetric tree, level by level. At level l the rows sit in 2^l leaves; a pass over the rows
 * fills a (leaf, bin) histogram of gradient and hessian sums for the level's features (shallow levels
 * build each parent's smaller child and subtract it from the parent for the sibling), and every candidate
 * split (feature f, border b) is scored by the second-order structure score summed over all current
 * leaves, `sum over leaves of G_L^2 / (H_L + lambda) + G_R^2 / (H_R + lambda)` (the gain plus a constant of
 * the level). The best candidate becomes the level's split for every leaf. All buffers are allocated once
 * per fit (`GrowWorkspace`) and reused.
 */
import { type Borders, binCount } from './borders.js';
import { expandBundles, type HistogramLayout } from './histogram-layout.js';
import type { ObliviousTree } from './symmetric-tree.js';

export interface GrowSettings {
  readonly depth: number;
  readonly learningRate: number;
  readonly lambda: number;
  /** Standard deviation of the noise added to `sqrt(score)` of each candidate (0: no noise). */
  readonly noiseScale: number;
  /** Seed of the noise of this tree (a counter-based hash of seed and candidate gives each deviate). */
  readonly noiseSeed: number;
}

export interface GrowContext {
  readonly layout: HistogramLayout;
  readonly rows: number;
  readonly cols: number;
}

/** Histogram offsets of the training rows (see `layoutOffsets`), both column-major. */
export interface RowOffsets {
  /** `features[f * rows + i]`: row i's bin of feature f, as a histogram offset. */
  readonly features: Int32Array;
  /** `units[i * unitCount + u]` (row-major): row i's bin or bundle cell in histogram unit u. */
  readonly units: Int32Array;
}

/** The features a level may split on and the histogram units that cover them. */
export interface LevelFeatures {
  readonly features: Int32Array;
  readonly units: Int32Array;
}

/** Buffers reused by every tree of a fit. */
export class GrowWorkspace {
  readonly hist: Float64Array;
  readonly leafOf: Int32Array;
  /** Where row i's histogram slot starts at the current level. */
  readonly leafBase: Int32Array;
  /** Rows whose histogram is built at the current level. */
  readonly active: Int32Array;
  readonly leafG: Float64Array;
  readonly leafH: Float64Array;
  readonly leafRows: Int32Array;
  /** Per parent: 1 when its left child is the one built from rows. */
  readonly swap: Uint8Array;
  /** The leaves with rows at the current level. */
  readonly filled: Int32Array;
  readonly acc: Float64Array;
  readonly stride: number;

  constructor(context: GrowContext, depth: number) {
    this.stride = context.layout.stride;
    // Histograms are needed for levels 0..depth-1, so at most 2^(depth-1) leaves at once.
    this.hist = new Float64Array(2 ** (depth - 1) * this.stride);
    this.leafOf = new Int32Array(context.rows);
    this.leafBase = new Int32Array(context.rows);
    this.active = new Int32Array(context.rows);
    this.leafRows = new Int32Array(2 ** depth);
    this.swap = new Uint8Array(2 ** depth);
    this.filled = new Int32Array(2 ** depth);
    this.leafG = new Float64Array(2 ** depth);
    this.leafH = new Float64Array(2 ** depth);
    let widest = 1;
    for (let f = 0; f < context.cols; f++) widest = Math.max(widest, binCount(context.layout.borders, f));
    this.acc = new Float64Array(widest);
  }
}

/**
 * Grows a tree on every row; `levelFeatures(level)` gives the features a level may split on (the same
 * object for every level when all features are used, which lets histograms be derived from the parents').
 * Leaves the leaf of every row in `workspace.leafOf`. A level where no feature can split ends the tree.
 */
export function growObliviousTree(
  context: GrowContext,
  offsets: RowOffsets,
  grad: Float64Array,
  hess: Float64Array,
  settings: GrowSettings,
  levelFeatures: (level: number) => LevelFeatures,
  workspace: GrowWorkspace,
): ObliviousTree {
  const { layout, rows: n } = context;
  const borders = layout.borders;
  const { leafOf, leafG, leafH } = workspace;
  const lambda = settings.lambda;
  const features: number[] = [];
  const thresholds: number[] = [];
  leafOf.fill(0);
  let noiseCounter = settings.noiseSeed | 0;
  let previous: LevelFeatures | undefined;

  for (let level = 0; level < settings.depth; level++) {
    const feats = levelFeatures(level);
    buildHistograms(workspace, layout, offsets.units, grad, hess, n, level, feats.units, feats === previous);
    previous = feats;
    const best = bestSplit(
      workspace,
      borders,
      feats.features,
      1 << level,
      lambda,
      settings.noiseScale,
      noiseCounter,
    );
    noiseCounter = best.counter;
    const bestFeature = best.feature;
    const bestBorder = best.border;
    if (bestFeature < 0) break;

    features.push(bestFeature);
    thresholds.push(borders.cuts[borders.cutStart[bestFeature]! + bestBorder]!);
    // Rows whose bin is above the border (x >= threshold) go right: bit `level` set.
    const rightFrom = 2 * (borders.binStart[bestFeature]! + bestBorder + 1);
    const bit = 1 << level;
    const column = bestFeature * n;
    for (let i = 0; i < n; i++) {
      if (offsets.features[column + i]! >= rightFrom) leafOf[i] = leafOf[i]! | bit;
    }
  }

  const depth = features.length;
  const leafCount = 1 << depth;
  leafG.fill(0, 0, leafCount);
  leafH.fill(0, 0, leafCount);
  for (let i = 0; i < n; i++) {
    const leaf = leafOf[i]!;
    leafG[leaf] = leafG[leaf]! + grad[i]!;
    leafH[leaf] = leafH[leaf]! + hess[i]!;
  }
  const leafValues = new Float32Array(leafCount);
  const leafWeights = new Float64Array(leafCount);
  for (let leaf = 0; leaf < leafCount; leaf++) {
    leafValues[leaf] = (-leafG[leaf]! / (leafH[leaf]! + lambda)) * settings.learningRate;
    leafWeights[leaf] = leafH[leaf]!;
  }
  return {
    features: Int32Array.from(features),
    thresholds: Float32Array.from(thresholds),
    leafValues,
    leafWeights,
  };
}

/**
 * Fills the histograms of the `2^level` current leaves (leaf k in slot k) and the leaves' gradient and
 * hessian totals. With `fromParents`, slots 0..2^(level-1)-1 hold the previous level's histograms of the
 * same units, and when that is cheaper than building every leaf from its rows (shallow levels), only the
 * smaller child of each parent is built from its rows (into the right child's slot) and its sibling is
 * the parent minus it.
 */
function buildHistograms(
  workspace: GrowWorkspace,
  layout: HistogramLayout,
  offsets: Int32Array,
  grad: Float64Array,
  hess: Float64Array,
  n: number,
  level: number,
  units: Int32Array,
  fromParents: boolean,
): void {
  const { hist, leafOf, leafBase, active, leafG, leafH, leafRows, swap, stride } = workspace;
  const leaves = 1 << level;
  const half = leaves >> 1;
  leafG.fill(0, 0, leaves);
  leafH.fill(0, 0, leaves);
  leafRows.fill(0, 0, leaves);
  for (let i = 0; i < n; i++) {
    const leaf = leafOf[i]!;
    leafG[leaf] = leafG[leaf]! + grad[i]!;
    leafH[leaf] = leafH[leaf]! + hess[i]!;
    leafRows[leaf] = leafRows[leaf]! + 1;
  }
  let derive = false;
  if (level > 0 && fromParents) {
    // Deriving saves the larger children's row updates and costs a pass over the parents' histograms.
    let largerRows = 0;
    for (let p = 0; p < half; p++) largerRows += Math.max(leafRows[p]!, leafRows[p + half]!);
    derive = half * stride * SUBTRACT_COST < largerRows * units.length;
  }
  let count = 0;
  if (!derive) {
    hist.fill(0, 0, leaves * stride);
    for (let i = 0; i < n; i++) {
      active[count++] = i;
      leafBase[i] = leafOf[i]! * stride;
    }
  } else {
    hist.fill(0, half * stride, leaves * stride);
    // Build the smaller child of each parent p (left child p, right child p + half) in slot p + half.
    for (let p = 0; p < half; p++) swap[p] = leafRows[p]! < leafRows[p + half]! ? 1 : 0;
    for (let i = 0; i < n; i++) {
      const leaf = leafOf[i]!;
      const parent = leaf & (half - 1);
      if ((leaf >= half ? 0 : 1) === swap[parent]) {
        active[count++] = i;
        leafBase[i] = (parent + half) * stride;
      }
    }
  }
  // Row by row over the row-major unit offsets: one update per unit of the row's leaf histogram.
  const unitCount = offsets.length / n;
  const all = units.length === unitCount;
  const nu = units.length;
  for (let k = 0; k < count; k++) {
    const i = active[k]!;
    const base = leafBase[i]!;
    const g = grad[i]!;
    const h = hess[i]!;
    const row = i * unitCount;
    if (all) {
      for (let u = 0; u < nu; u++) {
        const at = base + offsets[row + u]!;
        hist[at] = hist[at]! + g;
        hist[at + 1] = hist[at + 1]! + h;
      }
    } else {
      for (let j = 0; j < nu; j++) {
        const at = base + offsets[row + units[j]!]!;
        hist[at] = hist[at]! + g;
        hist[at + 1] = hist[at + 1]! + h;
      }
    }
  }
  const builtFrom = derive ? half : 0;
  for (let slot = builtFrom; slot < leaves; slot++) expandBundles(layout, hist, slot * stride);
  if (!derive) return;
  for (let p = 0; p < half; p++) {
    const parentAt = p * stride;
    const childAt = (p + half) * stride;
    if (swap[p] === 1) {
      // The left child was built: left = built, right = parent - built.
      for (let k = 0; k < stride; k++) {
        const built = hist[childAt + k]!;
        hist[childAt + k] = hist[parentAt + k]! - built;
        hist[parentAt + k] = built;
      }
    } else {
      for (let k = 0; k < stride; k++) hist[parentAt + k] = hist[parentAt + k]! - hist[childAt + k]!;
    }
  }
}

function bestSplit(
  workspace: GrowWorkspace,
  borders: Borders,
  feats: Int32Array,
  leaves: number,
  lambda: number,
  noiseScale: number,
  counter: number,
): { feature: number; border: number; counter: number } {
  const { hist, leafG, leafH, acc, stride } = workspace;
  const noisy = noiseScale > 0;
  let bestFeature = -1;
  let bestBorder = -1;
  let bestScore = Number.NEGATIVE_INFINITY;
  let noiseCounter = counter;
  // Leaves without rows add 0 to every candidate: only the others are scored.
  const filled = workspace.filled;
  let filledCount = 0;
  for (let leaf = 0; leaf < leaves; leaf++) if (leafH[leaf]! !== 0) filled[filledCount++] = leaf;
  for (let j = 0; j < feats.length; j++) {
    const f = feats[j]!;
    const borderCount = binCount(borders, f) - 1;
    if (borderCount < 1) continue;
    acc.fill(0, 0, borderCount);
    const featureBase = 2 * borders.binStart[f]!;
    let k = 0;
    // Two leaves at a time, their four terms over one division:
    // gl^2/dl + gr^2/dr = nA/dA per leaf, and nA/dA + nB/dB = (nA dB + nB dA) / (dA dB).
    for (; k + 1 < filledCount; k += 2) {
      const leafA = filled[k]!;
      const leafB = filled[k + 1]!;
      const gA = leafG[leafA]!;
      const hA = leafH[leafA]! + lambda;
      const gB = leafG[leafB]!;
      const hB = leafH[leafB]! + lambda;
      let glA = 0;
      let hlA = 0;
      let glB = 0;
      let hlB = 0;
      let atA = leafA * stride + featureBase;
      let atB = leafB * stride + featureBase;
      for (let b = 0; b < borderCount; b++, atA += 2, atB += 2) {
        glA += hist[atA]!;
        hlA += hist[atA + 1]!;
        glB += hist[atB]!;
        hlB += hist[atB + 1]!;
        const grA = gA - glA;
        const dlA = hlA + lambda;
        const drA = hA - hlA;
        const grB = gB - glB;
        const dlB = hlB + lambda;
        const drB = hB - hlB;
        const nA = glA * glA * drA + grA * grA * dlA;
        const dA = dlA * drA;
        const nB = glB * glB * drB + grB * grB * dlB;
        const dB = dlB * drB;
        acc[b] = acc[b]! + (nA * dB + nB * dA) / (dA * dB);
      }
    }
    if (k < filledCount) {
      const leaf = filled[k]!;
      const gTotal = leafG[leaf]!;
      const hTotal = leafH[leaf]! + lambda;
      let gl = 0;
      let hl = 0;
      let at = leaf * stride + featureBase;
      for (let b = 0; b < borderCount; b++, at += 2) {
        gl += hist[at]!;
        hl += hist[at + 1]!;
        const gr = gTotal - gl;
        const dl = hl + lambda;
        const dr = hTotal - hl;
        acc[b] = acc[b]! + (gl * gl * dr + gr * gr * dl) / (dl * dr);
      }
    }
    for (let b = 0; b < borderCount; b++) {
      let score = acc[b]!;
      if (noisy) {
        noiseCounter = (noiseCounter + 0x9e3779b9) | 0;
        score = Math.sqrt(score) + noiseScale * standardNormal(noiseCounter);
      }
      if (score > bestScore) {
        bestScore = score;
        bestFeature = f;
        bestBorder = b;
      }
    }
  }
  return { feature: bestFeature, border: bestBorder, counter: noiseCounter };
}

/** Cost of subtracting one histogram value relative to one row update (measured, roughly). */
const SUBTRACT_COST = 0.6;

/** 4096 standard normal quantiles at (k + 0.5) / 4096: deviates drawn by a uniform 12-bit index. */
const NORMAL_TABLE = (() => {
  const size = 4096;
  const table = new Float64Array(size);
  for (let k = 0; k < size; k++) table[k] = normalQuantile((k + 0.5) / size);
  return table;
})();

/** A standard normal deviate determined by a 32-bit counter (murmur3's finalizer as the hash). */
function standardNormal(counter: number): number {
  let z = counter;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return NORMAL_TABLE[z >>> 20]!;
}

/** The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}
