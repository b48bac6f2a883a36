/**
 * Onset against the real references, in the same run: XGBoost 1.7 and scikit-learn 1.2 from Debian
 * (`apt-get install python3-xgboost python3-sklearn`). Uses the real Kaggle file when present, else a
 * generated file of the same size. Prints figures side by side with ratios; without the references it
 * prints Onset's figures and says what is missing.
 *
 *   npm run bench            (vitest benchmarks, then this comparison)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDatasetFile } from '../src/data/csv-reader.js';
import { selectRows } from '../src/data/dataset.js';
import { generateDataset, writeKaggleCsv } from '../src/data/generator/generator.js';
import { stratifiedKFold } from '../src/data/splits.js';
import { selectMatrixRows } from '../src/math/matrix.js';
import { crossValidate } from '../src/ml/cross-validate.js';
import type { EstimatorName } from '../src/ml/estimator.js';
import { createEstimator } from '../src/ml/estimator-registry.js';
import { gbdt } from '../src/ml/gbdt/gbdt.js';
import { featureMatrix } from '../src/ml/train-on-dataset.js';
import { HAS_REAL_DATA, REAL_DATA_PATH } from '../test/support/fixtures.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPEATS = 15;
const PYTHON = '/usr/bin/python3';

async function dataPath(): Promise<{ path: string; label: string }> {
  if (HAS_REAL_DATA) return { path: REAL_DATA_PATH, label: 'real Kaggle file (2,105 rows)' };
  const path = join(mkdtempSync(join(tmpdir(), 'onset-bench-')), 'generated.csv');
  await writeKaggleCsv(path, generateDataset({ rows: 2105, seed: 42 }));
  return { path, label: 'generated data, 2,105 rows (real file absent)' };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timeIt(fn: () => void, repeats: number): number {
  fn(); // warm up the JIT
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    fn();
    times.push((performance.now() - started) / 1000);
  }
  return median(times);
}

const { path, label } = await dataPath();
const { dataset } = await readDatasetFile(path, { target: 'required' });
const x = featureMatrix(dataset);
const y = dataset.target!;
const folds = stratifiedKFold(y, 5, 42);

// Onset.
const cv = (estimator: EstimatorName) => crossValidate(estimator, {}, x, y, { folds: 5, seed: 42 }).summary;
const onsetCv = {
  gbdt: cv('gbdt'),
  linear: cv('linear'),
  logistic: cv('logistic'),
  oblivious: cv('oblivious'),
};
const first = folds[0]!;
const xTrain = selectMatrixRows(x, first.train);
const yTrain = Float64Array.from(first.train, (i) => y[i]!);
const fitSeconds = timeIt(() => gbdt().fit(xTrain, yTrain), REPEATS);

/**
 * The fit a user waits for: `onset train --model gbdt --calibration none` on the same rows, in a fresh
 * process each (the built CLI; no run logged), its `fit_seconds`: one cold fit (with the default
 * calibration, `fit_seconds` is the final fit's, after five fold fits have warmed the process). Each
 * process is followed by XGBoost's in-process fit on the same file (`support/xgboost-fit.py`), so both are
 * timed in the same minute of a machine whose speed changes by a third from minute to minute: the ratio
 * is the median of the rounds' ratios.
 */
const COLD_RUNS = 7;
const cold = await (async () => {
  const directory = mkdtempSync(join(tmpdir(), 'onset-bench-cold-'));
  const trainFile = join(directory, 'train.csv');
  await writeKaggleCsv(trainFile, selectRows(dataset, first.train));
  spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const fits: number[] = [];
  const references: number[] = [];
  const ratios: number[] = [];
  for (let run = 0; run < COLD_RUNS; run++) {
    const train = spawnSync(
      process.execPath,
      [
        join(ROOT, 'dist/cli/main.js'),
        'train',
        '--model',
        'gbdt',
        '-d',
        trainFile,
        '-o',
        join(directory, 'model.json'),
        '--calibration',
        'none',
        '--json',
        '--no-track',
      ],
      { encoding: 'utf8', env: { ...process.env, ONSET_HOME: join(directory, 'home') } },
    );
    if (train.status !== 0) throw new Error(`onset train failed: ${train.stderr}`);
    const fit = (JSON.parse(train.stdout) as { fit_seconds: number }).fit_seconds;
    fits.push(fit);
    const xgboost = spawnSync(PYTHON, [join(ROOT, 'bench/support/xgboost-fit.py'), trainFile], {
      encoding: 'utf8',
    });
    if (xgboost.status === 0) {
      const theirs = Number(xgboost.stdout.trim()) / 1000;
      references.push(theirs);
      ratios.push(fit / theirs);
    }
  }
  rmSync(directory, { recursive: true, force: true });
  return {
    seconds: median(fits),
    reference: references.length > 0 ? median(references) : undefined,
    ratio: ratios.length > 0 ? median(ratios) : undefined,
  };
})();
const obliviousFitSeconds = timeIt(() => createEstimator('oblivious').fit(xTrain, yTrain), 5);
const model = gbdt().fit(xTrain, yTrain);
// One row at a time over 1,000 different patients (a single repeated row would flatter branch prediction).
const sampleRows = Array.from({ length: 1000 }, (_, i) =>
  Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols)),
);
const predictOne =
  timeIt(() => {
    for (const row of sampleRows) model.predictProbaOne(row);
  }, REPEATS) / sampleRows.length;
