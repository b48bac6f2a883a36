import { resolveConfig } from '../../src/config.js';
import type { Dataset } from '../../src/data/dataset.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import type { FittedModel } from '../../src/ml/estimator.js';
import { featureMatrix } from '../../src/ml/train-on-dataset.js';
import { AlertReceiver } from '../../src/monitoring/alerts/alert-receiver.js';
import { CheckTargets } from '../../src/monitoring/jobs/check-targets.js';
import { checkSettingsOf } from '../../src/monitoring/jobs/job-settings.js';
import { ModelReferences } from '../../src/monitoring/jobs/model-references.js';
import { driftJob, performanceJob } from '../../src/monitoring/jobs/monitoring-jobs.js';
import { newPredictionId } from '../../src/monitoring/prediction-log/prediction-id.js';
import {
  type LoggedModel,
  type LoggedPrediction,
  type PredictionLogStore,
  predictionColumns,
} from '../../src/monitoring/prediction-log/prediction-log-store.js';
import type { PipelineService } from '../../src/pipelines/pipeline-service.js';
import type { OnsetStores } from '../../src/server/open-stores.js';

/**
 * The monitoring routes of an app over `stores` (the log's, the traffic and the checks with the default
 * settings) for a server that serves no model.
 */
export function monitoringWithoutModel(stores: OnsetStores) {
  const settings = checkSettingsOf(resolveConfig({}, {}));
  const jobStores = {
    log: stores.predictionLog,
    checks: stores.checks,
    references: new ModelReferences(stores),
  };
  return {
    store: stores.predictionLog,
    checks: {
      store: stores.checks,
      drift: driftJob(jobStores, settings.drift),
      performance: performanceJob(jobStores, settings.performance),
      targets: new CheckTargets(stores.registry, () => undefined),
    },
  };
}

/** Alertmanager's webhook and the alert history of an app over `stores`, starting runs through `service`. */
export function alertsOf(stores: OnsetStores, service: PipelineService) {
  const receiver = new AlertReceiver({
    alerts: stores.alertHistory,
    service,
    runs: stores.pipelines,
    registry: stores.registry,
  });
  return { receiver, store: stores.alertHistory };
}

/** How a registered version names itself in the log (as the server logs what it serves). */
export function loggedVersion(name: string, version: string, runId: string | null): LoggedModel {
  return { name, version, runId, uri: `models:/${name}/Production`, checksum: null };
}

/**
 * Scores every row of `patients` with `model` and appends each as a prediction of `as` made at
 * `timeOf(i)`, through the real store (in batches, as the writer does); answers what was logged.
 */
export async function logScored(
  store: PredictionLogStore,
  as: LoggedModel,
  model: FittedModel,
  patients: Dataset,
  timeOf: (row: number) => number,
): Promise<LoggedPrediction[]> {
  const probabilities = model.predictProba(featureMatrix(patients));
  const logged: LoggedPrediction[] = [];
  for (let i = 0; i < patients.rowCount; i++) {
    const timestamp = Math.round(timeOf(i));
    const probability = probabilities[i]!;
    logged.push({
      predictionId: newPredictionId(timestamp),
      timestamp,
      model: as,
      features: Float64Array.from(FEATURE_NAMES, (name) => patients.columns[name][i]!),
      probability,
      diagnosis: probability >= 0.5 ? 1 : 0,
      latencyMs: 0.5,
      source: 'http',
      patientKey: null,
    });
  }
  for (let start = 0; start < logged.length; start += 5_000) {
    await store.appendPredictions(predictionColumns(logged.slice(start, start + 5_000)));
  }
  return logged;
}

/** Records the ground truth of `predictions` (row i's label is `labels[i]`) as feedback, for those `pick` keeps. */
export async function recordTruth(
  store: PredictionLogStore,
  predictions: readonly LoggedPrediction[],
  labels: Float64Array,
  pick: (row: number) => boolean = () => true,
): Promise<number> {
  const records = predictions.flatMap((prediction, i) =>
    pick(i)
      ? [
          {
            target: { predictionId: prediction.predictionId },
            diagnosis: labels[i] === 1 ? (1 as const) : (0 as const),
          },
        ]
      : [],
  );
  for (let start = 0; start < records.length; start += 1_000) {
    const result = await store.recordFeedback(records.slice(start, start + 1_000));
    if (!result.ok) throw new Error(`feedback refused: ${JSON.stringify(result.problems.slice(0, 3))}`);
  }
  return records.length;
}
