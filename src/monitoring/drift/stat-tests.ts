/**
 * The drift tests of one column, as Evidently defines them (its `calculations/stattests`): which test it
 * picks by default, how each turns a reference and a current sample into a drift score, and the
 * threshold that score is compared with. The statistics themselves are SciPy's (see `src/math`).
 *
 * Evidently's default choice, per column (`_get_default_stattest`), where n is the number of reference
 * values and u the number of distinct values in both samples together:
 *
 * | reference      | numerical column                   | categorical column           |
 * | -------------- | ---------------------------------- | ---------------------------- |
 * | n <= 1000      | KS; chi-square if 2 < u <= 5; z-test if u <= 2 | chi-square; z-test if u <= 2 |
 * | n > 1000       | normed Wasserstein; Jensen-Shannon if u <= 5   | Jensen-Shannon               |
 *
 * p-value tests drift below their threshold (0.05; KS at or below it), distances at or above theirs (0.1).
 */
import {
  jensenShannonDistance,
  populationStabilityIndex,
  wassersteinDistance,
} from '../../math/distribution-distances.js';
import { chiSquareTest, ksTwoSample, proportionsZTest } from '../../math/hypothesis-tests.js';

/** Evidently's two column types: numbers compared as numbers, or codes compared as categories. */
export type ColumnType = 'numerical' | 'categorical';

export const STAT_TEST_NAMES = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi'] as const;
export type StatTestName = (typeof STAT_TEST_NAMES)[number];

export interface StatTest {
  readonly name: StatTestName;
  /** Evidently's display name. */
  readonly label: string;
  readonly appliesTo: readonly ColumnType[];
  readonly defaultThreshold: number;
  /** What the score is: a p-value (drift when small) or a distance (drift when large). */
  readonly scoreKind: 'p_value' | 'distance';
  /** How the score is compared with the threshold to call drift. */
  readonly driftWhen: '<' | '<=' | '>=';
  readonly description: string;
}

export const STAT_TESTS: Readonly<Record<StatTestName, StatTest>> = {
  ks: {
    name: 'ks',
    label: 'K-S p_value',
    appliesTo: ['numerical'],
    defaultThreshold: 0.05,
    scoreKind: 'p_value',
    driftWhen: '<=',
    description: 'two-sample Kolmogorov-Smirnov test',
  },
  chisquare: {
    name: 'chisquare',
    label: 'chi-square p_value',
    appliesTo: ['categorical'],
    defaultThreshold: 0.05,
    scoreKind: 'p_value',
    driftWhen: '<',
    description: "Pearson's chi-square test of the current counts against the reference shares",
  },
  z: {
    name: 'z',
    label: 'Z-test p_value',
    appliesTo: ['categorical'],
    defaultThreshold: 0.05,
    scoreKind: 'p_value',
    driftWhen: '<',
    description: 'two-proportion z-test, for two values',
  },
  wasserstein: {
    name: 'wasserstein',
    label: 'Wasserstein distance (normed)',
    appliesTo: ['numerical'],
    defaultThreshold: 0.1,
    scoreKind: 'distance',
    driftWhen: '>=',
    description: "Wasserstein distance divided by the reference's standard deviation",
  },
  jensenshannon: {
    name: 'jensenshannon',
    label: 'Jensen-Shannon distance',
    appliesTo: ['categorical', 'numerical'],
    defaultThreshold: 0.1,
    scoreKind: 'distance',
    driftWhen: '>=',
    description: 'Jensen-Shannon distance (natural log) between the binned shares',
  },
  psi: {
    name: 'psi',
    label: 'PSI',
    appliesTo: ['categorical', 'numerical'],
    defaultThreshold: 0.1,
    scoreKind: 'distance',
    driftWhen: '>=',
    description: "population stability index over Evidently's bins",
  },
};

export function isStatTestName(name: string): name is StatTestName {
  return (STAT_TEST_NAMES as readonly string[]).includes(name);
}

