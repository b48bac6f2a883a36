import { stratifiedKFold } from '../../data/splits.js';
import { invalidParameter } from '../../errors.js';
import { countConfusion, DEFAULT_THRESHOLD } from '../metrics/confusion.js';
import { thresholdSweep } from '../metrics/sweep.js';

/**
 * How a model's decision threshold is chosen (a patient is diagnosed 1 when the probability is at least
 * it), on its calibrated out-of-fold probabilities:
 * - `fixed`: a threshold named in advance (0.5 by default);
 * - `min_sensitivity`: the highest threshold at which at least that share of the patients with the
 *   disease are found, which gives the best specificity that sensitivity allows;
 * - `cost_ratio`: the threshold with the lowest total cost when a missed diagnosis costs `ratio` false
 *   ones (5: missing a patient is five times as bad as alarming a healthy one).
 */
export type ThresholdPolicy =
  | { readonly kind: 'fixed'; readonly threshold: number }
  | { readonly kind: 'min_sensitivity'; readonly sensitivity: number }
  | { readonly kind: 'cost_ratio'; readonly ratio: number };

export const DEFAULT_THRESHOLD_POLICY: ThresholdPolicy = { kind: 'fixed', threshold: DEFAULT_THRESHOLD };

/** How a policy is written on the command line and in pipeline params. */
export const THRESHOLD_POLICY_SYNTAX = '0.5 (a fixed threshold), sensitivity:0.95 or cost:5';

/**
 * Reads a policy as `THRESHOLD_POLICY_SYNTAX` writes it: a number in (0, 1) is a fixed threshold,
 * `sensitivity:s` a minimum sensitivity s in (0, 1], `cost:r` a cost ratio r > 0 of a missed diagnosis to
 * a false one. `where` names the text in errors.
 */
export function parseThresholdPolicy(text: string, where: string): ThresholdPolicy {
  const trimmed = text.trim();
  const [kind, value, extra] = trimmed.includes(':') ? trimmed.split(':') : ['fixed', trimmed];
  const number = value !== undefined && /^\s*[0-9.eE+-]+\s*$/.test(value) ? Number(value) : Number.NaN;
  const problem = (rule: string) =>
    invalidParameter(
      `${where}: "${text}" is not a threshold policy: ${rule} (write ${THRESHOLD_POLICY_SYNTAX})`,
    );
  if (extra !== undefined) throw problem('it has more than one ":"');
  switch (kind?.trim()) {
    case 'fixed':
      if (!(number > 0 && number < 1)) throw problem('a fixed threshold is a number between 0 and 1');
      return { kind: 'fixed', threshold: number };
    case 'sensitivity':
      if (!(number > 0 && number <= 1)) throw problem('the minimum sensitivity is a number in (0, 1]');
      return { kind: 'min_sensitivity', sensitivity: number };
    case 'cost':
      if (!(number > 0 && Number.isFinite(number)))
        throw problem('the cost ratio (of a missed diagnosis to a false one) is a positive number');
      return { kind: 'cost_ratio', ratio: number };
    default:
      throw problem(`"${kind}" is not a policy (fixed, sensitivity or cost)`);
  }
}

/** The policy as `parseThresholdPolicy` reads it back. */
export function formatThresholdPolicy(policy: ThresholdPolicy): string {
  switch (policy.kind) {
    case 'fixed':
      return String(policy.threshold);
    case 'min_sensitivity':
      return `sensitivity:${policy.sensitivity}`;
    case 'cost_ratio':
      return `cost:${policy.ratio}`;
  }
}

/** The policy in words, for answers, reports and model cards. */
export function describeThresholdPolicy(policy: ThresholdPolicy): string {
  switch (policy.kind) {
    case 'fixed':
      return policy.threshold === DEFAULT_THRESHOLD
        ? 'the default threshold 0.5'
        : `a fixed threshold of ${policy.threshold}`;
    case 'min_sensitivity':
      return `sensitivity at least ${policy.sensitivity}, at the best specificity`;
    case 'cost_ratio':
      return `the lowest cost when a missed diagnosis costs ${policy.ratio} false ones`;
  }
}

/** What the model's decisions were at its threshold on the probabilities it was chosen on. */
export interface ThresholdFigures {
  readonly rows: number;
  readonly sensitivity: number;
  readonly specificity: number;
  /** Of the patients diagnosed 1, the share who have the disease (0 when none is). */
  readonly precision: number;
  /** Of the patients diagnosed 0, the share who do not (0 when none is). */
  readonly negative_predictive_value: number;
  /** The share of patients diagnosed 1. */
  readonly diagnosed_share: number;
}

