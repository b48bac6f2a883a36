/**
 * Drift between a model's reference profile and a window of current data: per feature the test
 * Evidently would choose (or the one asked for) with its verdict, the PSI on the profile's fixed bins,
 * and both histograms on those bins; whether the data set drifted (the share of drifted features); and
 * the same for the model's predicted probability. A pure function of its inputs: the caller brings the
 * window (a CSV file, or a stretch of the prediction log).
 */
import {
  type ColumnBins,
  countCodes,
  countIntervals,
  PROBABILITY_COLUMN,
  type ProbabilitySource,
  type ProfileColumnName,
  type ReferenceProfile,
} from '../../data/reference-profile.js';
import { FEATURE_NAMES, FEATURES, type FeatureName } from '../../data/schema.js';
import { invalidParameter } from '../../errors.js';
import { populationStabilityIndex } from '../../math/distribution-distances.js';
import { checkDriftOptions, columnTypeOf, type DriftOptions } from './drift-options.js';
import {
  type ColumnType,
  defaultStatTest,
  isDrift,
  runStatTest,
  STAT_TESTS,
  type StatTestName,
} from './stat-tests.js';

/** The data compared with the reference: the features of each row, and the model's probability for each. */
export interface DriftWindow {
  readonly rowCount: number;
  /** One column per feature (schema order), each of `rowCount` values; NaN where a value is missing. */
  readonly columns: Readonly<Record<FeatureName, Float64Array>>;
  /** The model's predicted probability of each row; without it there is no prediction drift. */
  readonly probabilities?: Float64Array;
}

/** One bin of a histogram, with the count and share (of the non-missing values) on each side. */
export interface HistogramBin {
  /** `[52, 57)`, `< 50`, `> 89`, or a code's label (`Female`). */
  readonly label: string;
  /** Interval bins: the bounds (null for the open ends); code bins: null. */
  readonly lower: number | null;
  readonly upper: number | null;
  /** Code bins: the code. */
  readonly code: number | null;
  readonly reference: { readonly count: number; readonly share: number };
  readonly current: { readonly count: number; readonly share: number };
}

export interface ColumnSummary {
  /** Non-missing values (for the reference: in the profile's sample). */
  readonly count: number;
  readonly missing: number;
  /** Numerical columns: the mean of the non-missing values. */
  readonly mean: number | null;
}

export interface ColumnDrift {
  readonly column: ProfileColumnName;
  readonly type: ColumnType;
  readonly test: StatTestName;
  /** `default` when Evidently's rule chose the test, `override` when it was asked for. */
  readonly testChosenBy: 'default' | 'override';
  /** The p-value or distance the threshold applies to; null when the current data had no value here. */
  readonly score: number | null;
  /** The test's own statistic (see `StatTestOutcome`); null with `score`. */
  readonly statistic: number | null;
  readonly threshold: number;
  readonly drifted: boolean;
  /** Population stability index on the profile's fixed bins (bins empty on both sides left out). */
  readonly psi: number | null;
  readonly reference: ColumnSummary;
  readonly current: ColumnSummary;
  /** Both sides on the profile's bins: reference counted on every training row, current on the window. */
  readonly histogram: readonly HistogramBin[];
  /** Why the test could not run, when it could not. */
  readonly note: string | null;
}

export interface DriftReport {
  readonly reference: {
    /** Training rows the bins were counted on. */
    readonly trainingRows: number;
    /** Rows of the sample the tests compare with (Evidently's "reference data"). */
    readonly sampleRows: number;
    readonly probabilitySource: ProbabilitySource;
    readonly createdAt: string;
    readonly datasetFingerprint: string | null;
  };
  readonly current: { readonly rows: number };
  readonly dataset: {
    readonly features: number;
    readonly driftedFeatures: number;
    /** Drifted features / features. */
    readonly share: number;
    /** The share at or above which the data set counts as drifted. */
    readonly driftShare: number;
    readonly drifted: boolean;
  };
  /** Every feature, in schema order. */
  readonly features: readonly ColumnDrift[];
  /** The predicted probability; null when the window had no probabilities. */
  readonly prediction: ColumnDrift | null;
}

/**
 * Compares a window of data with a model's reference profile. Throws INVALID_PARAMETER_VALUE for an empty
 * window, a window whose columns do not match its row count, and unknown names in `options`.
 */
export function computeDrift(
  reference: ReferenceProfile,
  window: DriftWindow,
  options: DriftOptions = {},
): DriftReport {
  const checked = checkDriftOptions(options);
  if (window.rowCount === 0) {
    throw invalidParameter(
      'The current data has no rows: a drift check compares at least one row with the reference',
    );
  }
  for (const name of FEATURE_NAMES) {
    if (window.columns[name]?.length !== window.rowCount) {
      throw invalidParameter(`The current data's ${name} column does not have ${window.rowCount} values`);
    }
  }
  if (window.probabilities && window.probabilities.length !== window.rowCount) {
    throw invalidParameter(
      `The current data has ${window.probabilities.length} probabilities for ${window.rowCount} rows`,
    );
  }
  const columnDrift = (column: ProfileColumnName, values: Float64Array) =>
    driftOfColumn(column, reference, values, checked.tests[column], checked.thresholds[column]);
  const features = FEATURE_NAMES.map((name) => columnDrift(name, window.columns[name]));
  const driftedFeatures = features.filter((feature) => feature.drifted).length;
  const share = driftedFeatures / features.length;
  return {
    reference: {
      trainingRows: reference.trainingRows,
      sampleRows: reference.sample.rows,
      probabilitySource: reference.sample.probabilitySource,
      createdAt: reference.createdAt,
      datasetFingerprint: reference.datasetFingerprint,
    },
    current: { rows: window.rowCount },
    dataset: {
      features: features.length,
      driftedFeatures,
      share,
      driftShare: checked.driftShare,
      drifted: share >= checked.driftShare,
    },
    features,
    prediction: window.probabilities ? columnDrift(PROBABILITY_COLUMN, window.probabilities) : null,
  };
}