const predictBatch = timeIt(() => model.predictProba(x), REPEATS) / x.rows;

// References.
interface Reference {
  versions: Record<string, string>;
  gbdt_cv: { accuracy: number; roc_auc: number };
  linear_cv: { accuracy: number; roc_auc: number };
  logistic_cv: { accuracy: number; roc_auc: number };
  fit_seconds_median: number;
  predict_one_seconds_median: number;
  predict_batch_seconds_per_row_median: number;
}
let reference: Reference | undefined;
let missing = '';
const job = JSON.stringify({
  data: path,
  folds: folds.map((f) => ({ train: Array.from(f.train), test: Array.from(f.test) })),
  gbdt_params: {},
  repeats: REPEATS,
});
const script = fileURLToPath(new URL('./reference.py', import.meta.url));
const run = spawnSync(PYTHON, [script], { input: job, encoding: 'utf8', maxBuffer: 1 << 24 });
if (run.status === 0) reference = JSON.parse(run.stdout) as Reference;
else missing = (run.error?.message ?? run.stderr).trim().split('\n').pop() ?? 'unknown error';

const us = (seconds: number) => `${(seconds * 1e6).toFixed(2)} µs`;
const ms = (seconds: number) => `${(seconds * 1e3).toFixed(1)} ms`;
const f4 = (value: number) => value.toFixed(4);
const lines: string[] = [
  `Onset vs references on ${label}; 5 stratified folds (seed 42); single thread; medians of ${REPEATS} runs.`,
];
if (reference)
  lines.push(
    `References: XGBoost ${reference.versions.xgboost}, scikit-learn ${reference.versions.sklearn}.`,
  );
else
  lines.push(
    `References not run (${missing}); install Debian's python3-xgboost and python3-sklearn to compare.`,
  );
const rows: [string, string, string, string][] = [['measure', 'onset', 'reference', 'onset / reference']];
const add = (
  name: string,
  ours: number,
  theirs: number | undefined,
  format: (v: number) => string,
  ratio = true,
) =>
  rows.push([
    name,
    format(ours),
    theirs === undefined ? '–' : format(theirs),
    theirs === undefined
      ? '–'
      : ratio
        ? (ours / theirs).toFixed(2)
        : `${ours - theirs >= 0 ? '+' : ''}${(ours - theirs).toFixed(4)}`,
  ]);
for (const family of ['gbdt', 'linear', 'logistic'] as const) {
  const theirs = reference?.[`${family}_cv`];
  add(`${family} CV accuracy (defaults)`, onsetCv[family].accuracy.mean, theirs?.accuracy, f4, false);
  add(`${family} CV ROC AUC (defaults)`, onsetCv[family].roc_auc.mean, theirs?.roc_auc, f4, false);
}
add(
  `gbdt fit, ${first.train.length} rows, 100 rounds, depth 6`,
  fitSeconds,
  reference?.fit_seconds_median,
  ms,
);
rows.push([
  `gbdt fit in a fresh process (onset train; target <= 1), ${first.train.length} rows, ${COLD_RUNS} rounds`,
  ms(cold.seconds),
  cold.reference === undefined ? '–' : ms(cold.reference),
  cold.ratio === undefined ? '–' : `${cold.ratio.toFixed(2)} (median of the rounds' ratios)`,
]);
add('gbdt predict, one row at a time', predictOne, reference?.predict_one_seconds_median, us);
// CatBoost is not packaged for Debian: the oblivious family is reported against its targets instead.
add(
  'oblivious CV accuracy (defaults; target >= 0.93)',
  onsetCv.oblivious.accuracy.mean,
  undefined,
  f4,
  false,
);
add('oblivious CV ROC AUC (defaults; target >= 0.96)', onsetCv.oblivious.roc_auc.mean, undefined, f4, false);
add(
  `oblivious fit, ${first.train.length} rows, 1000 rounds, depth 6 (target < 2 s)`,
  obliviousFitSeconds,
  undefined,
  ms,
);
add(
  `gbdt predict, batch of ${x.rows}, per row`,
  predictBatch,
  reference?.predict_batch_seconds_per_row_median,
  us,
);
const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
for (const r of rows)
  lines.push(r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join('  '));
lines.push(
  'Accuracy and AUC columns show onset - reference; times show onset / reference (below 1 is faster).',
);
const text = `${lines.join('\n')}\n`;
process.stdout.write(text);
writeFileSync(join(tmpdir(), 'onset-bench-references.txt'), text);