/** A model's decision threshold as its model document keeps it. */
export interface ThresholdDocument {
  /** A patient is diagnosed 1 when the probability is at least this. */
  readonly value: number;
  readonly policy: ThresholdPolicy;
  /** Why this value, in words. */
  readonly reason: string;
  /**
   * The decisions at `value` on the calibrated out-of-fold probabilities the threshold was chosen on
   * (absent for a fixed threshold of a model trained without cross-validation).
   */
  readonly held_out?: ThresholdFigures;
  /** For `cost_ratio`: the cost per patient at `value`, in false diagnoses' costs. */
  readonly cost_per_patient?: number;
  /**
   * What the policy gives patients its threshold was not chosen on: each fold of the out-of-fold
   * probabilities decided at the threshold the policy chose on the other folds. `held_out` is optimistic
   * for a chosen threshold (a minimum sensitivity is met there by construction); this is not.
   */
  readonly cross_fitted?: ThresholdFigures & { readonly folds: number };
}

/** The decision threshold of a model document's model: its chosen one, or 0.5. */
export function decisionThreshold(document: { readonly threshold?: ThresholdDocument }): number {
  return document.threshold?.value ?? DEFAULT_THRESHOLD;
}

/** The decisions at `threshold` (a patient is diagnosed 1 when `probability >= threshold`). */
export function thresholdFigures(
  target: Float64Array,
  probability: Float64Array,
  threshold: number,
): ThresholdFigures {
  const { tp, fp, positives, negatives } = countConfusion(target, probability, threshold);
  return figuresOf({ tp, fp }, positives, negatives);
}

/** The decisions of `tp` and `fp` patients diagnosed 1 among `positives` and `negatives`. */
function figuresOf(
  diagnosed: { readonly tp: number; readonly fp: number },
  positives: number,
  negatives: number,
): ThresholdFigures {
  const { tp, fp } = diagnosed;
  const fn = positives - tp;
  const tn = negatives - fp;
  const share = (part: number, whole: number) => (whole === 0 ? 0 : part / whole);
  return {
    rows: positives + negatives,
    sensitivity: share(tp, positives),
    specificity: share(tn, negatives),
    precision: share(tp, tp + fp),
    negative_predictive_value: share(tn, tn + fn),
    diagnosed_share: share(tp + fp, positives + negatives),
  };
}

/** The cost per patient at `threshold` when a missed diagnosis costs `ratio` false ones. */
export function costPerPatient(
  target: Float64Array,
  probability: Float64Array,
  threshold: number,
  ratio: number,
): number {
  const { tp, fp, positives, n } = countConfusion(target, probability, threshold);
  return costOf({ tp, fp }, positives, n, ratio);
}

function costOf(
  diagnosed: { readonly tp: number; readonly fp: number },
  positives: number,
  rows: number,
  ratio: number,
): number {
  return rows === 0 ? 0 : (ratio * (positives - diagnosed.tp) + diagnosed.fp) / rows;
}

/**
 * Chooses the threshold a policy asks for on held-out probabilities (a model's calibrated out-of-fold
 * ones) and their diagnoses; without them (`undefined`) only a fixed policy can be applied. A chosen
 * threshold lies halfway between two neighbouring distinct probabilities, so that it decides the held-out
 * patients as the policy asked with the widest margin on either side.
 */
export function chooseThreshold(
  policy: ThresholdPolicy,
  heldOut:
    | {
        readonly probability: Float64Array;
        readonly target: Float64Array;
        /** Cross-fit the policy over these folds too (see `ThresholdDocument.cross_fitted`). */
        readonly crossFit?: { readonly folds: number; readonly seed: number };
      }
    | undefined,
): ThresholdDocument {
  const chosen = chooseOn(policy, heldOut);
  if (policy.kind === 'fixed' || !heldOut?.crossFit) return chosen;
  const { probability, target, crossFit } = heldOut;
  // Each fold decided at the threshold chosen on the others: 1 or 0, judged at 0.5.
  const decided = new Float64Array(probability.length);
  for (const split of stratifiedKFold(target, crossFit.folds, crossFit.seed)) {
    const fitted = chooseOn(policy, {
      probability: Float64Array.from(split.train, (i) => probability[i]!),
      target: Float64Array.from(split.train, (i) => target[i]!),
    });
    for (const i of split.test) decided[i] = probability[i]! >= fitted.value ? 1 : 0;
  }
  return {
    ...chosen,
    cross_fitted: { ...thresholdFigures(target, decided, 0.5), folds: crossFit.folds },
  };
}

