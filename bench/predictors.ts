/**
 * Predictors, µs a row, on models of the same size (1,000 trees of depth 6): the `oblivious` model
 * `npm start` serves (its defaults, fitted on the real file), Onset's `gbdt` predictor (1,000 rounds of
 * depth 6) and XGBoost 1.7's `inplace_predict` on that `gbdt` model exported as XGBoost JSON (Debian's
 * python3-xgboost, one thread), in the same run: one row at a time (the first 1,000 rows, as a server
 * scores them) and the whole file as one batch, the median of 15 repeats. Targets: `oblivious` at most 3 µs
 * a row alone and 1 µs in a batch, with the same probabilities as before its predictor moved to
 * WebAssembly (the tests check them bit for bit).
 *
 *   npx tsx bench/predictors.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDatasetFile } from '../src/data/csv-reader.js';
import { generateDataset } from '../src/data/generator/generator.js';
import type { Matrix } from '../src/math/matrix.js';
import { gbdt as gbdtEstimator } from '../src/ml/gbdt/gbdt.js';
import { exportXgboost } from '../src/ml/model-document.js';
import { oblivious as obliviousEstimator } from '../src/ml/oblivious/oblivious.js';
import { featureMatrix } from '../src/ml/train-on-dataset.js';
import { HAS_REAL_DATA, REAL_DATA_PATH } from '../test/support/fixtures.js';

const REPEATS = 15;
const PYTHON = '/usr/bin/python3';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const dataset = HAS_REAL_DATA
  ? (await readDatasetFile(REAL_DATA_PATH, { target: 'required' })).dataset
  : generateDataset({ rows: 2105, seed: 42 });
const x = featureMatrix(dataset);
const y = dataset.target!;
const oblivious = obliviousEstimator().fit(x, y);
const gbdt = gbdtEstimator({ n_estimators: 1000, max_depth: 6 }).fit(x, y);

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** µs a row, one at a time over the first 1,000 rows and as one batch of every row. */
function time(model: {
  predictProbaOne(values: ArrayLike<number>): number;
  predictProba(x: Matrix): Float64Array;
}): { single: number; batch: number } {
  const rows = Array.from({ length: Math.min(1000, x.rows) }, (_, i) =>
    x.data.subarray(i * x.cols, (i + 1) * x.cols),
  );
  for (let warm = 0; warm < 3; warm++) {
    for (const row of rows) model.predictProbaOne(row);
    model.predictProba(x);
  }
  const single: number[] = [];
  const batch: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    let started = performance.now();
    for (const row of rows) model.predictProbaOne(row);
    single.push(((performance.now() - started) * 1000) / rows.length);
    started = performance.now();
    model.predictProba(x);
    batch.push(((performance.now() - started) * 1000) / x.rows);
  }
  return { single: median(single), batch: median(batch) };
}

const onsetOblivious = time(oblivious);
const onsetGbdt = time(gbdt);

// XGBoost on the same gbdt model, in the same run.
let reference: { version: string; single: number; batch: number } | undefined;
const hasXgboost =
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import xgboost'], { stdio: 'ignore' }).status === 0;
if (hasXgboost) {
  const dir = mkdtempSync(join(tmpdir(), 'onset-bench-predictors-'));
  writeFileSync(join(dir, 'model.json'), exportXgboost(gbdt, 'the bench model'));
  writeFileSync(join(dir, 'rows.f64'), Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength));
  const run = spawnSync(
    PYTHON,
    [
      join(ROOT, 'bench/support/xgboost-predict.py'),
      join(dir, 'model.json'),
      join(dir, 'rows.f64'),
      String(x.cols),
      String(REPEATS),
    ],
    { encoding: 'utf8' },
  );
  rmSync(dir, { recursive: true, force: true });
  if (run.status !== 0) throw new Error(`xgboost-predict.py failed: ${run.stderr}`);
  const said = JSON.parse(run.stdout) as { version: string; single: number; batch: number };
  reference = { version: said.version, single: said.single * 1e6, batch: said.batch * 1e6 };
}

const us = (value: number) => `${value.toFixed(2)} µs`;
const row = (name: string, f: { single: number; batch: number }) =>
  `  ${name.padEnd(52)} one row ${us(f.single).padStart(10)}   batch ${us(f.batch).padStart(9)} a row`;
process.stdout.write(
  `${[
    `Predictors, 1,000 trees of depth 6, on ${HAS_REAL_DATA ? 'the real file' : 'generated data'} (${x.rows} rows; one row: the first 1,000 one at a time; batch: all; median of ${REPEATS}):`,
    row('oblivious (the default model), WebAssembly', onsetOblivious),
    row('gbdt, 1,000 rounds of depth 6, Onset', onsetGbdt),
    ...(reference
      ? [row(`the same gbdt in XGBoost ${reference.version} inplace_predict, one thread`, reference)]
      : ['  XGBoost: not installed here (apt-get install python3-xgboost)']),
    `  oblivious: one row ${us(onsetOblivious.single)} (target <= 3 µs), batch ${us(onsetOblivious.batch)} a row (target <= 1 µs)${reference ? `; against XGBoost on the same size: ${(onsetOblivious.single / reference.single).toFixed(2)}x one row, ${(onsetOblivious.batch / reference.batch).toFixed(2)}x batch` : ''}`,
  ].join('\n')}\n`,
);
