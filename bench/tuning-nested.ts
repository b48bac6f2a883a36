/**
 * Nested evaluation of tuning: for each of 5 outer stratified folds of the real file (seed 42), tune on
 * the outer training part only (50 trials, each cross-validated with 5 inner folds), refit the best
 * parameters on that part, and score the held-out outer fold. Reports mean accuracy and ROC AUC of the
 * held-out folds and the time of each 50-trial tuning.
 *
 *   npm run bench:tuning [-- --family gbdt --trials 50 --metric roc_auc]
 */
import { readDatasetFile } from '../src/data/csv-reader.js';
import { generateDataset } from '../src/data/generator/generator.js';
import { stratifiedKFold } from '../src/data/splits.js';
import type { EstimatorName } from '../src/ml/estimator.js';
import { createEstimator } from '../src/ml/estimators.js';
import { selectMatrixRows } from '../src/ml/matrix.js';
import { evaluateBinary } from '../src/ml/metrics/index.js';
import { featureMatrix } from '../src/ml/train.js';
import type { SearchSpace } from '../src/ml/tuning/search-space.js';
import { type TuningMetric, tune } from '../src/ml/tuning/tune.js';
import { HAS_REAL_DATA, REAL_DATA_PATH } from '../test/support/fixtures.js';

const argument = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1]! : fallback;
};
const family = argument('family', 'gbdt') as EstimatorName;
const trials = Number(argument('trials', '50'));
const metric = argument('metric', 'roc_auc') as TuningMetric;
const space = process.argv.includes('--space')
  ? (JSON.parse(argument('space', '{}')) as SearchSpace)
  : undefined;

const dataset = HAS_REAL_DATA
  ? (await readDatasetFile(REAL_DATA_PATH, { target: 'required' })).dataset
  : generateDataset({ rows: 2105, seed: 42 });
const x = featureMatrix(dataset);
const y = dataset.target!;
const outer = stratifiedKFold(y, 5, 42);
const results: { accuracy: number; roc_auc: number; seconds: number }[] = [];
for (const [index, fold] of outer.entries()) {
  const xTrain = selectMatrixRows(x, fold.train);
  const yTrain = Float64Array.from(fold.train, (i) => y[i]!);
  const started = performance.now();
  const tuned = tune(family, xTrain, yTrain, {
    trials,
    folds: 5,
    seed: index + 1,
    metric,
    ...(space ? { space } : {}),
  });
  const seconds = (performance.now() - started) / 1000;
  const model = createEstimator(family, tuned.best.params).fit(xTrain, yTrain);
  const yTest = Float64Array.from(fold.test, (i) => y[i]!);
  const metrics = evaluateBinary(yTest, model.predictProba(selectMatrixRows(x, fold.test)));
  results.push({ accuracy: metrics.accuracy, roc_auc: metrics.roc_auc, seconds });
  console.log(
    `outer fold ${index + 1}: held-out accuracy ${metrics.accuracy.toFixed(4)}, ROC AUC ${metrics.roc_auc.toFixed(4)}; ${trials}-trial tuning on ${fold.train.length} rows took ${seconds.toFixed(1)} s`,
  );
}
const mean = (key: 'accuracy' | 'roc_auc' | 'seconds') =>
  results.reduce((s, r) => s + r[key], 0) / results.length;
console.log(
  `${family} tuned for ${metric} (${trials} trials, TPE, 5 inner folds) on ${HAS_REAL_DATA ? 'the real file' : 'generated data'}: held-out mean accuracy ${mean('accuracy').toFixed(4)}, ROC AUC ${mean('roc_auc').toFixed(4)}; tuning time mean ${mean('seconds').toFixed(1)} s, max ${Math.max(...results.map((r) => r.seconds)).toFixed(1)} s`,
);
