import type { EstimatedMetricName } from '../metric-names.js';

/**
 * What the sampling error of a metric on `n` records is computed from, measured once on the reference
 * data (as NannyML does): for each term, the population standard deviation of a per-record contribution
 * and the share of records that contribute. The standard error on a window of `n` records is then
 * `sqrt(Σ std² / (n · share))`: for one term, the standard error of a mean of `n · share` contributions.
 *
 * - `accuracy`: 1 for a correct prediction, else 0; every record contributes.
 * - `recall`: over the positives, 1 when predicted positive; share = positive rate.
 * - `specificity`: over the negatives, 1 when predicted negative; share = negative rate.
 * - `roc_auc`: two terms, DeLong's variance of the Mann-Whitney AUC: each positive's placement (the share
 *   of negatives it outranks, ties 1/2) over the positives, and each negative's placement (the share of
 *   positives ranked above it) over the negatives. (NannyML keeps only the rarer class's term, which
 *   understates the error.)
 * - `brier`: the squared error of each record's probability; every record contributes.
 */
export interface SamplingErrorComponent {
  readonly terms: readonly SamplingErrorTerm[];
}

/** One term of a sampling error: the spread of a per-record contribution and the share that contributes. */
export interface SamplingErrorTerm {
  readonly std: number;
  readonly share: number;
}

export type SamplingErrorComponents = Readonly<Record<EstimatedMetricName, SamplingErrorComponent>>;

/**
 * The components of every estimated metric from reference records (validated, both classes present):
 * labels, the model's probabilities (uncalibrated, as served) and its predicted classes.
 */
export function samplingErrorComponents(
  label: Float64Array,
  probability: Float64Array,
  prediction: Float64Array,
): SamplingErrorComponents {
  const n = label.length;
  const correct: number[] = [];
  const positiveHits: number[] = [];
  const negativeHits: number[] = [];
  const squaredErrors: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = label[i]!;
    const d = prediction[i]!;
    correct.push(y === d ? 1 : 0);
    if (y === 1) positiveHits.push(d === 1 ? 1 : 0);
    else negativeHits.push(d === 0 ? 1 : 0);
    squaredErrors.push((probability[i]! - y) ** 2);
  }
  const one = (values: number[]): SamplingErrorComponent => ({
    terms: [{ std: std(values), share: values.length / n }],
  });
  return {
    accuracy: one(correct),
    recall: one(positiveHits),
    specificity: one(negativeHits),
    roc_auc: { terms: placements(label, probability) },
    brier: one(squaredErrors),
  };
}

/** The standard error of a metric on a window of `n` records; null when `n` is 0. */
export function samplingError(component: SamplingErrorComponent, n: number): number | null {
  if (n === 0 || component.terms.some((term) => term.share === 0)) return null;
  let variance = 0;
  for (const term of component.terms) variance += term.std ** 2 / (n * term.share);
  return Math.sqrt(variance);
}

/**
 * The two terms of DeLong's AUC variance: the placements of the positives among the negatives and of the
 * negatives among the positives (ties 1/2), each with its class's share.
 */
function placements(label: Float64Array, probability: Float64Array): SamplingErrorTerm[] {
  const n = label.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += label[i]!;
  const negatives = n - positives;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probability[a]! - probability[b]!);
  const positivePlacements: number[] = [];
  const negativePlacements: number[] = [];
  // Walk groups of equal probability upwards, counting each class strictly below the group.
  let positivesBelow = 0;
  let negativesBelow = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    let groupPositives = 0;
    while (end < n && probability[order[end]!] === probability[order[start]!]) {
      groupPositives += label[order[end]!]!;
      end++;
    }
    const groupNegatives = end - start - groupPositives;
    for (let k = start; k < end; k++) {
      if (label[order[k]!] === 1) positivePlacements.push((negativesBelow + groupNegatives / 2) / negatives);
      else negativePlacements.push((positives - positivesBelow - groupPositives / 2) / positives);
    }
    positivesBelow += groupPositives;
    negativesBelow += groupNegatives;
    start = end;
  }
  return [
    { std: std(positivePlacements), share: positives / n },
    { std: std(negativePlacements), share: negatives / n },
  ];
}

/** Population standard deviation (ddof = 0, numpy's `np.std`); 0 for fewer than two values. */
function std(values: readonly number[]): number {
  if (values.length < 2) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return Math.sqrt(squares / values.length);
}
