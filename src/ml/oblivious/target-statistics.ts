/**
 * Target statistics of categorical features, as CatBoost computes them for a binary target: a category is
 * replaced by `(positives + prior) / (count + 1)`, where the counts come
 *
 * - during training, from the rows BEFORE the current one in a random permutation ("ordered" statistics),
 *   so a row's own target never enters its own value (no target leakage);
 * - when predicting, from every training row.
 *
 * The prior is the positive share of the training target, so an unseen category (and the first row of a
 * category in a permutation) gets the prior itself. Categories are the exact numeric values of the column;
 * a missing value (NaN) is a category of its own.
 */
import { invalidParameter } from '../../errors.js';
import type { Matrix } from '../../math/matrix.js';

/** The encoded value of a category with `positives` of `count` rows in the positive class. */
export function targetStatistic(positives: number, count: number, prior: number): number {
  return (positives + prior) / (count + 1);
}

/** Distinct values of a column (ascending, NaN last) and the index of each row's value among them. */
export interface CategoryIndex {
  readonly values: readonly number[];
  readonly ids: Int32Array;
}

export function indexCategories(column: ArrayLike<number>): CategoryIndex {
  const distinct = new Set<number>();
  for (let i = 0; i < column.length; i++) distinct.add(column[i]!);
  const values = [...distinct].sort(compareCategories);
  // Map keys compare with SameValueZero: NaN finds NaN, and -0 is 0.
  const idOf = new Map(values.map((value, id) => [value, id]));
  const ids = new Int32Array(column.length);
  for (let i = 0; i < column.length; i++) ids[i] = idOf.get(column[i]!)!;
  return { values, ids };
}

function compareCategories(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return a - b;
}

/**
 * Ordered target statistics of one column for one permutation: the row at position k of `permutation`
 * is encoded from the rows at positions 0..k-1 of the same category only.
 */
export function orderedTargetStatistics(
  index: CategoryIndex,
  y: Float64Array,
  permutation: Int32Array,
  prior: number,
): Float64Array {
  const counts = new Float64Array(index.values.length);
  const positives = new Float64Array(index.values.length);
  const out = new Float64Array(permutation.length);
  for (let k = 0; k < permutation.length; k++) {
    const row = permutation[k]!;
    const id = index.ids[row]!;
    out[row] = targetStatistic(positives[id]!, counts[id]!, prior);
    counts[id] = counts[id]! + 1;
    positives[id] = positives[id]! + y[row]!;
  }
  return out;
}

/** Full-training-data counts of one categorical feature: what prediction uses. */
export interface CategoryStatistics {
  /** Column index of the feature. */
  readonly feature: number;
  /** The categories, ascending, NaN (missing) last. */
  readonly values: readonly number[];
  readonly counts: readonly number[];
  readonly positives: readonly number[];
}

export function categoryStatistics(
  feature: number,
  index: CategoryIndex,
  y: Float64Array,
): CategoryStatistics {
  const counts = new Array<number>(index.values.length).fill(0);
  const positives = new Array<number>(index.values.length).fill(0);
  for (let i = 0; i < index.ids.length; i++) {
    const id = index.ids[i]!;
    counts[id]! += 1;
    positives[id]! += y[i]!;
  }
  return { feature, values: index.values, counts, positives };
}

/**
 * Replaces categorical columns by their full-data target statistics (unseen categories get the prior).
 * Other columns are copied unchanged.
 */
export class CategoryEncoder {
  private readonly features: Int32Array;
  private readonly lookups: readonly Map<number, number>[];
  private readonly prior: number;

  constructor(statistics: readonly CategoryStatistics[], prior: number) {
    this.prior = prior;
    this.features = Int32Array.from(statistics, (s) => s.feature);
    this.lookups = statistics.map(
      (s) =>
        new Map(
          s.values.map((value, id) => [value, targetStatistic(s.positives[id]!, s.counts[id]!, prior)]),
        ),
    );
  }

  /** The statistic of `value` in the `k`-th categorical feature. */
  encodeValue(k: number, value: number): number {
    return this.lookups[k]!.get(value) ?? this.prior;
  }

  /** `x` with every categorical column encoded, as float64 values. */
  encode(x: Matrix): Float64Array {
    const out = Float64Array.from(x.data);
    this.encodeInPlace(out, x.rows, x.cols);
    return out;
  }

  /** Encodes the categorical columns of a row-major buffer in place. */
  encodeInPlace(data: Float64Array, rows: number, cols: number): void {
    for (let k = 0; k < this.features.length; k++) {
      const f = this.features[k]!;
      const lookup = this.lookups[k]!;
      for (let i = 0; i < rows; i++) {
        const at = i * cols + f;
        data[at] = lookup.get(data[at]!) ?? this.prior;
      }
    }
  }
}

/** The saved form of one feature's statistics (NaN categories are written as null). */
export interface CategoryStatisticsState {
  readonly feature: number;
  readonly values: readonly (number | null)[];
  readonly counts: readonly number[];
  readonly positives: readonly number[];
}

export function statisticsToState(s: CategoryStatistics): CategoryStatisticsState {
  return {
    feature: s.feature,
    values: s.values.map((v) => (Number.isNaN(v) ? null : v)),
    counts: [...s.counts],
    positives: [...s.positives],
  };
}

export function statisticsFromState(state: unknown, featureCount: number, where: string): CategoryStatistics {
  const s = (typeof state === 'object' && state !== null ? state : {}) as Partial<CategoryStatisticsState>;
  const feature = s.feature;
  if (typeof feature !== 'number' || !Number.isInteger(feature) || feature < 0 || feature >= featureCount) {
    throw invalidParameter(`${where}: feature must be a column index below ${featureCount}`);
  }
  const { values, counts, positives } = s;
  if (
    !Array.isArray(values) ||
    values.some((v) => v !== null && (typeof v !== 'number' || Number.isNaN(v))) ||
    !Array.isArray(counts) ||
    !Array.isArray(positives) ||
    counts.length !== values.length ||
    positives.length !== values.length
  ) {
    throw invalidParameter(`${where}: values, counts and positives must be arrays of the same length`);
  }
  for (let id = 0; id < values.length; id++) {
    const count = counts[id];
    const positive = positives[id];
    if (
      typeof count !== 'number' ||
      !Number.isInteger(count) ||
      count < 1 ||
      typeof positive !== 'number' ||
      !Number.isInteger(positive) ||
      positive < 0 ||
      positive > count
    ) {
      throw invalidParameter(
        `${where}: category ${id} needs a positive integer count and an integer positives count within it`,
      );
    }
  }
  return {
    feature,
    values: values.map((v) => (v === null ? Number.NaN : v)),
    counts: [...counts],
    positives: [...positives],
  };
}
