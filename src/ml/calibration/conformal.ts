import { stratifiedKFold } from '../../data/splits.js';
import { invalidParameter } from '../../errors.js';
import { SUBGROUP_DESIGN_COLUMNS, subgroupDesign, subgroupSum } from '../subgroups.js';

/** The default coverage of prediction sets: each diagnosis is in its patients' sets 9 times in 10. */
export const DEFAULT_CONFORMAL_LEVEL = 0.9;

/** A prediction set: the diagnoses the model cannot rule out at the level, in order (a new array each). */
export type PredictionSet = (0 | 1)[];

/**
 * Class-conditional (Mondrian) split conformal prediction on a model's probabilities (and, with
 * `by_subgroup`, conditional on each subgroup too), as a model document
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
  /**
   * Subgroup-conditional thresholds (absent: `thresholds` for every patient). For each diagnosis, a
   * patient's threshold is their subgroup design (`SUBGROUP_DESIGN_COLUMNS`: intercept, sex, ethnicity,
   * age band) times its coefficients, fitted so that in the calibration rows of each subgroup of
   * `MIN_CONFORMAL_SUBGROUP_ROWS` or more with that diagnosis, the share whose nonconformity is at most
   * their threshold is the conformal quantile of the level: each such subgroup gets about the level's
   * coverage, not only the whole population.
   */
  readonly by_subgroup?: {
    readonly columns: readonly string[];
    readonly coefficients: readonly [readonly number[], readonly number[]];
  };
}

/** Fewest calibration rows of a diagnosis a subgroup needs to get its own coefficient. */
export const MIN_CONFORMAL_SUBGROUP_ROWS = 30;

export interface ConformalFigures {
  /** The share of patients with each diagnosis whose set holds it. */
  readonly coverage: readonly [number, number];
  /** The share of patients whose set is [0, 1]: the price of the guarantee. */
  readonly undecided: number;
  readonly empty: number;
}

/** A patient's thresholds: their subgroups' (see `by_subgroup`), or the document's for everyone. */
export function thresholdsFor(
  document: Pick<ConformalDocument, 'thresholds' | 'by_subgroup'>,
  row: ArrayLike<number>,
): readonly [number, number] {
  const bySubgroup = document.by_subgroup;
  if (!bySubgroup) return document.thresholds;
  return [subgroupSum(bySubgroup.coefficients[0], row), subgroupSum(bySubgroup.coefficients[1], row)];
}

/** The set of a probability under thresholds (see `ConformalDocument`). */
export function predictionSet(probability: number, thresholds: readonly [number, number]): PredictionSet {
  // The nonconformities exactly as `conformalThresholds` computes them: p for 0, 1 - p for 1.
  const zero = probability <= thresholds[0];
  const one = 1 - probability <= thresholds[1];
  return zero ? (one ? [0, 1] : [0]) : one ? [1] : [];
}

/**
 * Each calibration row's nonconformity, 1 - the probability the model gave its diagnosis, by diagnosis
 * (in row order).
 */
