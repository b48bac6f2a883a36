/**
 * The reference profile of a model: what its training data looked like, kept so that later data can be
 * compared with it (drift). Two parts:
 *
 * - **bins**, fixed on all the training rows, for the population stability index and the histograms:
 *   per continuous feature (and the predicted probability) the training deciles between the training
 *   minimum and maximum, plus one bin below and one above that range; per binary or categorical feature
 *   one bin per schema code. Fixed bins make a PSI comparable from one window to the next.
 * - **a sample** of the training rows (all of them up to `REFERENCE_SAMPLE_ROWS`, else a seeded random
 *   subset) with the model's predicted probability for each, for the statistical tests, which compare
 *   raw values, and each row's diagnosis when the training data had one: with out-of-fold probabilities,
 *   what performance estimation (CBPE) is fitted on.
 *
 * A versioned, name-tagged JSON document (as model documents are); serialize -> parse -> serialize gives
 * the same bytes. The training logger stores it as an artifact of every training run.
 */
import { invalidParameter } from '../errors.js';
import { Random } from '../util/random.js';
import type { Dataset } from './dataset.js';
import { FEATURE_NAMES, FEATURES, type FeatureName } from './schema.js';

export const REFERENCE_PROFILE_NAME = 'onset-reference-profile';
export const REFERENCE_PROFILE_VERSION = 1;
/** The most training rows a profile keeps as its sample (and as the tests' reference). */
export const REFERENCE_SAMPLE_ROWS = 5000;
/** Continuous columns are binned at their training deciles. */
export const REFERENCE_QUANTILE_BINS = 10;
/** The column of the model's predicted probability, beside the 32 features. */
export const PROBABILITY_COLUMN = 'probability';

/** Where the sample's probabilities came from. */
export type ProbabilitySource =
  /** Each row's probability from the cross-validation model that did not see it: like unseen patients. */
  | 'out_of_fold'
  /** The final model on its own training rows: optimistic (more extreme) than on new patients. */
  | 'training_fit'
  /** The model on a reference file given at drift time (`--reference`). */
  | 'scored';

/**
 * Bins of a continuous column: `edges` ascending from the training minimum to the training maximum;
 * `counts` has one count below the first edge, one per interval ([e_i, e_i+1), the last closed), and one
 * above the last edge.
 */
export interface IntervalBins {
  readonly type: 'intervals';
  readonly edges: readonly number[];
  readonly counts: readonly number[];
  /** Rows with no value (NaN); not in `counts`. */
  readonly missing: number;
}

/** Bins of a binary or categorical feature: one count per schema code, in the schema's order. */
export interface CodeBins {
  readonly type: 'codes';
  readonly codes: readonly number[];
  readonly counts: readonly number[];
  readonly missing: number;
}

export type ColumnBins = IntervalBins | CodeBins;

export type ProfileColumnName = FeatureName | typeof PROBABILITY_COLUMN;

export interface ReferenceProfile {
  readonly name: typeof REFERENCE_PROFILE_NAME;
  readonly formatVersion: number;
  /** ISO-8601 time the profile was made. */
  readonly createdAt: string;
  /** Fingerprint of the training data set (see `fingerprintDataset`), when known. */
  readonly datasetFingerprint: string | null;
  /** Rows the bins were counted on: every training row. */
  readonly trainingRows: number;
  /**
   * The model's decision threshold: it diagnoses 1 when the probability is at least this (0.5 in profiles
   * stored before models chose theirs).
   */
  readonly decisionThreshold: number;
  /** Bins of every feature (schema order) and of the probability, counted on every training row. */
  readonly bins: Readonly<Record<ProfileColumnName, ColumnBins>>;
  readonly sample: {
    readonly rows: number;
    /** Seed of the random subset; the sample is every training row (in order) when there were few enough. */
    readonly seed: number;
    readonly probabilitySource: ProbabilitySource;
    /** One column per feature and the probability, each of `rows` values; NaN where a value was missing. */
    readonly columns: Readonly<Record<ProfileColumnName, Float64Array>>;
    /**
     * The diagnosis (0 or 1) of each sampled row, when the training data had one; null otherwise, and in
     * profiles stored before Onset kept them (the document then has no `labels`).
     */
    readonly labels: Float64Array | null;
  };
}