/** The non-missing values: the column itself when none is missing (the usual case), else a copy. */
function present(values: Float64Array): Float64Array {
  let missing = 0;
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) missing++;
  if (missing === 0) return values;
  const out = new Float64Array(values.length - missing);
  let k = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) out[k++] = values[i]!;
  return out;
}

function summary(values: Float64Array, present: Float64Array, type: ColumnType): ColumnSummary {
  let mean: number | null = null;
  if (type === 'numerical' && present.length > 0) {
    let sum = 0;
    for (const value of present) sum += value;
    mean = sum / present.length;
  }
  return { count: present.length, missing: values.length - present.length, mean };
}

function driftOfColumn(
  column: ProfileColumnName,
  profile: ReferenceProfile,
  currentValues: Float64Array,
  testOverride: StatTestName | undefined,
  thresholdOverride: number | undefined,
): ColumnDrift {
  const type = columnTypeOf(column);
  const referenceValues = profile.sample.columns[column];
  const reference = present(referenceValues);
  const current = present(currentValues);
  const referenceBins = profile.bins[column];
  const currentBins = binLike(referenceBins, currentValues, column);
  const histogram = histogramOf(column, referenceBins, currentBins);
  const psi = current.length > 0 && referenceBins.counts.some((count) => count > 0) ? psiOf(histogram) : null;
  const base = {
    column,
    type,
    reference: summary(referenceValues, reference, type),
    current: summary(currentValues, current, type),
    histogram,
    psi,
  };
  const test =
    testOverride ??
    (reference.length > 0 && current.length > 0
      ? defaultStatTest(reference, current, type)
      : type === 'numerical'
        ? 'wasserstein'
        : 'jensenshannon');
  const threshold = thresholdOverride ?? STAT_TESTS[test].defaultThreshold;
  const testChosenBy = testOverride ? 'override' : 'default';
  if (reference.length === 0 || current.length === 0) {
    const side = reference.length === 0 ? 'reference sample' : 'current data';
    return {
      ...base,
      test,
      testChosenBy,
      score: null,
      statistic: null,
      threshold,
      drifted: false,
      note: `not tested: the ${side} has no value of ${column}`,
    };
  }
  const outcome = runStatTest(test, reference, current, type);
  return {
    ...base,
    test,
    testChosenBy,
    score: outcome.score,
    statistic: outcome.statistic,
    threshold,
    drifted: isDrift(STAT_TESTS[test], outcome.score, threshold),
    note: null,
  };
}

/** The current values counted on the reference's bins. */
function binLike(bins: ColumnBins, values: Float64Array, column: ProfileColumnName): ColumnBins {
  return bins.type === 'intervals'
    ? countIntervals(bins.edges, values)
    : countCodes(bins.codes, values, `The current data's ${column}`);
}

function formatEdge(value: number): string {
  return String(Number(value.toPrecision(4)));
}

function histogramOf(column: ProfileColumnName, reference: ColumnBins, current: ColumnBins): HistogramBin[] {
  const referenceTotal = reference.counts.reduce((sum, count) => sum + count, 0);
  const currentTotal = current.counts.reduce((sum, count) => sum + count, 0);
  const side = (count: number, total: number) => ({ count, share: total > 0 ? count / total : 0 });
  if (reference.type === 'codes') {
    const feature = FEATURES.find((entry) => entry.name === column);
    return reference.codes.map((code, k) => ({
      label:
        feature && feature.kind !== 'continuous'
          ? (feature.codes.find((entry) => entry.code === code)?.label ?? String(code))
          : String(code),
      lower: null,
      upper: null,
      code,
      reference: side(reference.counts[k]!, referenceTotal),
      current: side(current.counts[k]!, currentTotal),
    }));
  }
  const edges = reference.edges;
  if (edges.length === 0) {
    return [
      {
        label: 'all',
        lower: null,
        upper: null,
        code: null,
        reference: side(reference.counts[0]!, referenceTotal),
        current: side(current.counts[0]!, currentTotal),
      },
    ];
  }
  const last = edges.length - 1;
  return reference.counts.map((count, k) => {
    const lower = k === 0 ? null : edges[k - 1]!;
    const upper = k === edges.length ? null : edges[k]!;
    const label =
      lower === null
        ? `< ${formatEdge(upper!)}`
        : upper === null
          ? `> ${formatEdge(lower)}`
          : `[${formatEdge(lower)}, ${formatEdge(upper)}${k === last ? ']' : ')'}`;
    return {
      label,
      lower,
      upper,
      code: null,
      reference: side(count, referenceTotal),
      current: side(current.counts[k]!, currentTotal),
    };
  });
}

/** PSI over the bins either side has values in (Evidently's formula and zero filling). */
function psiOf(histogram: readonly HistogramBin[]): number {
  const used = histogram.filter((bin) => bin.reference.count > 0 || bin.current.count > 0);
  return populationStabilityIndex(
    used.map((bin) => bin.reference.share),
    used.map((bin) => bin.current.share),
  );
}

/** Drifted columns first, then by PSI (largest first), then in the order given. */
export function driftOrder(columns: readonly ColumnDrift[]): ColumnDrift[] {
  return columns
    .map((column, index) => ({ column, index }))
    .sort(
      (a, b) =>
        Number(b.column.drifted) - Number(a.column.drifted) ||
        (b.column.psi ?? -1) - (a.column.psi ?? -1) ||
        a.index - b.index,
    )
    .map(({ column }) => column);
}
