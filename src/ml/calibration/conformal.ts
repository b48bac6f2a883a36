import { stratifiedKFold } from '../../data/splits.js';
import { invalidParameter } from '../../errors.js';

/** The default coverage of prediction sets: each diagnosis is in its patients' sets 9 times in 10. */
export const DEFAULT_CONFORMAL_LEVEL = 0.9;

/** A prediction set: the diagnoses the model cannot rule out at the level, in order (a new array each). */
export type PredictionSet = (0 | 1)[];

/**
 * Class-conditional (Mondrian) split conformal prediction on a model's probabilities, as a model document
 * keeps it. A diagnosis c is in a patient's set when its nonconformity, 1 - P(c), is at most `thresholds[c]`:
 * the ⌈(n_c + 1) · level⌉-th smallest nonconformity of the n_c calibration rows whose diagnosis is c (1,
 * which admits every probability, when there are too few). So each diagnosis gets its own guarantee: a
 * patient who has it gets a set holding it with probability at least `level`, over new patients and
 * calibration rows alike (exchangeable with them). `[0, 1]` means the model cannot tell at this level;
 * an empty set, that neither diagnosis is like the calibration rows'.
 */
export interface ConformalDocument {
  readonly level: number;
  /** Nonconformity thresholds for diagnosis 0 and 1. */
  readonly thresholds: readonly [number, number];
  /** Calibration rows of each diagnosis. */
  readonly rows: readonly [number, number];
  /** Held out (each fold's thresholds fitted on the other folds): how the sets did. */
  readonly held_out: ConformalFigures;
}

export interface ConformalFigures {
  /** The share of patients with each diagnosis whose set holds it. */
  readonly coverage: readonly [number, number];
  /** The share of patients whose set is [0, 1]: the price of the guarantee. */
  readonly undecided: number;
  readonly empty: number;
}

/** The set of a probability under thresholds (see `ConformalDocument`). */
export function predictionSet(probability: number, thresholds: readonly [number, number]): PredictionSet {
  // The nonconformities exactly as `conformalThresholds` computes them: p for 0, 1 - p for 1.
  const zero = probability <= thresholds[0];
  const one = 1 - probability <= thresholds[1];
  return zero ? (one ? [0, 1] : [0]) : one ? [1] : [];
}

/** The thresholds from calibration rows' probabilities and diagnoses, at `level` in (0, 1). */
export function conformalThresholds(
  probability: Float64Array,
  target: Float64Array,
  level: number,
): { thresholds: [number, number]; rows: [number, number] } {
  if (!(level > 0 && level < 1)) {
    throw invalidParameter(`The conformal level must be between 0 and 1 (exclusive), got ${level}`);
  }
  const scores: [number[], number[]] = [[], []];
  for (let i = 0; i < probability.length; i++) {
    const label = target[i] === 1 ? 1 : 0;
    // Nonconformity of the true diagnosis: 1 - the probability the model gave it.
    scores[label].push(label === 1 ? 1 - probability[i]! : probability[i]!);
  }
  const threshold = (values: number[]): number => {
    const n = values.length;
    const k = Math.ceil((n + 1) * level);
    if (k > n) return 1;
    values.sort((a, b) => a - b);
    return values[k - 1]!;
  };
  return {
    thresholds: [threshold(scores[0]), threshold(scores[1])],
    rows: [scores[0].length, scores[1].length],
  };
}

/** How the sets `setOf(i)` of rows whose diagnoses are `target` do. */
export function conformalFigures(
  target: Float64Array,
  setOf: (i: number) => PredictionSet,
): ConformalFigures {
  const covered: [number, number] = [0, 0];
  const counts: [number, number] = [0, 0];
  let undecided = 0;
  let empty = 0;
  for (let i = 0; i < target.length; i++) {
    const label = target[i] === 1 ? 1 : 0;
    const set = setOf(i);
    counts[label]++;
    if (set.includes(label)) covered[label]++;
    if (set.length === 2) undecided++;
    if (set.length === 0) empty++;
  }
  const n = Math.max(target.length, 1);
  return {
    coverage: [covered[0] / Math.max(counts[0], 1), covered[1] / Math.max(counts[1], 1)],
    undecided: undecided / n,
    empty: empty / n,
  };
}

/**
 * Fits conformal sets on held-out probabilities (a model's calibrated out-of-fold ones) and measures them
 * held out: each of `folds` stratified folds (`seed`) judged by thresholds fitted on the others. Returns
 * the document and every row's held-out set.
 */
export function fitConformal(
  probability: Float64Array,
  target: Float64Array,
  options: { readonly level: number; readonly folds: number; readonly seed: number },
): { document: ConformalDocument; heldOutSets: PredictionSet[] } {
  const { thresholds, rows } = conformalThresholds(probability, target, options.level);
  const heldOutSets: PredictionSet[] = new Array(probability.length);
  for (const split of stratifiedKFold(target, options.folds, options.seed)) {
    const fitted = conformalThresholds(
      Float64Array.from(split.train, (i) => probability[i]!),
      Float64Array.from(split.train, (i) => target[i]!),
      options.level,
    );
    for (const i of split.test) heldOutSets[i] = predictionSet(probability[i]!, fitted.thresholds);
  }
  return {
    document: {
      level: options.level,
      thresholds,
      rows,
      held_out: conformalFigures(target, (i) => heldOutSets[i]!),
    },
    heldOutSets,
  };
}