/** Whether a score means drift under a test's rule and threshold (a NaN score never does). */
export function isDrift(test: StatTest, score: number, threshold: number): boolean {
  switch (test.driftWhen) {
    case '<':
      return score < threshold;
    case '<=':
      return score <= threshold;
    case '>=':
      return score >= threshold;
  }
}

/** Evidently's references up to this many values get the p-value tests; larger ones the distances. */
export const SMALL_REFERENCE_ROWS = 1000;

/** The number of distinct values of both samples together, counted only up to `limit + 1`. */
function distinctCountUpTo(a: Float64Array, b: Float64Array, limit: number): number {
  // A short list beats a hash set for the handful of values this looks for.
  const seen: number[] = [];
  for (const sample of [a, b]) {
    for (let i = 0; i < sample.length; i++) {
      const value = sample[i]!;
      if (!seen.includes(value)) {
        seen.push(value);
        if (seen.length > limit) return seen.length;
      }
    }
  }
  return seen.length;
}

/** The test Evidently chooses for a column by default (missing values already left out of both samples). */
export function defaultStatTest(
  reference: Float64Array,
  current: Float64Array,
  type: ColumnType,
): StatTestName {
  // Only whether there are at most 2 or 5 distinct values matters.
  const distinct = distinctCountUpTo(reference, current, 5);
  if (reference.length <= SMALL_REFERENCE_ROWS) {
    if (type === 'categorical' || distinct <= 5) return distinct > 2 ? 'chisquare' : 'z';
    return 'ks';
  }
  if (type === 'categorical' || distinct <= 5) return 'jensenshannon';
  return 'wasserstein';
}

export interface StatTestOutcome {
  /** What the threshold applies to: the p-value, or the distance. */
  readonly score: number;
  /**
   * The test's own statistic: D (KS), χ² (chi-square), z (z-test), the Wasserstein distance in the
   * column's unit (before it is normed), the Jensen-Shannon distance or the PSI.
   */
  readonly statistic: number;
}

/**
 * Runs a test on the non-missing values of a column in the reference and current samples, each test as
 * Evidently computes it.
 */
export function runStatTest(
  name: StatTestName,
  reference: Float64Array,
  current: Float64Array,
  type: ColumnType,
): StatTestOutcome {
  switch (name) {
    case 'ks': {
      const result = ksTwoSample(reference, current);
      return { score: result.pValue, statistic: result.statistic };
    }
    case 'chisquare': {
      const { referenceCounts, currentCounts } = valueCounts(reference, current);
      // Expected counts: the reference counts scaled to the current total.
      const scale = current.length / reference.length;
      const expected = referenceCounts.map((count) => count * scale);
      const result = chiSquareTest(currentCounts, expected);
      return { score: result.pValue, statistic: result.statistic };
    }
    case 'z': {
      if (singleSharedValue(reference, current)) return { score: 1, statistic: 0 };
      // The share of values other than the smallest one, in each sample.
      const { keys, referenceCounts, currentCounts } = valueCounts(reference, current);
      const first = keys.indexOf(Math.min(...keys));
      const result = proportionsZTest(
        reference.length - referenceCounts[first]!,
        reference.length,
        current.length - currentCounts[first]!,
        current.length,
      );
      return { score: result.pValue, statistic: result.statistic };
    }
    case 'wasserstein': {
      const distance = wassersteinDistance(reference, current);
      const norm = Math.max(populationStandardDeviation(reference), 0.001);
      return { score: distance / norm, statistic: distance };
    }
    case 'jensenshannon': {
      const shares = evidentlyBinnedShares(reference, current, type);
      const distance = jensenShannonDistance(shares.reference, shares.current);
      return { score: distance, statistic: distance };
    }
    case 'psi': {
      const shares = evidentlyBinnedShares(reference, current, type);
      const psi = populationStabilityIndex(shares.reference, shares.current);
      return { score: psi, statistic: psi };
    }
  }
}

function singleSharedValue(reference: Float64Array, current: Float64Array): boolean {
  const value = reference[0];
  for (const x of reference) if (x !== value) return false;
  for (const x of current) if (x !== value) return false;
  return true;
}

