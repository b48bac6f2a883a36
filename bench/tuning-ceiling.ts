/**
 * How much accuracy is there to win on the real file? The tuned `gbdt` figure of `npm run bench:tuning`
 * set beside learners that are told what no learner is told: the seven thresholded features a decision
 * tree finds behind the labels (UPDRS > 50, MoCA < 26, FunctionalAssessment < 5, and the four motor
 * symptoms). All on the same outer folds (stratified, 5, seed 42) with the same tuning (50 TPE trials,
 * 5 inner folds, seed = outer fold number):
 *
 * - the seven indicators' cells (2^7), each predicted by its training part's smoothed majority;
 * - tuned `gbdt` on the seven indicators only;
 * - tuned `gbdt` on the seven features' raw values only (the thresholds left to learn).
 *
 *   npx tsx bench/tuning-ceiling.ts          (needs the real file: ONSET_REAL_DATA or ../shared/data)
 */
import { readDatasetFile } from '../src/data/csv-reader.js';
import { FEATURE_NAMES, type FeatureName } from '../src/data/schema.js';
import { stratifiedKFold } from '../src/data/splits.js';
import { createEstimator } from '../src/ml/estimators.js';
import { createMatrix, type Matrix, selectMatrixRows } from '../src/ml/matrix.js';
import { type BinaryMetrics, evaluateBinary } from '../src/ml/metrics/index.js';
import { featureMatrix } from '../src/ml/train.js';
import { tune } from '../src/ml/tuning/tune.js';
import { HAS_REAL_DATA, REAL_DATA_PATH, REAL_DATA_SKIP_REASON } from '../test/support/fixtures.js';

if (!HAS_REAL_DATA) {
  console.log(`Not run: ${REAL_DATA_SKIP_REASON}`);
  process.exit(0);
}
const { dataset } = await readDatasetFile(REAL_DATA_PATH, { target: 'required' });
const x = featureMatrix(dataset);
const y = dataset.target!;
const outer = stratifiedKFold(y, 5, 42);

const RULE_FEATURES: readonly FeatureName[] = [
  'UPDRS',
  'MoCA',
  'FunctionalAssessment',
  'Tremor',
  'Rigidity',
  'Bradykinesia',
  'PosturalInstability',
];
const value = (row: number, name: FeatureName) => x.data[row * x.cols + FEATURE_NAMES.indexOf(name)]!;
const indicators = (row: number): number[] => [
  value(row, 'UPDRS') > 50 ? 1 : 0,
  value(row, 'MoCA') < 26 ? 1 : 0,
  value(row, 'FunctionalAssessment') < 5 ? 1 : 0,
  ...RULE_FEATURES.slice(3).map((name) => value(row, name)),
];
const indicatorMatrix = createMatrix(
  Float64Array.from(Array.from({ length: x.rows }, (_, row) => indicators(row)).flat()),
  x.rows,
  RULE_FEATURES.length,
);
const rawMatrix = createMatrix(
  Float64Array.from(
    Array.from({ length: x.rows }, (_, row) => RULE_FEATURES.map((name) => value(row, name))).flat(),
  ),
  x.rows,
  RULE_FEATURES.length,
);

const heldOut = (score: (train: number[], test: number[], fold: number) => Float64Array): string => {
  const metrics: BinaryMetrics[] = outer.map((fold, index) =>
    evaluateBinary(
      Float64Array.from(fold.test, (row) => y[row]!),
      score(Array.from(fold.train), Array.from(fold.test), index),
    ),
  );
  const mean = (key: 'accuracy' | 'roc_auc') => metrics.reduce((sum, m) => sum + m[key], 0) / metrics.length;
  return `held-out mean accuracy ${mean('accuracy').toFixed(4)}, ROC AUC ${mean('roc_auc').toFixed(4)}`;
};

const cellMajority = (train: number[], test: number[]) => {
  const prior = train.reduce((sum, row) => sum + y[row]!, 0) / train.length;
  const cells = new Map<string, { positives: number; count: number }>();
  for (const row of train) {
    const key = indicators(row).join('');
    const cell = cells.get(key) ?? { positives: 0, count: 0 };
    cell.positives += y[row]!;
    cell.count += 1;
    cells.set(key, cell);
  }
  return Float64Array.from(test, (row) => {
    const cell = cells.get(indicators(row).join(''));
    return cell ? (cell.positives + prior) / (cell.count + 1) : prior;
  });
};

const tunedGbdt = (matrix: Matrix) => (train: number[], test: number[], fold: number) => {
  const xTrain = selectMatrixRows(matrix, train);
  const yTrain = Float64Array.from(train, (row) => y[row]!);
  const tuned = tune('gbdt', xTrain, yTrain, { trials: 50, folds: 5, seed: fold + 1 });
  return createEstimator('gbdt', tuned.best.params)
    .fit(xTrain, yTrain)
    .predictProba(selectMatrixRows(matrix, test));
};

console.log(`the seven indicators' cells, training-part majority: ${heldOut(cellMajority)}`);
console.log(`tuned gbdt on the seven indicators only: ${heldOut(tunedGbdt(indicatorMatrix))}`);
console.log(`tuned gbdt on the seven features' raw values only: ${heldOut(tunedGbdt(rawMatrix))}`);
console.log(`tuned gbdt on all 32 features (npm run bench:tuning): ${heldOut(tunedGbdt(x))}`);
