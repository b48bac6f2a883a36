import { invalidParameter } from '../../errors.js';

/**
 * The rows sorted once by probability (descending) and grouped by distinct probability: scikit-learn's
 * `_binary_clf_curve`. `tps[k]` and `fps[k]` count the positives and negatives whose probability is
 * `>= thresholds[k]`; `thresholds` is strictly decreasing. Every ranking metric and curve is read from it.
 * Inputs must already be validated.
 */
export interface ThresholdSweep {
  readonly thresholds: Float64Array;
  readonly tps: Float64Array;
  readonly fps: Float64Array;
  readonly positives: number;
  readonly negatives: number;
}

/** Builds the sweep in O(n log n): one sort of the row indices, then one pass. */
export function thresholdSweep(yTrue: Float64Array, probability: Float64Array): ThresholdSweep {
  const n = yTrue.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => probability[b]! - probability[a]!);

  const thresholds = new Float64Array(n);
  const tps = new Float64Array(n);
  const fps = new Float64Array(n);
  let groups = 0;
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const row = order[k]!;
    if (yTrue[row] === 1) tp++;
    else fp++;
    const p = probability[row]!;
    const next = k + 1 < n ? probability[order[k + 1]!]! : Number.NaN;
    if (next !== p) {
      thresholds[groups] = p;
      tps[groups] = tp;
      fps[groups] = fp;
      groups++;
    }
  }
  return {
    thresholds: thresholds.slice(0, groups),
    tps: tps.slice(0, groups),
    fps: fps.slice(0, groups),
    positives: tp,
    negatives: fp,
  };
}

/** Throws unless both classes are present: ROC and precision-recall need positives and negatives. */
export function requireBothClasses(sweep: ThresholdSweep, where: string): void {
  if (sweep.positives === 0 || sweep.negatives === 0) {
    const present = sweep.positives === 0 ? 'negatives (0)' : 'positives (1)';
    throw invalidParameter(
      `${where}: yTrue holds only ${present}; ${where} is undefined unless both classes 0 and 1 are present`,
      { positives: sweep.positives, negatives: sweep.negatives },
    );
  }
}
