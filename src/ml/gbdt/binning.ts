import type { Matrix } from '../../math/matrix.js';

/** The bin code of a missing value. */
export const MISSING_BIN = 0xffff;

/**
 * Per-feature histogram bins, as XGBoost's `hist` method makes them. Feature `f` has thresholds
 * `cuts[cutStart[f] .. cutStart[f + 1])`, ascending float32 values; a value's bin is the number of
 * thresholds it is not below, so bin `b > 0` holds `cut[b-1] <= x < cut[b]` and a split "left of bin b"
 * is the test `x < cut[b-1]`, the same test XGBoost stores as `split_condition`. Comparisons use the
 * float32 value of `x`, as XGBoost does, so a model behaves identically in both.
 */
export interface BinMapper {
  readonly cuts: Float32Array;
  /** `cutStart[f]` is where feature f's thresholds begin; length = features + 1. */
  readonly cutStart: Int32Array;
  /** Bins of feature f = thresholds + 1; `binStart[f]` is its first slot in a histogram. */
  readonly binStart: Int32Array;
  readonly totalBins: number;
  /** Smallest and largest present float32 value per feature (NaN when every value is missing). */
  readonly minValue: Float32Array;
  readonly maxValue: Float32Array;
}

/**
 * Chooses thresholds per feature from the training values: every distinct value above the minimum when
 * there are at most `maxBin` of them (each value its own bin), otherwise `maxBin - 1` quantile values.
 */
export function fitBinMapper(x: Matrix, maxBin: number): BinMapper {
  const perFeature: Float32Array[] = [];
  const column = new Float32Array(x.rows);
  const minValue = new Float32Array(x.cols).fill(Number.NaN);
  const maxValue = new Float32Array(x.cols).fill(Number.NaN);
  for (let f = 0; f < x.cols; f++) {
    let n = 0;
    for (let i = 0; i < x.rows; i++) {
      const value = x.data[i * x.cols + f]!;
      if (!Number.isNaN(value)) column[n++] = value; // stored as float32
    }
    const sorted = column.subarray(0, n).slice().sort();
    if (n > 0) {
      minValue[f] = sorted[0]!;
      maxValue[f] = sorted[n - 1]!;
    }
    const distinct: number[] = [];
    for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!);
    let thresholds: number[];
    if (distinct.length <= maxBin) {
      thresholds = distinct.slice(1);
    } else {
      // Values at evenly spaced ranks of the rows (unweighted quantiles), deduplicated.
      thresholds = [];
      for (let b = 1; b < maxBin; b++) {
        const value = sorted[Math.floor((b * n) / maxBin)]!;
        if (value > sorted[0]! && value !== thresholds[thresholds.length - 1]) thresholds.push(value);
      }
    }
    perFeature.push(Float32Array.from(thresholds));
  }
  return { ...packThresholds(perFeature), minValue, maxValue };
}

/** Packs per-feature ascending thresholds into one array with each feature's cut and bin offsets. */
export function packThresholds(
  perFeature: readonly Float32Array[],
): Pick<BinMapper, 'cuts' | 'cutStart' | 'binStart' | 'totalBins'> {
  const features = perFeature.length;
  const cutStart = new Int32Array(features + 1);
  const binStart = new Int32Array(features + 1);
  for (let f = 0; f < features; f++) {
    cutStart[f + 1] = cutStart[f]! + perFeature[f]!.length;
    binStart[f + 1] = binStart[f]! + perFeature[f]!.length + 1;
  }
  const cuts = new Float32Array(cutStart[features]!);
  perFeature.forEach((thresholds, f) => {
    cuts.set(thresholds, cutStart[f]!);
  });
  return { cuts, cutStart, binStart, totalBins: binStart[features]! };
}

/** Bin codes of every value, row-major like the input; NaN becomes `MISSING_BIN`. */
export function binMatrix(mapper: BinMapper, x: Matrix): Uint16Array {
  const out = new Uint16Array(x.rows * x.cols);
  for (let f = 0; f < x.cols; f++) {
    const start = mapper.cutStart[f]!;
    const count = mapper.cutStart[f + 1]! - start;
    for (let i = 0; i < x.rows; i++) {
      const value = x.data[i * x.cols + f]!;
      out[i * x.cols + f] = Number.isNaN(value)
        ? MISSING_BIN
        : binOf(mapper.cuts, start, count, Math.fround(value));
    }
  }
  return out;
}

/** Number of thresholds in `cuts[start .. start+count)` that are <= value (binary search). */
function binOf(cuts: Float32Array, start: number, count: number, value: number): number {
  let low = 0;
  let high = count;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (cuts[start + mid]! <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}