/** The distinct values of both samples (in order of appearance) and how often each occurs in each. */
function valueCounts(
  reference: Float64Array,
  current: Float64Array,
): { keys: number[]; referenceCounts: number[]; currentCounts: number[] } {
  const keys: number[] = [];
  const referenceCounts: number[] = [];
  const currentCounts: number[] = [];
  // Codes are few: a short list first, a map once there are many distinct values.
  let index: Map<number, number> | undefined;
  const slot = (value: number): number => {
    let at = index ? (index.get(value) ?? -1) : keys.indexOf(value);
    if (at === -1) {
      at = keys.length;
      keys.push(value);
      referenceCounts.push(0);
      currentCounts.push(0);
      if (index) index.set(value, at);
      else if (keys.length > 16) index = new Map(keys.map((key, k) => [key, k]));
    }
    return at;
  };
  for (let i = 0; i < reference.length; i++) referenceCounts[slot(reference[i]!)]!++;
  for (let i = 0; i < current.length; i++) currentCounts[slot(current[i]!)]!++;
  return { keys, referenceCounts, currentCounts };
}

/** The standard deviation with n in the denominator (NumPy's `std`). */
function populationStandardDeviation(values: Float64Array): number {
  let mean = 0;
  for (const value of values) mean += value;
  mean /= values.length;
  let squares = 0;
  for (const value of values) squares += (value - mean) ** 2;
  return Math.sqrt(squares / values.length);
}

/**
 * The shares Evidently compares with Jensen-Shannon and PSI: for a numerical column with more than 20
 * distinct reference values, a histogram of both samples on Sturges' bins over both together (NumPy's
 * `histogram_bin_edges(..., 'sturges')`); otherwise the share of every distinct value. Zero shares stay
 * zero (PSI fills them itself).
 */
export function evidentlyBinnedShares(
  reference: Float64Array,
  current: Float64Array,
  type: ColumnType,
): { edges: Float64Array | null; reference: Float64Array; current: Float64Array } {
  if (type === 'numerical' && new Set(reference).size > 20) {
    const edges = sturgesEdges(reference, current);
    return {
      edges,
      reference: histogramShares(reference, edges),
      current: histogramShares(current, edges),
    };
  }
  const { referenceCounts, currentCounts } = valueCounts(reference, current);
  return {
    edges: null,
    reference: Float64Array.from(referenceCounts, (count) => count / reference.length),
    current: Float64Array.from(currentCounts, (count) => count / current.length),
  };
}

/** NumPy's Sturges bin edges over two samples together: ceil(range / width) equal bins, by `linspace`. */
export function sturgesEdges(a: Float64Array, b: Float64Array): Float64Array {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const value of a) {
    if (value < first) first = value;
    if (value > last) last = value;
  }
  for (const value of b) {
    if (value < first) first = value;
    if (value > last) last = value;
  }
  const width = (last - first) / (Math.log2(a.length + b.length) + 1);
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const bins = width ? Math.ceil((last - first) / width) : 1;
  // linspace(first, last, bins + 1): i * step + first, the last edge exactly `last`.
  const step = (last - first) / bins;
  const edges = new Float64Array(bins + 1);
  for (let i = 0; i < bins; i++) edges[i] = i * step + first;
  edges[bins] = last;
  return edges;
}

/** NumPy's `histogram(values, edges)` as shares: bins [e_i, e_i+1), the last one closed. */
function histogramShares(values: Float64Array, edges: Float64Array): Float64Array {
  const counts = new Float64Array(edges.length - 1);
  const last = edges.length - 1;
  for (const value of values) {
    if (value < edges[0]! || value > edges[last]!) continue;
    let low = 1;
    let high = last;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (edges[middle]! > value) high = middle;
      else low = middle + 1;
    }
    counts[low - 1]!++;
  }
  for (let k = 0; k < counts.length; k++) counts[k]! /= values.length;
  return counts;
}