export interface ReferenceProfileOptions {
  readonly probabilitySource: ProbabilitySource;
  /** Seed of the sample when there are more training rows than `sampleRows`. */
  readonly seed: number;
  readonly sampleRows?: number;
  readonly datasetFingerprint?: string | null;
  readonly createdAt?: Date;
  /** The model's decision threshold (default 0.5). */
  readonly decisionThreshold?: number;
}

/**
 * Builds the reference profile of a model from its training rows and its predicted probability for each
 * of them (`probabilities[i]` for row i).
 */
export function buildReferenceProfile(
  dataset: Dataset,
  probabilities: ArrayLike<number>,
  options: ReferenceProfileOptions,
): ReferenceProfile {
  if (probabilities.length !== dataset.rowCount) {
    throw new RangeError(`${probabilities.length} probabilities for ${dataset.rowCount} training rows`);
  }
  if (dataset.rowCount === 0) throw invalidParameter('A reference profile needs at least one training row');
  const probabilityColumn = Float64Array.from(probabilities);
  const bins = {} as Record<ProfileColumnName, ColumnBins>;
  for (const feature of FEATURES) {
    const column = dataset.columns[feature.name];
    bins[feature.name] =
      feature.kind === 'continuous'
        ? intervalBinsOf(column)
        : countCodes(
            feature.codes.map((entry) => entry.code),
            column,
          );
  }
  bins[PROBABILITY_COLUMN] = intervalBinsOf(probabilityColumn);

  const limit = options.sampleRows ?? REFERENCE_SAMPLE_ROWS;
  const rows = sampleRowIndices(dataset.rowCount, limit, options.seed);
  const columns = {} as Record<ProfileColumnName, Float64Array>;
  for (const name of FEATURE_NAMES) columns[name] = gather(dataset.columns[name], rows);
  columns[PROBABILITY_COLUMN] = gather(probabilityColumn, rows);
  const labels = dataset.target === undefined ? null : gather(dataset.target, rows);
  return {
    name: REFERENCE_PROFILE_NAME,
    formatVersion: REFERENCE_PROFILE_VERSION,
    createdAt: (options.createdAt ?? new Date()).toISOString(),
    datasetFingerprint: options.datasetFingerprint ?? null,
    trainingRows: dataset.rowCount,
    decisionThreshold: options.decisionThreshold ?? 0.5,
    bins,
    sample: {
      rows: rows.length,
      seed: options.seed,
      probabilitySource: options.probabilitySource,
      columns,
      labels,
    },
  };
}

/** Every row when there are at most `limit`, else `limit` of them drawn at random (seeded), in row order. */
function sampleRowIndices(rowCount: number, limit: number, seed: number): Int32Array {
  if (rowCount <= limit) return Int32Array.from({ length: rowCount }, (_, i) => i);
  return new Random(seed).permutation(rowCount).slice(0, limit).sort();
}

function gather(column: Float64Array, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = column[rows[i]!]!;
  return out;
}

/** Decile bins of a continuous column (see `IntervalBins`), with the column's own counts. */
export function intervalBinsOf(column: ArrayLike<number>): IntervalBins {
  const present = Float64Array.from(column)
    .filter((value) => !Number.isNaN(value))
    .sort();
  if (present.length === 0) return { type: 'intervals', edges: [], counts: [0], missing: column.length };
  const edges: number[] = [present[0]!];
  for (let k = 1; k < REFERENCE_QUANTILE_BINS; k++) {
    const edge = present[Math.floor((k * present.length) / REFERENCE_QUANTILE_BINS)]!;
    if (edge > edges[edges.length - 1]!) edges.push(edge);
  }
  const max = present[present.length - 1]!;
  if (max > edges[edges.length - 1]! || edges.length === 1) edges.push(max);
  return countIntervals(edges, column);
}

/**
 * Which bin of `edges` (see `IntervalBins`) a value falls in: 0 below the first edge, i for
 * [e_(i-1), e_i) (the last interval closed), edges.length above the last edge.
 */
