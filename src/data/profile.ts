import type { Dataset } from './dataset.js';
import { fingerprintDataset } from './fingerprint.js';
import {
  FEATURES,
  type Feature,
  type FeatureGroup,
  type FeatureKind,
  type FeatureName,
  TARGET,
} from './schema.js';

export const PROFILE_QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95] as const;

export interface CodeShare {
  readonly code: number;
  readonly label: string;
  readonly count: number;
  /** Share of the non-missing values, in [0, 1]. */
  readonly share: number;
}

export interface FeatureProfile {
  readonly name: FeatureName;
  readonly group: FeatureGroup;
  readonly kind: FeatureKind;
  /** Non-missing values. */
  readonly count: number;
  readonly missing: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  /** Sample standard deviation (n - 1 in the denominator, as pandas). */
  readonly std: number | null;
  /** Quantiles at `PROFILE_QUANTILES`, linearly interpolated (numpy's default). */
  readonly quantiles: readonly { readonly q: number; readonly value: number }[];
  /** Binary and categorical features: the count and share of every code. */
  readonly codes?: readonly CodeShare[];
  /** Continuous features: 10 equal-width bins over the schema's training range (values beyond it in the end bins). */
  readonly histogram?: { readonly edges: readonly number[]; readonly counts: readonly number[] };
}

export interface DatasetProfile {
  readonly rowCount: number;
  readonly fingerprint: string;
  readonly features: readonly FeatureProfile[];
  /** Class balance of Diagnosis, when the data set has it. */
  readonly target?: {
    readonly count: number;
    readonly missing: number;
    readonly classes: readonly CodeShare[];
  };
}

/** Describes every feature and the class balance of a data set. */
export function profileDataset(dataset: Dataset): DatasetProfile {
  const features = FEATURES.map((feature) => profileFeature(feature, dataset.columns[feature.name]));
  const profile: DatasetProfile = {
    rowCount: dataset.rowCount,
    fingerprint: fingerprintDataset(dataset),
    features,
  };
  if (dataset.target === undefined) return profile;
  const present = dataset.target.filter((value) => !Number.isNaN(value));
  return {
    ...profile,
    target: {
      count: present.length,
      missing: dataset.target.length - present.length,
      classes: codeShares(TARGET.codes, present),
    },
  };
}

function profileFeature(feature: Feature, column: Float64Array): FeatureProfile {
  const present = column.filter((value) => !Number.isNaN(value)).sort();
  const n = present.length;
  let mean: number | null = null;
  let std: number | null = null;
  if (n > 0) {
    let sum = 0;
    for (const value of present) sum += value;
    mean = sum / n;
    let squares = 0;
    for (const value of present) squares += (value - mean) ** 2;
    std = n > 1 ? Math.sqrt(squares / (n - 1)) : 0;
  }
  const base = {
    name: feature.name as FeatureName,
    group: feature.group,
    kind: feature.kind,
    count: n,
    missing: column.length - n,
    min: n > 0 ? present[0]! : null,
    max: n > 0 ? present[n - 1]! : null,
    mean,
    std,
    quantiles: n > 0 ? PROFILE_QUANTILES.map((q) => ({ q, value: quantileOfSorted(present, q) })) : [],
  };
  if (feature.kind === 'continuous') {
    return { ...base, histogram: histogram(present, feature.training.min, feature.training.max, 10) };
  }
  return { ...base, codes: codeShares(feature.codes, present) };
}

function codeShares(codes: readonly { code: number; label: string }[], values: Float64Array): CodeShare[] {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return codes.map(({ code, label }) => {
    const count = counts.get(code) ?? 0;
    return { code, label, count, share: values.length > 0 ? count / values.length : 0 };
  });
}

/** The q-quantile of ascending `sorted` with linear interpolation between order statistics. */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  const weight = position - lower;
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}

function histogram(sorted: Float64Array, min: number, max: number, bins: number) {
  const width = (max - min) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => min + i * width);
  const counts = new Array<number>(bins).fill(0);
  for (const value of sorted) {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor((value - min) / width)));
    counts[bin]!++;
  }
  return { edges, counts };
}
