import { invalidParameter } from '../../errors.js';
import { validateBinaryInputs } from './validate.js';

/** The default number of calibration bins. */
export const DEFAULT_CALIBRATION_BINS = 10;

/**
 * One bin of a reliability diagram. Bins split [0, 1] into equal widths; bin 0 is `[0, upper]` and every
 * later bin is `(lower, upper]` (a probability on an inner edge falls in the lower bin, as scikit-learn's
 * `np.searchsorted(edges, p)` puts it). An empty bin has `count` 0 and null means.
 */
export interface CalibrationBin {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  /** Mean predicted probability of the rows in the bin; null when the bin is empty. */
  readonly meanPredicted: number | null;
  /** Fraction of the bin's rows with label 1; null when the bin is empty. */
  readonly observedRate: number | null;
}

/**
 * Reliability-curve data. `bins` lists every bin, empty ones included; `probTrue` and `probPred` are
 * scikit-learn's `calibration_curve(y, p, n_bins, strategy='uniform')` result: the observed positive
 * rate and the mean predicted probability of the non-empty bins, in bin order.
 */
export interface CalibrationCurve {
  readonly nBins: number;
  readonly bins: readonly CalibrationBin[];
  readonly probTrue: readonly number[];
  readonly probPred: readonly number[];
}

/**
 * Calibration bins over `nBins` (default 10) equal-width bins on [0, 1]. The edges are computed as
 * numpy's `linspace(0, 1, nBins + 1)` computes them (`i * (1 / nBins)`, last edge exactly 1), so rows on
 * an edge land in the same bin as in scikit-learn. `nBins` must be an integer in [1, 10000].
 */
export function calibrationCurve(
  yTrue: Float64Array,
  probability: Float64Array,
  nBins: number = DEFAULT_CALIBRATION_BINS,
): CalibrationCurve {
  validateBinaryInputs(yTrue, probability, 'calibrationCurve');
  validateBinCount(nBins, 'calibrationCurve');
  return calibrationUnchecked(yTrue, probability, nBins);
}

/** Checks a calibration bin count: an integer in [1, 10000]. */
export function validateBinCount(nBins: number, where: string): void {
  if (!Number.isInteger(nBins) || nBins < 1 || nBins > 10_000) {
    throw invalidParameter(`${where}: calibrationBins is ${nBins}; it must be an integer in [1, 10000]`);
  }
}

/** `calibrationCurve` without validation. */
export function calibrationUnchecked(
  yTrue: Float64Array,
  probability: Float64Array,
  nBins: number,
): CalibrationCurve {
  const step = 1 / nBins;
  const edges = new Float64Array(nBins + 1);
  for (let i = 0; i < nBins; i++) edges[i] = i * step;
  edges[nBins] = 1;

  const counts = new Float64Array(nBins);
  const sums = new Float64Array(nBins);
  const positives = new Float64Array(nBins);
  for (let i = 0; i < yTrue.length; i++) {
    const p = probability[i]!;
    // The bin is the number of inner edges strictly below p; start from the arithmetic guess and correct
    // it against the exact edges.
    let bin = Math.min(nBins - 1, Math.floor(p * nBins));
    while (bin > 0 && p <= edges[bin]!) bin--;
    while (bin < nBins - 1 && p > edges[bin + 1]!) bin++;
    counts[bin] = counts[bin]! + 1;
    sums[bin] = sums[bin]! + p;
    positives[bin] = positives[bin]! + yTrue[i]!;
  }

  const bins: CalibrationBin[] = [];
  const probTrue: number[] = [];
  const probPred: number[] = [];
  for (let b = 0; b < nBins; b++) {
    const count = counts[b]!;
    if (count === 0) {
      bins.push({ lower: edges[b]!, upper: edges[b + 1]!, count, meanPredicted: null, observedRate: null });
      continue;
    }
    const meanPredicted = sums[b]! / count;
    const observedRate = positives[b]! / count;
    bins.push({ lower: edges[b]!, upper: edges[b + 1]!, count, meanPredicted, observedRate });
    probTrue.push(observedRate);
    probPred.push(meanPredicted);
  }
  return { nBins, bins, probTrue, probPred };
}

/**
 * Expected calibration error over `nBins` (default 10) equal-width bins: the mean, weighted by each
 * bin's share of the rows, of |observed positive rate - mean predicted probability| (the bins of
 * `calibrationCurve`, so its figures are those of the reliability diagram shown beside it).
 */
export function expectedCalibrationError(
  yTrue: Float64Array,
  probability: Float64Array,
  nBins: number = DEFAULT_CALIBRATION_BINS,
): number {
  validateBinaryInputs(yTrue, probability, 'expectedCalibrationError');
  validateBinCount(nBins, 'expectedCalibrationError');
  return eceOfBins(calibrationUnchecked(yTrue, probability, nBins).bins, yTrue.length);
}

/** The ECE of reliability bins over `rows` rows. */
export function eceOfBins(bins: readonly CalibrationBin[], rows: number): number {
  let sum = 0;
  for (const bin of bins) {
    if (bin.count === 0) continue;
    sum += (bin.count / rows) * Math.abs(bin.observedRate! - bin.meanPredicted!);
  }
  return sum;
}

/**
 * Murphy's decomposition of the Brier score over the same bins: `reliability - resolution + uncertainty`
 * (exact when every row of a bin has the same probability; over binned probabilities, within the spread
 * of each bin). Reliability is the calibration error (lower is better), resolution how far the bins' rates
 * are from the base rate (higher is better), uncertainty the base rate's own variance.
 */
export interface BrierDecomposition {
  readonly brier: number;
  readonly reliability: number;
  readonly resolution: number;
  readonly uncertainty: number;
}

export function brierDecomposition(
  yTrue: Float64Array,
  probability: Float64Array,
  nBins: number = DEFAULT_CALIBRATION_BINS,
): BrierDecomposition {
  validateBinaryInputs(yTrue, probability, 'brierDecomposition');
  validateBinCount(nBins, 'brierDecomposition');
  const n = yTrue.length;
  let positives = 0;
  let squared = 0;
  for (let i = 0; i < n; i++) {
    positives += yTrue[i]!;
    squared += (probability[i]! - yTrue[i]!) ** 2;
  }
  const base = positives / n;
  let reliability = 0;
  let resolution = 0;
  for (const bin of calibrationUnchecked(yTrue, probability, nBins).bins) {
    if (bin.count === 0) continue;
    reliability += (bin.count / n) * (bin.meanPredicted! - bin.observedRate!) ** 2;
    resolution += (bin.count / n) * (bin.observedRate! - base) ** 2;
  }
  return { brier: squared / n, reliability, resolution, uncertainty: base * (1 - base) };
}
