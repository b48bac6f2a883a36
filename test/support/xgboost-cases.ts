import { toRowMajor } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { createMatrix, type Matrix } from '../../src/math/matrix.js';
import { Random } from '../../src/util/random.js';

/** Onset models exported to XGBoost JSON for the interoperability fixtures (see scripts/fixtures). */
export const ONSET_EXPORT_CASES = [
  { name: 'defaults', params: {}, rows: 1684, seed: 11, missingShare: 0 },
  {
    name: 'missing-regularized',
    params: {
      n_estimators: 40,
      max_depth: 4,
      reg_alpha: 0.5,
      gamma: 0.2,
      max_delta_step: 1,
      subsample: 0.8,
      colsample_bytree: 0.7,
      base_score: 0.62,
      scale_pos_weight: 1.5,
      seed: 3,
    },
    rows: 1200,
    seed: 12,
    missingShare: 0.1,
  },
] as const;

/** Sets a share of the values of a matrix to NaN, deterministically. */
export function withMissingValues(x: Matrix, share: number, seed: number): Matrix {
  if (share === 0) return x;
  const random = new Random(seed + 1000);
  const data = Float64Array.from(x.data, (value) => (random.next() < share ? Number.NaN : value));
  return createMatrix(data, x.rows, x.cols);
}

/** The rows every fixture model is scored on: 300 generated patients with 5% missing values. */
export function scoringMatrix(): Matrix {
  const data = generateDataset({ rows: 300, seed: 99 });
  return withMissingValues(createMatrix(toRowMajor(data), 300, FEATURE_NAMES.length), 0.05, 99);
}
