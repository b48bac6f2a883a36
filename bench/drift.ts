/**
 * Drift computation benchmark (run with `tsx bench/drift.ts`): `computeDrift` over 100,000 current rows
 * (generated patients, with a logistic model's probabilities) against a reference profile whose sample
 * holds 5,000 training rows (Evidently's large-reference tests: normed Wasserstein and Jensen-Shannon), then
 * the same window against a 1,000-row reference (the p-value tests: KS asymptotic beyond 10,000 rows,
 * chi-square, z), and 10,000 rows against it (KS exact). Median of 5 runs after a warm-up; the time to
 * read a file or the log and to score the rows is not included. Prints one line per figure; `--json`
 * prints them as JSON.
 */
import { performance } from 'node:perf_hooks';
import { generateDataset } from '../src/data/generator/generator.js';
import type { ReferenceProfile } from '../src/data/reference-profile.js';
import { FEATURE_NAMES, type FeatureName } from '../src/data/schema.js';
import type { FittedModel } from '../src/ml/estimator.js';
import { featureMatrix, trainOnDataset } from '../src/ml/train-on-dataset.js';
import { computeDrift, type DriftWindow } from '../src/monitoring/drift/compute-drift.js';

const REPEATS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function time(fn: () => unknown): number {
  fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

function referenceOf(rows: number, seed: number): { profile: ReferenceProfile; model: FittedModel } {
  const result = trainOnDataset(generateDataset({ rows, seed }), { estimator: 'logistic', cvFolds: 3 });
  return { profile: result.referenceProfile, model: result.model };
}

/** Generated patients, ten years older than the training ones (so that Age drifts), with probabilities. */
function windowOf(rows: number, seed: number, model: FittedModel): DriftWindow {
  const dataset = generateDataset({ rows, seed });
  const columns = {} as Record<FeatureName, Float64Array>;
  for (const name of FEATURE_NAMES) {
    columns[name] = name === 'Age' ? dataset.columns.Age.map((age) => age + 10) : dataset.columns[name];
  }
  const probabilities = model.predictProba(featureMatrix(dataset));
  return { rowCount: rows, columns, probabilities };
}

const large = referenceOf(6000, 1);
const small = referenceOf(1000, 2);
const window100k = windowOf(100_000, 3, large.model);
const window100kSmall = windowOf(100_000, 3, small.model);
const window10k = windowOf(10_000, 4, small.model);

const check = computeDrift(large.profile, window100k);
const figures = {
  reference_sample_rows: large.profile.sample.rows,
  large_reference_100k_ms: time(() => computeDrift(large.profile, window100k)),
  large_reference_tests: [...new Set(check.features.map((feature) => feature.test))],
  small_reference_100k_ms: time(() => computeDrift(small.profile, window100kSmall)),
  small_reference_10k_ms: time(() => computeDrift(small.profile, window10k)),
  drifted_features: check.features.filter((feature) => feature.drifted).map((feature) => feature.column),
};

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(figures));
} else {
  console.log(
    `computeDrift, 100,000 current rows vs a ${figures.reference_sample_rows}-row reference sample (${figures.large_reference_tests.join(', ')}): ${figures.large_reference_100k_ms.toFixed(0)} ms (median of ${REPEATS}); drifted: ${figures.drifted_features.join(', ')}`,
  );
  console.log(
    `computeDrift, 100,000 current rows vs a 1,000-row reference (KS asymptotic, chi-square, z): ${figures.small_reference_100k_ms.toFixed(0)} ms`,
  );
  console.log(
    `computeDrift, 10,000 current rows vs a 1,000-row reference (KS exact, chi-square, z): ${figures.small_reference_10k_ms.toFixed(0)} ms`,
  );
}
