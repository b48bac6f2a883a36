/**
 * Nested evaluation of tuning: for each of 5 outer stratified folds of the real file (seed 42), tune on
 * the outer training part only (50 trials, each cross-validated with 5 inner folds), refit the best
 * parameters on that part, and score the held-out outer fold. Reports mean held-out accuracy and ROC AUC
 * and the time of each tuning, then the same for the reference: XGBoost 1.7 tuned by Optuna's TPE over
 * the same space, trials, inner folds and outer folds (Debian python3-xgboost and python3-optuna).
 * `--repeats R` runs the whole evaluation R times with different tuning seeds (outer fold i of repeat r
 * tunes with seed i + 1 + 100 r, on both sides) and reports each repeat and the mean over repeats.
 *
 *   npm run bench:tuning [-- --family gbdt --trials 50 --metric roc_auc --sampler tpe
 *                            --space '{...}' --repeats 1 --no-reference]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDatasetFile } from '../src/data/csv-reader.js';
import { generateDataset, writeKaggleCsv } from '../src/data/generator/generator.js';
import { stratifiedKFold } from '../src/data/splits.js';
import type { EstimatorName } from '../src/ml/estimator.js';
import type { SelectionMetric } from '../src/ml/metrics/index.js';
import { featureMatrix } from '../src/ml/train-on-dataset.js';
import { type SearchSpace, searchSpaceOf } from '../src/ml/tuning/search-space.js';
import type { TuneOptions } from '../src/ml/tuning/tune.js';
import { HAS_REAL_DATA, REAL_DATA_PATH } from '../test/support/fixtures.js';
import { tuneRefitScore } from './support/nested-tuning.js';

const argument = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1]! : fallback;
};
const family = argument('family', 'gbdt') as EstimatorName;
const trials = Number(argument('trials', '50'));
const metric = argument('metric', 'roc_auc') as SelectionMetric;
const sampler = argument('sampler', 'tpe') as NonNullable<TuneOptions['sampler']>;
const repeats = Number(argument('repeats', '1'));
if (!Number.isInteger(repeats) || repeats < 1)
  throw new Error(`--repeats takes a positive integer, got ${repeats}`);
const tuningSeed = (fold: number, repeat: number) => fold + 1 + 100 * repeat;
const space = process.argv.includes('--space')
  ? (JSON.parse(argument('space', '{}')) as SearchSpace)
  : undefined;

let dataPath = REAL_DATA_PATH;
if (!HAS_REAL_DATA) {
  dataPath = join(mkdtempSync(join(tmpdir(), 'onset-tuning-')), 'generated.csv');
  await writeKaggleCsv(dataPath, generateDataset({ rows: 2105, seed: 42 }));
}
const { dataset } = await readDatasetFile(dataPath, { target: 'required' });
const x = featureMatrix(dataset);
const y = dataset.target!;
const outer = stratifiedKFold(y, 5, 42);

interface FoldScore {
  accuracy: number;
  roc_auc: number;
  seconds: number;
}
const mean = (key: keyof FoldScore, rows: readonly FoldScore[]) =>
  rows.reduce((s, r) => s + r[key], 0) / rows.length;

const describe = (rows: readonly FoldScore[]) =>
  `held-out mean accuracy ${mean('accuracy', rows).toFixed(4)}, ROC AUC ${mean('roc_auc', rows).toFixed(4)}; tuning time mean ${mean('seconds', rows).toFixed(1)} s`;

/** Onset's side: one repeat of the nested evaluation. */
function evaluateOnset(repeat: number): FoldScore[] {
  return outer.map((fold, index) => {
    const { metrics, seconds } = tuneRefitScore(family, x, y, fold, {
      trials,
      folds: 5,
      seed: tuningSeed(index, repeat),
      metric,
      sampler,
      ...(space ? { space } : {}),
    });
    console.log(
      `repeat ${repeat + 1}, outer fold ${index + 1}: held-out accuracy ${metrics.accuracy.toFixed(4)}, ROC AUC ${metrics.roc_auc.toFixed(4)}; ${trials}-trial tuning on ${fold.train.length} rows took ${seconds.toFixed(1)} s`,
    );
    return { accuracy: metrics.accuracy, roc_auc: metrics.roc_auc, seconds };
  });
}

/** The reference's side (XGBoost tuned by Optuna), or undefined when its Python packages are missing. */
function evaluateReference(
  repeat: number,
): { versions: Record<string, string>; folds: FoldScore[] } | undefined {
  const job = JSON.stringify({
    data: dataPath,
    folds: outer.map((f) => ({ train: Array.from(f.train), test: Array.from(f.test) })),
    seeds: outer.map((_, index) => tuningSeed(index, repeat)),
    trials,
    inner_folds: 5,
    space: space ?? searchSpaceOf('gbdt'),
  });
  const script = fileURLToPath(new URL('./reference-tuning.py', import.meta.url));
  const run = spawnSync('/usr/bin/python3', [script], {
    input: job,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return run.status === 0 ? JSON.parse(run.stdout) : undefined;
}

const withReference = family === 'gbdt' && !process.argv.includes('--no-reference');
const onsetRuns: FoldScore[][] = [];
const referenceRuns: FoldScore[][] = [];
let versions: Record<string, string> | undefined;
for (let repeat = 0; repeat < repeats; repeat++) {
  const onset = evaluateOnset(repeat);
  onsetRuns.push(onset);
  console.log(
    `repeat ${repeat + 1}: onset ${family} tuned for ${metric} (${trials} trials, ${sampler}, 5 inner folds) on ${HAS_REAL_DATA ? 'the real file' : 'generated data'}: ${describe(onset)}, max ${Math.max(...onset.map((r) => r.seconds)).toFixed(1)} s`,
  );
  const reference = withReference ? evaluateReference(repeat) : undefined;
  if (reference) {
    versions = reference.versions;
    referenceRuns.push(reference.folds);
    console.log(
      `repeat ${repeat + 1}: XGBoost ${versions.xgboost} tuned by Optuna ${versions.optuna} TPE, same folds, seeds and space: ${describe(reference.folds)}`,
    );
  } else if (withReference) {
    console.log(
      'Reference not run: install Debian python3-xgboost, python3-sklearn and python3-optuna to compare.',
    );
  }
}

const onsetAll = onsetRuns.flat();
const referenceAll = referenceRuns.flat();
if (repeats > 1) console.log(`mean over ${repeats} repeats: onset ${describe(onsetAll)}`);
if (referenceAll.length === onsetAll.length && versions) {
  if (repeats > 1) console.log(`mean over ${repeats} repeats: XGBoost ${describe(referenceAll)}`);
  console.log(
    `onset - reference: accuracy ${(mean('accuracy', onsetAll) - mean('accuracy', referenceAll)).toFixed(4)}, ROC AUC ${(mean('roc_auc', onsetAll) - mean('roc_auc', referenceAll)).toFixed(4)}; tuning time ratio ${(mean('seconds', onsetAll) / mean('seconds', referenceAll)).toFixed(2)}`,
  );
}