function nonconformities(probability: Float64Array, target: Float64Array): [number[], number[]] {
  const scores: [number[], number[]] = [[], []];
  for (let i = 0; i < probability.length; i++) {
    const label = target[i] === 1 ? 1 : 0;
    scores[label].push(label === 1 ? 1 - probability[i]! : probability[i]!);
  }
  return scores;
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
  const scores = nonconformities(probability, target);
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
 * The coefficients of one diagnosis's subgroup-conditional threshold: coordinate descent where each step
 * sets one coefficient so that, among the rows of its subgroup, the ⌈(m + 1) · level⌉-th smallest
 * nonconformity (m rows) is exactly at the threshold: that subgroup's conformal quantile given the other
 * coefficients. Subgroups with fewer than `MIN_CONFORMAL_SUBGROUP_ROWS` rows keep 0 (the intercept and the
 * subgroups they belong to decide for them). Stops when a sweep changes nothing, or after 100 sweeps.
 */
function subgroupCoefficients(
  scores: readonly number[],
  designs: readonly Uint8Array[],
  level: number,
): number[] {
  const columns = SUBGROUP_DESIGN_COLUMNS.length;
  // Fitting `columns` coefficients on the calibration rows adapts the thresholds to them; new patients
  // fall short of the in-sample coverage by about columns / (n + 1) (Gibbs, Cherian and Candès, 2023),
  // which the level is raised by.
  const target = Math.min(1, level + columns / (scores.length + 1));
  const coefficients = new Array<number>(columns).fill(0);
  const members = Array.from({ length: columns }, (_, j) =>
    designs.flatMap((design, i) => (design[j] === 1 ? [i] : [])),
  );
  const fitted = new Float64Array(scores.length);
  for (let sweep = 0; sweep < 100; sweep++) {
    let moved = false;
    for (let j = 0; j < columns; j++) {
      const rows = members[j]!;
      if (rows.length < MIN_CONFORMAL_SUBGROUP_ROWS) continue;
      // The rows' nonconformity less the rest of their threshold, sorted.
      const rest = rows.map((i) => scores[i]! - (fitted[i]! - coefficients[j]!)).sort((a, b) => a - b);
      const k = Math.ceil((rows.length + 1) * target);
      const next = rest[Math.min(k, rows.length) - 1]! + (k > rows.length ? 1 : 0);
      const change = next - coefficients[j]!;
      if (change === 0) continue;
      moved = true;
      coefficients[j] = next;
      for (const i of rows) fitted[i] = fitted[i]! + change;
    }
    if (!moved) break;
  }
  return coefficients;
}

/** Subgroup-conditional thresholds (see `ConformalDocument.by_subgroup`) from calibration rows. */
export function subgroupThresholds(
  probability: Float64Array,
  target: Float64Array,
  designs: readonly Uint8Array[],
  level: number,
): NonNullable<ConformalDocument['by_subgroup']> {
  const scores = nonconformities(probability, target);
  const rows: [Uint8Array[], Uint8Array[]] = [[], []];
  for (let i = 0; i < probability.length; i++) rows[target[i] === 1 ? 1 : 0].push(designs[i]!);
  return {
    columns: [...SUBGROUP_DESIGN_COLUMNS],
    coefficients: [
      subgroupCoefficients(scores[0], rows[0], level),
      subgroupCoefficients(scores[1], rows[1], level),
    ],
  };
}

/**
 * Fits conformal sets on held-out probabilities (a model's calibrated out-of-fold ones) and measures them
 * held out: each of `folds` stratified folds (`seed`) judged by thresholds fitted on the others. With
 * `rows` (each row's features, schema order), the thresholds are subgroup-conditional (`by_subgroup`).
 * Returns the document and every row's held-out set.
 */
export function fitConformal(
  probability: Float64Array,
  target: Float64Array,
  options: {
    readonly level: number;
    readonly folds: number;
    readonly seed: number;
    readonly rows?: (i: number) => ArrayLike<number>;
  },
): { document: ConformalDocument; heldOutSets: PredictionSet[] } {
  const { thresholds, rows } = conformalThresholds(probability, target, options.level);
  const designs = options.rows
    ? Array.from({ length: probability.length }, (_, i) => subgroupDesign(options.rows!(i)))
    : undefined;
  const fitOn = (indices: ArrayLike<number>) => {
    const p = Float64Array.from(indices, (i) => probability[i]!);
    const y = Float64Array.from(indices, (i) => target[i]!);
    const global = conformalThresholds(p, y, options.level);
    if (!designs) return { thresholds: global.thresholds };
    const d = Array.from(indices, (i) => designs[i]!);
    return { thresholds: global.thresholds, by_subgroup: subgroupThresholds(p, y, d, options.level) };
  };
  const heldOutSets: PredictionSet[] = new Array(probability.length);
  for (const split of stratifiedKFold(target, options.folds, options.seed)) {
    const fitted = fitOn(split.train);
    for (const i of split.test) {
      const own = designs ? thresholdsFor(fitted, options.rows!(i)) : fitted.thresholds;
      heldOutSets[i] = predictionSet(probability[i]!, own);
    }
  }
  const all = designs ? subgroupThresholds(probability, target, designs, options.level) : undefined;
  return {
    document: {
      level: options.level,
      thresholds,
      rows,
      held_out: conformalFigures(target, (i) => heldOutSets[i]!),
      ...(all ? { by_subgroup: all } : {}),
    },
    heldOutSets,
  };
}
