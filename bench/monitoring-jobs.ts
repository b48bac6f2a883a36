/**
 * Monitoring jobs benchmark (`npm run bench:monitoring`): the drift job and the performance job of
 * `onset up` over 100,000 logged predictions in SQLite. A fresh home: a logistic model cross-validated
 * (3 folds) on 6,000 generated patients (a reference sample of 5,000 rows: Evidently's large-reference
 * tests) is registered and promoted; 100,000 generated patients, ten years older (so that Age drifts),
 * are scored and appended through the real log store over the last 22 hours, and 30% of them get
 * feedback. Each job is timed as `onset up` runs it (read the window, compute, store the result, set the
 * gauges): once cold (the reference profile read from the artifacts, CBPE fitted), then the median of 5.
 * Prints one line per figure; `--json` prints them as JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { resolveConfig } from '../src/config.js';
import { createDataset } from '../src/data/dataset.js';
import { generateDataset } from '../src/data/generator/generator.js';
import { FEATURE_NAMES, type FeatureName } from '../src/data/schema.js';
import { featureMatrix, trainOnDataset } from '../src/ml/train-on-dataset.js';
import type { MonitoringCheck } from '../src/monitoring/checks/monitoring-check-store.js';
import { checkSettingsOf } from '../src/monitoring/jobs/job-settings.js';
import { ModelReferences } from '../src/monitoring/jobs/model-references.js';
import { MonitoringGauges } from '../src/monitoring/jobs/monitoring-gauges.js';
import { type CheckRequest, driftJob, performanceJob } from '../src/monitoring/jobs/monitoring-jobs.js';
import { newPredictionId } from '../src/monitoring/prediction-log/prediction-id.js';
import {
  type LoggedPrediction,
  predictionColumns,
} from '../src/monitoring/prediction-log/prediction-log-store.js';
import { openOnsetStores } from '../src/server/open-stores.js';
import { registerModelVersion } from '../src/tracking/model-registry.js';
import { logTrainingRun } from '../src/tracking/training-logger.js';

const ROWS = 100_000;
const REPEATS = 5;
const NAME = 'parkinson-disease-prediction';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

const home = mkdtempSync(join(tmpdir(), 'onset-bench-monitoring-'));
const config = resolveConfig({ home }, {});
const stores = await openOnsetStores(config);
try {
  // The model, its run (with the reference profile) and its Production version.
  const trained = trainOnDataset(generateDataset({ rows: 6_000, seed: 1 }), {
    estimator: 'logistic',
    cvFolds: 3,
  });
  const run = await logTrainingRun(stores, { result: trained, datasetPath: 'generated' });
  const version = await registerModelVersion(stores, {
    name: NAME,
    source: run.modelSource,
    runId: run.runId,
    createModelIfMissing: true,
  });
  await stores.registry.transitionModelVersionStage({
    name: NAME,
    version: version.version,
    stage: 'Production',
    archiveExistingVersions: true,
  });

  // 100,000 predictions of patients ten years older, over the last 22 hours, through the real log store.
  const patients = generateDataset({ rows: ROWS, seed: 2 });
  const columns = {} as Record<FeatureName, Float64Array>;
  for (const name of FEATURE_NAMES) {
    columns[name] = name === 'Age' ? patients.columns.Age.map((age) => age + 10) : patients.columns[name];
  }
  const older = createDataset({ columns, target: patients.target });
  const probabilities = trained.model.predictProba(featureMatrix(older));
  const model = {
    name: NAME,
    version: version.version,
    runId: run.runId,
    uri: `models:/${NAME}/Production`,
    checksum: null,
  };
  const now = Date.now();
  const append = await timed(async () => {
    for (let start = 0; start < ROWS; start += 5_000) {
      const batch: LoggedPrediction[] = [];
      for (let i = start; i < Math.min(ROWS, start + 5_000); i++) {
        const timestamp = now - 22 * 3_600_000 + Math.floor(i * 0.79 * 1_000);
        batch.push({
          predictionId: newPredictionId(timestamp),
          timestamp,
          model,
          features: Float64Array.from(FEATURE_NAMES, (name) => older.columns[name][i]!),
          probability: probabilities[i]!,
          diagnosis: probabilities[i]! >= 0.5 ? 1 : 0,
          latencyMs: 0.4,
          source: 'http',
          patientKey: null,
        });
      }
      await stores.predictionLog.appendPredictions(predictionColumns(batch));
    }
  });
  // Feedback for 30% of them (every row whose index is 0, 3 or 6 mod 10).
  const page = await stores.predictionLog.readColumns({}, ['timestamp'], {});
  if (page.rows !== ROWS) throw new Error(`expected ${ROWS} logged predictions, found ${page.rows}`);
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const listed = await stores.predictionLog.listPredictions({
      maxResults: 1_000,
      ...(token ? { pageToken: token } : {}),
    });
    ids.push(...listed.items.map((item) => item.predictionId));
    token = listed.nextPageToken ?? undefined;
  } while (token);
  const labelled = ids.flatMap((id, i) =>
    i % 10 === 0 || i % 10 === 3 || i % 10 === 6
      ? [{ target: { predictionId: id }, diagnosis: older.target![i] === 1 ? (1 as const) : (0 as const) }]
      : [],
  );
  for (let start = 0; start < labelled.length; start += 1_000) {
    const result = await stores.predictionLog.recordFeedback(labelled.slice(start, start + 1_000));
    if (!result.ok) throw new Error('feedback refused');
  }

  const settings = checkSettingsOf(config);
  const jobStores = {
    log: stores.predictionLog,
    checks: stores.checks,
    references: new ModelReferences(stores),
    gauges: new MonitoringGauges(new Registry()),
  };
  const drift = driftJob(jobStores, settings.drift);
  const performanceCheck = performanceJob(jobStores, settings.performance);
  const request: CheckRequest = {
    model: { name: NAME, version: version.version, runId: run.runId },
    served: true,
    estimator: 'logistic',
  };

  async function measure(
    run: () => Promise<MonitoringCheck>,
  ): Promise<{ cold: number; warm: number; check: MonitoringCheck }> {
    const cold = await timed(run);
    if (cold.value.status !== 'succeeded') throw new Error(`the check failed: ${cold.value.error}`);
    const times: number[] = [];
    for (let i = 0; i < REPEATS; i++) times.push((await timed(run)).ms);
    return { cold: cold.ms, warm: median(times), check: cold.value };
  }

  const driftTimes = await measure(() => drift.run(request));
  const performanceTimes = await measure(() => performanceCheck.run(request));
  const read = await timed(() =>
    stores.predictionLog.readColumns(
      { from: Date.now() - 86_400_000, to: Date.now(), modelName: NAME, modelVersion: version.version },
      [...FEATURE_NAMES, 'probability'],
      { maxRows: settings.drift.maxRows },
    ),
  );
  const driftSummary = driftTimes.check.summary as { rows: number; drifted_features: number };
  const performanceSummary = performanceTimes.check.summary as {
    windows: { window: string; records: number; labelled_records: number }[];
  };
  const figures = {
    logged_predictions: ROWS,
    append_seconds: append.ms / 1000,
    drift_rows: driftSummary.rows,
    drift_cold_ms: driftTimes.cold,
    drift_ms: driftTimes.warm,
    drift_read_ms: read.ms,
    drifted_features: driftSummary.drifted_features,
    performance_windows: performanceSummary.windows,
    performance_cold_ms: performanceTimes.cold,
    performance_ms: performanceTimes.warm,
  };
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(figures));
  } else {
    console.log(
      `appended ${ROWS.toLocaleString('en')} predictions through the log store in batches of 5,000: ${figures.append_seconds.toFixed(1)} s`,
    );
    console.log(
      `drift job over ${figures.drift_rows.toLocaleString('en')} logged predictions (24h window): ${figures.drift_ms.toFixed(0)} ms (median of ${REPEATS}; first run, reading the reference profile: ${figures.drift_cold_ms.toFixed(0)} ms; of which reading the window's 33 columns: ${figures.drift_read_ms.toFixed(0)} ms); ${figures.drifted_features} features drifted`,
    );
    console.log(
      `performance job over ${performanceSummary.windows.map((w) => `${w.window} (${w.records.toLocaleString('en')} predictions, ${w.labelled_records.toLocaleString('en')} labelled)`).join(', ')}: ${figures.performance_ms.toFixed(0)} ms (median of ${REPEATS}; first run, fitting CBPE: ${figures.performance_cold_ms.toFixed(0)} ms)`,
    );
  }
} finally {
  await stores.close();
  rmSync(home, { recursive: true, force: true });
}