function chooseOn(
  policy: ThresholdPolicy,
  heldOut: { readonly probability: Float64Array; readonly target: Float64Array } | undefined,
): ThresholdDocument {
  if (policy.kind === 'fixed') {
    return {
      value: policy.threshold,
      policy,
      reason: `${describeThresholdPolicy(policy)}, named in advance`,
      ...(heldOut
        ? { held_out: thresholdFigures(heldOut.target, heldOut.probability, policy.threshold) }
        : {}),
    };
  }
  if (!heldOut) {
    throw invalidParameter(
      `The threshold policy ${formatThresholdPolicy(policy)} needs out-of-fold probabilities to choose on: train with cross-validation (calibration on, or --cv)`,
    );
  }
  const { probability, target } = heldOut;
  const { candidates, positives, negatives } = candidateThresholds(target, probability);
  const rows = positives + negatives;
  if (policy.kind === 'min_sensitivity') {
    // Sensitivity only falls as the threshold rises: the highest candidate that keeps it is the one
    // with the best specificity (the lowest, everyone diagnosed, when none does).
    const kept = candidates.filter(
      (c) => figuresOf(c, positives, negatives).sensitivity >= policy.sensitivity,
    );
    const best = kept[kept.length - 1] ?? candidates[0]!;
    const figures = figuresOf(best, positives, negatives);
    return {
      value: best.value,
      policy,
      reason: `the highest threshold at which the out-of-fold sensitivity is at least ${policy.sensitivity} (${figures.sensitivity.toFixed(3)}, specificity ${figures.specificity.toFixed(3)}, ${figures.rows} patients)`,
      held_out: figures,
    };
  }
  // The lowest total cost; on a tie, the candidate nearest the threshold a calibrated model's costs call
  // for, 1 / (1 + ratio).
  const bayes = 1 / (1 + policy.ratio);
  let best = candidates[0]!;
  let bestCost = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const cost = costOf(candidate, positives, rows, policy.ratio);
    const better =
      cost < bestCost - 1e-12 ||
      (Math.abs(cost - bestCost) <= 1e-12 &&
        Math.abs(candidate.value - bayes) < Math.abs(best.value - bayes));
    if (better) {
      best = candidate;
      bestCost = cost;
    }
  }
  const figures = figuresOf(best, positives, negatives);
  return {
    value: best.value,
    policy,
    reason: `the lowest out-of-fold cost (${bestCost.toFixed(4)} per patient, in false diagnoses) when a missed diagnosis costs ${policy.ratio} false ones (sensitivity ${figures.sensitivity.toFixed(3)}, specificity ${figures.specificity.toFixed(3)}; calibrated probabilities alone would put it at ${bayes.toFixed(3)})`,
    held_out: figures,
    cost_per_patient: bestCost,
  };
}

/**
 * Thresholds that decide the patients differently, increasing, with the patients each diagnoses 1, read
 * from one sweep over the rows sorted by probability (`thresholdSweep`): 0 (everyone), one between each
 * two neighbouring distinct probabilities, and one above the highest (no one; 1 when the highest is 1).
 */
function candidateThresholds(
  target: Float64Array,
  probability: Float64Array,
): {
  candidates: { readonly value: number; readonly tp: number; readonly fp: number }[];
  positives: number;
  negatives: number;
} {
  // Distinct probabilities, decreasing; tps[k] and fps[k] count the rows at or above thresholds[k].
  const { thresholds, tps, fps, positives, negatives } = thresholdSweep(target, probability);
  const candidates = [{ value: 0, tp: positives, fp: negatives }];
  for (let k = thresholds.length - 2; k >= 0; k--) {
    candidates.push({ value: between(thresholds[k + 1]!, thresholds[k]!), tp: tps[k]!, fp: fps[k]! });
  }
  const highest = thresholds[0] ?? 0;
  candidates.push(
    highest < 1 ? { value: between(highest, 1), tp: 0, fp: 0 } : { value: 1, tp: tps[0]!, fp: fps[0]! },
  );
  return { candidates, positives, negatives };
}

/**
 * A threshold between two neighbouring probabilities (low < high): the shortest decimal in the middle half
 * of the gap, so that it is read easily (0.52 rather than 0.5243046188489011) and still decides both
 * sides with a margin.
 */
export function between(low: number, high: number): number {
  const gap = high - low;
  const from = low + gap / 4;
  const to = high - gap / 4;
  for (let digits = 1; digits <= 17; digits++) {
    const scale = 10 ** digits;
    // Rounding error must not push 0.3 past 0.30000000000000004: the middle half is a preference.
    const candidate = Math.ceil(from * scale - 1e-9) / scale;
    const inMiddle = candidate >= from - 1e-12 && candidate <= to + 1e-12;
    if (inMiddle && candidate > low && candidate <= high) return candidate;
  }
  // Neighbours a few ulps apart: only `high` itself may lie above `low`.
  const middle = (low + high) / 2;
  return middle > low ? middle : high;
}
