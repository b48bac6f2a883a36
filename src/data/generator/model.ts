import type { FeatureName } from '../schema.js';

/**
 * The constants the generator samples from, derived from the real Kaggle file by
 * `scripts/calibrate-generator.ts` (see `calibrate.ts`). They hold marginals and a label model only:
 * no real record is reproduced.
 */
export interface GeneratorConstants {
  readonly formatVersion: 1;
  /** Where the constants came from: the calibration file's size, fingerprint and Diagnosis rate. */
  readonly source: { readonly rows: number; readonly fingerprint: string; readonly positiveRate: number };
  /** One marginal per feature. Features are sampled independently (the real file shows no dependence). */
  readonly marginals: Readonly<Record<FeatureName, Marginal>>;
  readonly labelModel: LabelModel;
}

export type Marginal =
  /** Inverse CDF as equally spaced quantiles (q = 0, 1/(k-1), ..., 1), linearly interpolated. */
  | { readonly type: 'quantiles'; readonly values: readonly number[] }
  /** Whole numbers `min`, `min + 1`, ... with their counts in the calibration file. */
  | { readonly type: 'integers'; readonly min: number; readonly counts: readonly number[] }
  /** Binary and categorical codes with their counts in the calibration file. */
  | { readonly type: 'codes'; readonly codes: readonly number[]; readonly counts: readonly number[] };

/**
 * An additive piecewise-constant logit: `logit P(Diagnosis = 1 | x) = intercept + Σ f_j(x_j)`, where each
 * `f_j` takes `weights[b]` in bin `b`, bin `b` holding `edges[b-1] <= x < edges[b]` (`weights[0] = 0` is
 * the reference bin). Missing values fall in the reference bin.
 */
export interface LabelModel {
  readonly intercept: number;
  readonly terms: readonly LabelTerm[];
}

export interface LabelTerm {
  readonly feature: FeatureName;
  readonly edges: readonly number[];
  readonly weights: readonly number[];
}

/** The bin of `value` among ascending `edges` (0 .. edges.length). */
export function binOf(edges: readonly number[], value: number): number {
  let bin = 0;
  while (bin < edges.length && value >= edges[bin]!) bin++;
  return bin;
}

/** `logit P(Diagnosis = 1)` for one row, given a lookup of its feature values. */
export function labelLogit(model: LabelModel, featureValue: (feature: FeatureName) => number): number {
  let logit = model.intercept;
  for (const term of model.terms) {
    const value = featureValue(term.feature);
    if (!Number.isNaN(value)) logit += term.weights[binOf(term.edges, value)]!;
  }
  return logit;
}
