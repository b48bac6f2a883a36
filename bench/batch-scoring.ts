/**
 * Batch scoring from CSV, in a fresh process each, side by side: `onset predict` (the built CLI, every row
 * validated, streamed in bounded memory) against pandas `read_csv` + XGBoost 1.7 `inplace_predict` (one
 * thread) + `to_csv` (Debian's python3-pandas and python3-xgboost), scoring the same generated file with
 * the same `gbdt` model (trained with defaults on the real file, exported as XGBoost JSON), 200,000 and
 * 1,000,000 rows (`--rows` changes them): wall time, rows/s and peak resident memory, the best of two
 * runs each, Onset on one thread (`--threads 1`, as the reference) and by default (`--threads auto`: this
 * thread reads and writes while the others score). Target: Onset at least the reference's rows/s on one
 * thread.
 *
 *   npm run build && npx tsx bench/batch-scoring.ts [--rows 200000,1000000]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDatasetFile } from '../src/data/csv-reader.js';
import { generateDataset, writeKaggleCsv } from '../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../src/data/schema.js';
import { exportXgboost, saveModelDocument } from '../src/ml/model-document.js';
import { trainOnDataset } from '../src/ml/train-on-dataset.js';
import { HAS_REAL_DATA, REAL_DATA_PATH } from '../test/support/fixtures.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PYTHON = '/usr/bin/python3';
const at = process.argv.indexOf('--rows');
const SIZES = (at >= 0 ? process.argv[at + 1]! : '200000,1000000').split(',').map(Number);

const dir = mkdtempSync(join(tmpdir(), 'onset-bench-batch-'));
const dataset = HAS_REAL_DATA
  ? (await readDatasetFile(REAL_DATA_PATH, { target: 'required' })).dataset
  : generateDataset({ rows: 2105, seed: 42 });
const result = trainOnDataset(dataset, { estimator: 'gbdt' });
const onsetModel = join(dir, 'gbdt.json');
await saveModelDocument(onsetModel, result.document);
const xgboostModel = join(dir, 'gbdt.xgboost.json');
writeFileSync(xgboostModel, exportXgboost(result.model, 'the bench model'));
const hasReference =
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import pandas, xgboost'], { stdio: 'ignore' }).status === 0;

/** Runs a command to its end: wall seconds and the largest resident memory it reached (MB). */
async function measure(
  command: string,
  args: readonly string[],
): Promise<{ seconds: number; peakMb: number }> {
  const started = performance.now();
  const child: ChildProcess = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let peakMb = 0;
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peakMb = Math.max(peakMb, Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
    } catch {
      // It has ended.
    }
  };
  const sampler = setInterval(sample, 50);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${code}): ${stderr}`);
  return { seconds: (performance.now() - started) / 1000, peakMb };
}

const best = async (command: string, args: readonly string[]) => {
  const first = await measure(command, args);
  const second = await measure(command, args);
  return first.seconds <= second.seconds ? first : second;
};

const lines: string[] = [];
for (const rows of SIZES) {
  const input = join(dir, `generated-${rows}.csv`);
  await writeKaggleCsv(input, generateDataset({ rows, seed: 7 }));
  // One thread (the reference's setting), then the default (--threads auto: the cores available).
  const onsetRun = (threads: string) =>
    best(process.execPath, [
      join(ROOT, 'dist/cli/main.js'),
      'predict',
      '-m',
      onsetModel,
      '-i',
      input,
      '-o',
      join(dir, 'onset.csv'),
      '--threads',
      threads,
    ]);
  const single = await onsetRun('1');
  const threaded = await onsetRun('auto');
  const reference = hasReference
    ? await best(PYTHON, [
        join(ROOT, 'bench/support/pandas-predict.py'),
        xgboostModel,
        input,
        join(dir, 'pandas.csv'),
        FEATURE_NAMES.join(','),
      ])
    : undefined;
  const perSecond = (seconds: number) => Math.round(rows / seconds).toLocaleString('en-US');
  const onset = (run: { seconds: number; peakMb: number }) =>
    `${run.seconds.toFixed(2)} s (${perSecond(run.seconds)} rows/s, peak ${run.peakMb.toFixed(0)} MB${reference ? `; ${(reference.seconds / run.seconds).toFixed(2)}x` : ''})`;
  lines.push(
    `  ${rows.toLocaleString('en-US').padStart(9)} rows: ` +
      (reference
        ? `pandas + XGBoost ${reference.seconds.toFixed(2)} s (${perSecond(reference.seconds)} rows/s, peak ${reference.peakMb.toFixed(0)} MB)`
        : 'pandas + XGBoost: not installed here (apt-get install python3-pandas python3-xgboost)') +
      `\n      onset predict --threads 1: ${onset(single)}\n      onset predict (--threads auto, ${availableParallelism()}): ${onset(threaded)}`,
  );
  rmSync(input, { force: true });
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `Batch scoring a generated CSV with the gbdt model, in a fresh process each (best of 2; the ratio is Onset's rows/s over the reference's, target >= 1 on one thread):\n${lines.join('\n')}\n`,
);
