import type { Split } from '../../src/data/splits.js';
import { type Matrix, selectMatrixRows } from '../../src/math/matrix.js';
import type { EstimatorName } from '../../src/ml/estimator.js';
import { createEstimator } from '../../src/ml/estimator-registry.js';
import { type BinaryMetrics, evaluateBinary } from '../../src/ml/metrics/index.js';
import { type TuneOptions, tune } from '../../src/ml/tuning/tune.js';

/**
 * One outer fold of nested tuning: tune on the fold's training part only, refit the best parameters on
 * that part, and score the held-out part. `seconds` times the tuning.
 */
export function tuneRefitScore(
  family: EstimatorName,
  x: Matrix,
  y: Float64Array,
  fold: Split,
  options: TuneOptions,
): { metrics: BinaryMetrics; seconds: number } {
  const xTrain = selectMatrixRows(x, fold.train);
  const yTrain = Float64Array.from(fold.train, (i) => y[i]!);
  const started = performance.now();
  const tuned = tune(family, xTrain, yTrain, options);
  const seconds = (performance.now() - started) / 1000;
  const model = createEstimator(family, tuned.best.params).fit(xTrain, yTrain);
  const yTest = Float64Array.from(fold.test, (i) => y[i]!);
  return { metrics: evaluateBinary(yTest, model.predictProba(selectMatrixRows(x, fold.test))), seconds };
}