export function intervalIndex(edges: readonly number[], value: number): number {
  if (value < edges[0]!) return 0;
  const last = edges.length - 1;
  if (value > edges[last]!) return edges.length;
  // The first edge greater than value, by bisection; the last interval includes its upper edge.
  let low = 1;
  let high = last;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (edges[middle]! > value) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Counts a column on given interval edges. */
export function countIntervals(edges: readonly number[], column: ArrayLike<number>): IntervalBins {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let missing = 0;
  if (edges.length === 0) {
    for (let i = 0; i < column.length; i++) if (Number.isNaN(column[i])) missing++;
    return { type: 'intervals', edges: [], counts: [column.length - missing], missing };
  }
  for (let i = 0; i < column.length; i++) {
    const value = column[i]!;
    if (Number.isNaN(value)) missing++;
    else counts[intervalIndex(edges, value)]!++;
  }
  return { type: 'intervals', edges: [...edges], counts, missing };
}

/** Counts a column's codes, in the order given; a value that is none of them is an error. */
export function countCodes(codes: readonly number[], column: ArrayLike<number>, name?: string): CodeBins {
  const index = new Map(codes.map((code, i) => [code, i]));
  // Schema codes are 0, 1, 2, ...: then a code is its own position, no lookup needed.
  const identity = codes.every((code, i) => code === i);
  const counts = new Array<number>(codes.length).fill(0);
  let missing = 0;
  for (let i = 0; i < column.length; i++) {
    const value = column[i]!;
    if (Number.isNaN(value)) {
      missing++;
      continue;
    }
    const at =
      identity && Number.isInteger(value) && value >= 0 && value < codes.length ? value : index.get(value);
    if (at === undefined) {
      throw invalidParameter(
        `${name ?? 'A coded column'} has the value ${value}, which is not one of its codes (${codes.join(', ')})`,
      );
    }
    counts[at]!++;
  }
  return { type: 'codes', codes: [...codes], counts, missing };
}

// ---------------------------------------------------------------------------------------------------
// The JSON document

interface ReferenceProfileJson {
  name: string;
  format_version: number;
  created_at: string;
  dataset_fingerprint: string | null;
  training_rows: number;
  /** Absent from profiles stored before models chose their threshold (it was 0.5). */
  decision_threshold?: number;
  bins: Record<string, ColumnBinsJson>;
  sample: {
    rows: number;
    seed: number;
    probability_source: ProbabilitySource;
    columns: Record<string, (number | null)[]>;
    /** Absent when the profile has no labels (the document is then what older Onsets wrote). */
    labels?: number[];
  };
}

type ColumnBinsJson =
  | { type: 'intervals'; edges: number[]; counts: number[]; missing: number }
  | { type: 'codes'; codes: number[]; counts: number[]; missing: number };

const PROFILE_COLUMNS: readonly ProfileColumnName[] = [...FEATURE_NAMES, PROBABILITY_COLUMN];

/** The profile as compact JSON (missing sample values as null), with a final newline. */
export function serializeReferenceProfile(profile: ReferenceProfile): string {
  const json: ReferenceProfileJson = {
    name: profile.name,
    format_version: profile.formatVersion,
    created_at: profile.createdAt,
    dataset_fingerprint: profile.datasetFingerprint,
    training_rows: profile.trainingRows,
    decision_threshold: profile.decisionThreshold,
    bins: Object.fromEntries(
      PROFILE_COLUMNS.map((name) => {
        const bins = profile.bins[name];
        return [
          name,
          bins.type === 'intervals'
            ? { type: 'intervals', edges: [...bins.edges], counts: [...bins.counts], missing: bins.missing }
            : { type: 'codes', codes: [...bins.codes], counts: [...bins.counts], missing: bins.missing },
        ];
      }),
    ),
    sample: {
      rows: profile.sample.rows,
      seed: profile.sample.seed,
      probability_source: profile.sample.probabilitySource,
      columns: Object.fromEntries(
        PROFILE_COLUMNS.map((name) => [
          name,
          Array.from(profile.sample.columns[name], (value) => (Number.isNaN(value) ? null : value)),
        ]),
      ),
      ...(profile.sample.labels === null ? {} : { labels: Array.from(profile.sample.labels) }),
    },
  };
  return `${JSON.stringify(json)}\n`;
}

const PROBABILITY_SOURCES: readonly ProbabilitySource[] = ['out_of_fold', 'training_fit', 'scored'];

/**
 * Reads a reference profile document, checking its name, version and shape; `source` names it in
 * errors (`runs:/.../data/reference-profile.json`).
 */
export function parseReferenceProfile(text: string, source: string): ReferenceProfile {
  let json: ReferenceProfileJson;
  try {
    json = JSON.parse(text) as ReferenceProfileJson;
  } catch (error) {
    throw invalidParameter(`${source} is not a reference profile: ${(error as Error).message}`);
  }
  const problem = (what: string) => invalidParameter(`${source} is not a valid reference profile: ${what}`);
  if (json === null || typeof json !== 'object' || json.name !== REFERENCE_PROFILE_NAME) {
    throw problem(`its name is not "${REFERENCE_PROFILE_NAME}"`);
  }
  if (json.format_version !== REFERENCE_PROFILE_VERSION) {
    throw problem(
      `format version ${String(json.format_version)}; this Onset reads version ${REFERENCE_PROFILE_VERSION}`,
    );
  }
  const threshold = json.decision_threshold ?? 0.5;
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
    throw problem(`its decision threshold ${JSON.stringify(threshold)} is not a number between 0 and 1`);
  }
  const sample = json.sample;
  if (!sample || !Number.isInteger(sample.rows) || sample.rows < 1) throw problem('its sample has no rows');
  if (!PROBABILITY_SOURCES.includes(sample.probability_source)) {
    throw problem(`unknown probability source "${String(sample.probability_source)}"`);
  }
  const bins = {} as Record<ProfileColumnName, ColumnBins>;
  const columns = {} as Record<ProfileColumnName, Float64Array>;
  for (const name of PROFILE_COLUMNS) {
    const binned = json.bins?.[name];
    if (!binned || !Array.isArray(binned.counts) || !Number.isInteger(binned.missing)) {
      throw problem(`no bins for ${name}`);
    }
    if (binned.type === 'intervals') {
      if (!Array.isArray(binned.edges) || binned.counts.length !== Math.max(binned.edges.length + 1, 1)) {
        throw problem(`the bins of ${name} do not match their edges`);
      }
      bins[name] = { type: 'intervals', edges: binned.edges, counts: binned.counts, missing: binned.missing };
    } else if (binned.type === 'codes') {
      if (!Array.isArray(binned.codes) || binned.counts.length !== binned.codes.length) {
        throw problem(`the bins of ${name} do not match their codes`);
      }
      bins[name] = { type: 'codes', codes: binned.codes, counts: binned.counts, missing: binned.missing };
    } else {
      throw problem(`unknown bins type for ${name}`);
    }
    const values = sample.columns?.[name];
    if (!Array.isArray(values) || values.length !== sample.rows) {
      throw problem(`the sample's ${name} column does not have ${sample.rows} values`);
    }
    columns[name] = Float64Array.from(values, (value) => (value === null ? Number.NaN : value));
  }
  let labels: Float64Array | null = null;
  if (sample.labels !== undefined) {
    if (
      !Array.isArray(sample.labels) ||
      sample.labels.length !== sample.rows ||
      !sample.labels.every((label) => label === 0 || label === 1)
    ) {
      throw problem(`the sample's labels are not ${sample.rows} values of 0 or 1`);
    }
    labels = Float64Array.from(sample.labels);
  }
  return {
    name: REFERENCE_PROFILE_NAME,
    formatVersion: json.format_version,
    createdAt: json.created_at,
    datasetFingerprint: json.dataset_fingerprint ?? null,
    trainingRows: json.training_rows,
    decisionThreshold: threshold,
    bins,
    sample: {
      rows: sample.rows,
      seed: sample.seed,
      probabilitySource: sample.probability_source,
      columns,
      labels,
    },
  };
}
