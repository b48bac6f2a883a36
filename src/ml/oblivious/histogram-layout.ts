/**
 * Where each value lands in a leaf's histogram. A leaf's histogram holds, interleaved, the gradient and
 * hessian sums of every bin of every feature (`binStart` of the borders), followed by joint cells of
 * "bundles": features with few bins (binary and small categorical ones) are histogrammed together, one
 * cell per combination of their bins, so a row costs one update per bundle instead of one per feature.
 * The per-feature bins of bundled features are then summed from the joint cells (`expandBundles`).
 * Features with a single bin cannot split and are left out.
 */

import type { Matrix } from '../../math/matrix.js';
import { type Borders, binCount, histogramOffsets } from './borders.js';

/** Joint cells of a bundle: at most this many per bundle. */
const MAX_BUNDLE_CELLS = 16;
/** Features with at most this many bins may be bundled. */
const MAX_BUNDLED_BINS = 4;

export interface Bundle {
  readonly features: Int32Array;
  /** Bins of each member; a cell is `sum(bin[m] * multiplier[m])`. */
  readonly bins: Int32Array;
  readonly multipliers: Int32Array;
  /** First cell's slot (in bins) within a leaf's histogram. */
  readonly cellStart: number;
  readonly cells: number;
}

export interface HistogramLayout {
  readonly borders: Borders;
  /** Histogram units: a unit is one feature (`unitFeature[u] >= 0`) or a bundle (`-1 - bundle index`). */
  readonly unitFeature: Int32Array;
  /** The unit each feature is histogrammed in (-1 for features that cannot split). */
  readonly unitOf: Int32Array;
  readonly bundles: readonly Bundle[];
  /** Doubles per leaf histogram: 2 x (feature bins + bundle cells). */
  readonly stride: number;
}

export function histogramLayout(borders: Borders, cols: number): HistogramLayout {
  const units: number[] = [];
  const unitOf = new Int32Array(cols).fill(-1);
  const bundles: Bundle[] = [];
  let slot = borders.totalBins;
  let members: number[] = [];
  let cells = 1;
  const closeBundle = (): void => {
    if (members.length === 1) {
      unitOf[members[0]!] = units.length;
      units.push(members[0]!);
    } else if (members.length > 1) {
      const bins = Int32Array.from(members, (f) => binCount(borders, f));
      const multipliers = new Int32Array(members.length);
      let m = 1;
      for (let k = 0; k < members.length; k++) {
        multipliers[k] = m;
        m *= bins[k]!;
      }
      for (const f of members) unitOf[f] = units.length;
      units.push(-1 - bundles.length);
      bundles.push({ features: Int32Array.from(members), bins, multipliers, cellStart: slot, cells: m });
      slot += m;
    }
    members = [];
    cells = 1;
  };
  for (let f = 0; f < cols; f++) {
    const bins = binCount(borders, f);
    if (bins < 2) continue;
    if (bins > MAX_BUNDLED_BINS) {
      unitOf[f] = units.length;
      units.push(f);
      continue;
    }
    if (cells * bins > MAX_BUNDLE_CELLS) closeBundle();
    members.push(f);
    cells *= bins;
  }
  closeBundle();
  return { borders, unitFeature: Int32Array.from(units), unitOf, bundles, stride: 2 * slot };
}

/**
 * Histogram offsets of every value of `x` per unit, row-major (`out[i * units + u]`): the position of
 * the row's gradient within a leaf histogram, for its bin (single features) or joint cell (bundles).
 * `featureOffsets` are `histogramOffsets(borders, x)`.
 */
export function unitOffsets(layout: HistogramLayout, featureOffsets: Int32Array, rows: number): Int32Array {
  const { unitFeature, bundles, borders } = layout;
  const units = unitFeature.length;
  const out = new Int32Array(units * rows);
  for (let u = 0; u < units; u++) {
    const feature = unitFeature[u]!;
    if (feature >= 0) {
      for (let i = 0; i < rows; i++) out[i * units + u] = featureOffsets[feature * rows + i]!;
      continue;
    }
    const bundle = bundles[-1 - feature]!;
    for (let i = 0; i < rows; i++) {
      let cell = 0;
      for (let k = 0; k < bundle.features.length; k++) {
        const f = bundle.features[k]!;
        const bin = featureOffsets[f * rows + i]! / 2 - borders.binStart[f]!;
        cell += bin * bundle.multipliers[k]!;
      }
      out[i * units + u] = 2 * (bundle.cellStart + cell);
    }
  }
  return out;
}

/** Both kinds of offsets of a training matrix. */
export function layoutOffsets(
  layout: HistogramLayout,
  x: Matrix,
): { readonly features: Int32Array; readonly units: Int32Array } {
  const features = histogramOffsets(layout.borders, x);
  return { features, units: unitOffsets(layout, features, x.rows) };
}

/** Adds the joint cells of the bundles in the histogram at `base` into their members' bins. */
export function expandBundles(layout: HistogramLayout, hist: Float64Array, base: number): void {
  const binStart = layout.borders.binStart;
  for (const bundle of layout.bundles) {
    const members = bundle.features.length;
    for (let c = 0; c < bundle.cells; c++) {
      const at = base + 2 * (bundle.cellStart + c);
      const g = hist[at]!;
      const h = hist[at + 1]!;
      if (h === 0 && g === 0) continue;
      for (let k = 0; k < members; k++) {
        const bin = Math.floor(c / bundle.multipliers[k]!) % bundle.bins[k]!;
        const to = base + 2 * (binStart[bundle.features[k]!]! + bin);
        hist[to] = hist[to]! + g;
        hist[to + 1] = hist[to + 1]! + h;
      }
    }
  }
}
