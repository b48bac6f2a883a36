/**
 * Calibration on the real file (generated data when it is absent): every family with its defaults,
 * 5 stratified folds (seed 42), its out-of-fold probabilities before calibration and its calibrated
 * held-out ones after (`chooseCalibration`, auto: each fold calibrated by a fit on the others), beside
 * XGBoost 1.7 with and without scikit-learn's CalibratedClassifierCV on the same outer folds. Reports the
 * expected calibration error (10 bins) with its bootstrap interval, Brier score, ROC AUC, and sensitivity
 * and specificity at 0.5. Target: every family at ECE <= 0.02 with ROC AUC within 0.002. Then the
 * decision thresholds two policies choose on each family's calibrated held-out probabilities, with their
 * sensitivity and specificity where chosen and cross-fitted.
 *
 *   npx tsx bench/calibration.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDatasetFile } from '../src/data/csv-reader.js';
import { generateDataset, writeKaggleCsv } from '../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../src/data/schema.js';
import { stratifiedKFold } from '../src/data/splits.js';
import { calibrationFigures, chooseCalibration } from '../src/ml/calibration/calibration.js';
import { crossValidate } from '../src/ml/cross-validate.js';
import {
  chooseThreshold,
  formatThresholdPolicy,
  type ThresholdPolicy,
} from '../src/ml/decision/threshold-policy.js';
import { ESTIMATOR_NAMES } from '../src/ml/estimator-registry.js';
import { confusionMatrix, rocAuc } from '../src/ml/metrics/index.js';
import { featureMatrix } from '../src/ml/train-on-dataset.js';
import { HAS_REAL_DATA, REAL_DATA_PATH } from '../test/support/fixtures.js';

const PYTHON = '/usr/bin/python3';
const FOLDS = 5;
const SEED = 42;

let path = REAL_DATA_PATH;
if (!HAS_REAL_DATA) {
  path = join(mkdtempSync(join(tmpdir(), 'onset-bench-calibration-')), 'generated.csv');
  await writeKaggleCsv(path, generateDataset({ rows: 2105, seed: 42 }));
}
const { dataset } = await readDatasetFile(path, { target: 'required' });
const x = featureMatrix(dataset);
const y = dataset.target!;

function row(name: string, probability: Float64Array, extra = ''): string {
  const figures = calibrationFigures(y, probability, SEED);
  const confusion = confusionMatrix(y, probability, 0.5);
  const sensitivity = confusion.tp / (confusion.tp + confusion.fn);
  const specificity = confusion.tn / (confusion.tn + confusion.fp);
  return [
    name.padEnd(42),
    `${figures.ece.toFixed(4)} [${figures.ece_interval.map((v) => v.toFixed(4)).join(', ')}]`.padEnd(26),
    figures.brier.toFixed(4).padEnd(8),
    rocAuc(y, probability).toFixed(4).padEnd(8),
    `${sensitivity.toFixed(3)} / ${specificity.toFixed(3)}`.padEnd(15),
    extra,
  ].join(' ');
}

const lines = [
  `Calibration on ${HAS_REAL_DATA ? 'the real file' : 'generated data (the real file is absent)'} (${y.length} rows), ${FOLDS} stratified folds, seed ${SEED}, defaults; held-out probabilities`,
  `${'model'.padEnd(42)} ${'ECE (10 bins) [95% CI]'.padEnd(26)} ${'Brier'.padEnd(8)} ${'ROC AUC'.padEnd(8)} ${'sens / spec'.padEnd(15)}`,
];
/** Decision thresholds chosen on each family's calibrated held-out probabilities, and cross-fitted. */
const thresholdLines = [
  '',
  'Decision thresholds on the calibrated held-out probabilities (sensitivity / specificity where chosen; cross-fitted: each fold at the threshold chosen on the others)',
  `${'model'.padEnd(12)} ${'policy'.padEnd(18)} ${'threshold'.padEnd(10)} ${'chosen on'.padEnd(14)} cross-fitted`,
];
const POLICIES: readonly ThresholdPolicy[] = [
  { kind: 'min_sensitivity', sensitivity: 0.95 },
  { kind: 'cost_ratio', ratio: 5 },
];
for (const estimator of ESTIMATOR_NAMES) {
  const cv = crossValidate(estimator, {}, x, y, { folds: FOLDS, seed: SEED });
  const chosen = chooseCalibration(cv.outOfFold, y, { choice: 'auto', folds: FOLDS, seed: SEED });
  for (const policy of POLICIES) {
    const threshold = chooseThreshold(policy, {
      probability: chosen.heldOut,
      target: y,
      crossFit: { folds: FOLDS, seed: SEED },
    });
    const pair = (f: { sensitivity: number; specificity: number }) =>
      `${f.sensitivity.toFixed(3)} / ${f.specificity.toFixed(3)}`;
    thresholdLines.push(
      [
        estimator.padEnd(12),
        formatThresholdPolicy(policy).padEnd(18),
        String(threshold.value).padEnd(10),
        pair(threshold.held_out!).padEnd(14),
        pair(threshold.cross_fitted!),
      ].join(' '),
    );
  }
  lines.push(row(`${estimator}, uncalibrated`, cv.outOfFold));
  const aucChange = rocAuc(y, chosen.heldOut) - rocAuc(y, cv.outOfFold);
  lines.push(
    row(
      `${estimator}, calibrated (${chosen.document.method})`,
      chosen.heldOut,
      `AUC ${aucChange >= 0 ? '+' : ''}${aucChange.toFixed(4)}`,
    ),
  );
}

const hasReference =
  existsSync(PYTHON) &&
  spawnSync(PYTHON, ['-c', 'import pandas, sklearn, xgboost'], { stdio: 'ignore' }).status === 0;
if (hasReference) {
  const folds = stratifiedKFold(y, FOLDS, SEED).map((split) => ({
    train: Array.from(split.train),
    test: Array.from(split.test),
  }));
  const script = fileURLToPath(new URL('./support/calibration-reference.py', import.meta.url));
  const run = spawnSync(PYTHON, [script], {
    input: JSON.stringify({ data: path, features: FEATURE_NAMES, folds }),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (run.status !== 0) throw new Error(`the reference failed: ${run.stderr}`);
  const reference = JSON.parse(run.stdout) as Record<'none' | 'sigmoid' | 'isotonic', number[]> & {
    xgboost: string;
  };
  lines.push(row(`XGBoost ${reference.xgboost}, uncalibrated`, Float64Array.from(reference.none)));
  lines.push(row('XGBoost + CalibratedClassifierCV(sigmoid)', Float64Array.from(reference.sigmoid)));
  lines.push(row('XGBoost + CalibratedClassifierCV(isotonic)', Float64Array.from(reference.isotonic)));
} else {
  lines.push('XGBoost + scikit-learn: not installed here (apt-get install python3-xgboost python3-sklearn)');
}
lines.push('Target: every family at ECE <= 0.02, ROC AUC within 0.002 of the uncalibrated model.');
lines.push(...thresholdLines);
process.stdout.write(`${lines.join('\n')}\n`);
