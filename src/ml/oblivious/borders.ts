/**
 * Split borders of every feature, built on the gbdt binning (`fitBinMapper`, float32 thresholds, a value
 * goes left of border `t` when `x < t`), with two changes for symmetric trees:
 *
 * - missing values are treated as smaller than every value (CatBoost's `nan_mode=Min`): they always go
 *   left, and a feature with missing values in training gets one more border, its smallest present value,
 *   so that a split can separate missing from present values;
 * - the borders of a categorical feature are quantiles of its training-time (ordered) target statistics,
 *   pooled over all permutations.
 */

import { createMatrix, type Matrix } from '../../math/matrix.js';
import { type BinMapper, binMatrix, fitBinMapper, MISSING_BIN, packThresholds } from '../gbdt/binning.js';

export interface Borders {
  /** Thresholds of feature f: `cuts[cutStart[f] .. cutStart[f + 1])`, ascending float32 values. */
  readonly cuts: Float32Array;
  readonly cutStart: Int32Array;
  /** First histogram slot of feature f; feature f has `cutStart[f + 1] - cutStart[f] + 1` bins. */
  readonly binStart: Int32Array;
  readonly totalBins: number;
}

/**
 * Borders for the training matrix `x`; `categorical` gives, per categorical feature, its training-time
 * encodings (any number of rows, e.g. all permutations one after the other), which replace `x`'s column.
 */
export function fitBorders(
  x: Matrix,
  borderCount: number,
  categorical: readonly { readonly feature: number; readonly encoded: Float64Array }[],
): Borders {
  const maxBin = borderCount + 1;
  const base = fitBinMapper(x, maxBin);
  const perFeature: Float32Array[] = [];
  for (let f = 0; f < x.cols; f++) {
    perFeature.push(base.cuts.slice(base.cutStart[f]!, base.cutStart[f + 1]!));
  }
  const hasMissing = new Uint8Array(x.cols);
  for (let k = 0; k < x.data.length; k++) if (Number.isNaN(x.data[k]!)) hasMissing[k % x.cols] = 1;
  for (let f = 0; f < x.cols; f++) {
    const min = base.minValue[f]!;
    if (hasMissing[f] === 1 && !Number.isNaN(min)) {
      const cuts = new Float32Array(perFeature[f]!.length + 1);
      cuts[0] = min;
      cuts.set(perFeature[f]!, 1);
      perFeature[f] = cuts;
    }
  }
  for (const { feature, encoded } of categorical) {
    const mapper = fitBinMapper(createMatrix(encoded, encoded.length, 1), maxBin);
    perFeature[feature] = mapper.cuts.slice();
  }
  return packThresholds(perFeature);
}

/** Number of bins of feature `f` (thresholds + 1). */
export function binCount(borders: Borders, f: number): number {
  return borders.cutStart[f + 1]! - borders.cutStart[f]! + 1;
}

/**
 * Histogram offsets of every value of `x`, column-major (`out[f * rows + i]`): `2 * (binStart[f] + bin)`,
 * the position of the value's gradient in an interleaved (gradient, hessian) histogram. Missing values
 * fall in bin 0.
 */
export function histogramOffsets(borders: Borders, x: Matrix): Int32Array {
  const mapper: BinMapper = {
    cuts: borders.cuts,
    cutStart: borders.cutStart,
    binStart: borders.binStart,
    totalBins: borders.totalBins,
    minValue: new Float32Array(x.cols),
    maxValue: new Float32Array(x.cols),
  };
  const bins = binMatrix(mapper, x);
  const out = new Int32Array(bins.length);
  for (let i = 0; i < x.rows; i++) {
    for (let f = 0; f < x.cols; f++) {
      const bin = bins[i * x.cols + f]!;
      out[f * x.rows + i] = 2 * (borders.binStart[f]! + (bin === MISSING_BIN ? 0 : bin));
    }
  }
  return out;
}
