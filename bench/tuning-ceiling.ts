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
import { type Split, stratifiedKFold } from '../src/data/splits.js';
import { createMatrix, type Matrix } from '../src/math/matrix.js';
import { type BinaryMetrics, evaluateBinary } from '../src/ml/metrics/index.js';
import { featureMatrix } from '../src/ml/train-on-dataset.js';
import { HAS_REAL_DATA, REAL_DATA_PATH, REAL_DATA_SKIP_REASON } from '../test/support/fixtures.js';
import { tuneRefitScore } from './support/nested-tuning.js';

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

const describe = (metrics: readonly BinaryMetrics[]): string => {
  const mean = (key: 'accuracy' | 'roc_auc') => metrics.reduce((sum, m) => sum + m[key], 0) / metrics.length;
  return `held-out mean accuracy ${mean('accuracy').toFixed(4)}, ROC AUC ${mean('roc_auc').toFixed(4)}`;
};

const cellMajority = ({ train, test }: Split): BinaryMetrics => {
  const prior = train.reduce((sum, row) => sum + y[row]!, 0) / train.length;
  const cells = new Map<string, { positives: number; count: number }>();
  for (const row of train) {
    const key = indicators(row).join('');
    const cell = cells.get(key) ?? { positives: 0, count: 0 };
    cell.positives += y[row]!;
    cell.count += 1;
    cells.set(key, cell);
  }
  const probabilities = Float64Array.from(test, (row) => {
    const cell = cells.get(indicators(row).join(''));
    return cell ? (cell.positives + prior) / (cell.count + 1) : prior;
  });
  return evaluateBinary(
    Float64Array.from(test, (row) => y[row]!),
    probabilities,
  );
};

/** Tuned gbdt over the outer folds, with the seeds of `npm run bench:tuning`'s first repeat. */
const tunedGbdt = (matrix: Matrix) =>
  outer.map(
    (fold, index) =>
      tuneRefitScore('gbdt', matrix, y, fold, { trials: 50, folds: 5, seed: index + 1 }).metrics,
  );

console.log(`the seven indicators' cells, training-part majority: ${describe(outer.map(cellMajority))}`);
console.log(`tuned gbdt on the seven indicators only: ${describe(tunedGbdt(indicatorMatrix))}`);
console.log(`tuned gbdt on the seven features' raw values only: ${describe(tunedGbdt(rawMatrix))}`);
console.log(`tuned gbdt on all 32 features (npm run bench:tuning): ${describe(tunedGbdt(x))}`);
