import { execFileSync } from 'node:child_process';
import { serializeReferenceProfile } from '../data/reference-profile.js';
import { OnsetError } from '../errors.js';
import { formatThresholdPolicy } from '../ml/decision/threshold-policy.js';
import { mlflowModelFiles, newModelUuid } from '../ml/formats/mlflow-model.js';
import { BINARY_METRIC_NAMES, type BinaryMetrics } from '../ml/metrics/index.js';
import { buildModelCard, modelCardHtml, modelCardMarkdown } from '../ml/report/model-card.js';
import type { TrainResult } from '../ml/train-on-dataset.js';
import { runArtifactPrefix } from './artifact-paths.js';
import type { ArtifactStore } from './artifacts/artifact-store.js';
import type { Metric, Param, Tag } from './entities.js';
import type { TrackingStore } from './tracking-store.js';

/**
 * The run's model, relative to its artifacts: an MLflow model directory (`MLmodel`, the Onset document
 * `model.json`, and for gbdt `xgboost.json` with MLflow's environment files).
 */
export const MODEL_DIRECTORY_ARTIFACT = 'model';
/** The run's Onset model document, inside the model directory (where runs have always had it). */
export const MODEL_ARTIFACT = `${MODEL_DIRECTORY_ARTIFACT}/model.json`;
export const REPORT_ARTIFACT = 'report/model-report.json';
/** The model card (`buildModelCard`) as the UI renders it, and as Markdown and HTML to read or share. */
export const MODEL_CARD_ARTIFACTS = {
  json: 'report/model-card.json',
  markdown: 'report/model-card.md',
  html: 'report/model-card.html',
} as const;
export const PROFILE_ARTIFACT = 'data/profile.json';
/**
 * The rows the model was fitted on, one `rowDigests` digest per line (sorted, each once): no patient data,
 * enough for the promotion gate to tell whether a model has seen the rows it is judged on.
 */
export const TRAINING_ROWS_ARTIFACT = 'data/training-rows.txt';
/**
 * The model's reference profile (`ReferenceProfile`): bins fixed on the training rows and a bounded
 * sample of them with the model's probabilities, what drift checks compare new data with.
 */
export const REFERENCE_PROFILE_ARTIFACT = 'data/reference-profile.json';

/** The experiment training runs go to unless another is named. */
export const DEFAULT_EXPERIMENT = 'parkinson-disease-prediction';

export interface TrainingRunInput {
  readonly result: TrainResult;
  readonly datasetPath: string;
  readonly experimentName?: string;
  readonly runName?: string;
  /** The pipeline run that trained this model, when one did. */
  readonly pipelineRunId?: string;
  /** Metrics on data the model never saw (a pipeline's held-out split), logged as `holdout_<name>`. */
  readonly holdout?: BinaryMetrics;
  readonly source?: string;
}

export interface LoggedRun {
  readonly runId: string;
  readonly experimentId: string;
  readonly artifactUri: string;
  /** `runs:/<run_id>/model`, the model directory: the source to register a model version from. */
  readonly modelSource: string;
}

const BATCH = { metrics: 1000, params: 100, tags: 100 } as const;

/** The git commit of the working directory, when it is a git checkout. */
export function codeVersion(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/** The experiment's id, creating it when missing (another process may create it at the same moment). */
async function experimentIdFor(tracking: TrackingStore, name: string): Promise<string> {
  try {
    return (await tracking.getExperimentByName(name)).experimentId;
  } catch (error) {
    if (!(error instanceof OnsetError && error.code === 'RESOURCE_DOES_NOT_EXIST')) throw error;
  }
  try {
    return await tracking.createExperiment({ name });
  } catch (error) {
    if (!(error instanceof OnsetError && error.code === 'RESOURCE_ALREADY_EXISTS')) throw error;
    return (await tracking.getExperimentByName(name)).experimentId;
  }
}

async function logInBatches(
  tracking: TrackingStore,
  runId: string,
  data: { metrics?: readonly Metric[]; params?: readonly Param[]; tags?: readonly Tag[] },
): Promise<void> {
  const { metrics = [], params = [], tags = [] } = data;
  for (let i = 0; i < metrics.length; i += BATCH.metrics) {
    await tracking.logBatch(runId, { metrics: metrics.slice(i, i + BATCH.metrics) });
  }
  for (let i = 0; i < params.length; i += BATCH.params) {
    await tracking.logBatch(runId, { params: params.slice(i, i + BATCH.params) });
  }
  for (let i = 0; i < tags.length; i += BATCH.tags) {
    await tracking.logBatch(runId, { tags: tags.slice(i, i + BATCH.tags) });
  }
}

/**
 * Logs a training run: lineage tags (dataset fingerprint and path, code version, Onset version, pipeline
 * run), parameters, final and cross-validated metrics, per-fold and per-iteration histories, tuning
 * trials as child runs, and the model (an MLflow model directory holding the model document), model
 * report, data profile, reference profile (for drift checks) and training-row digests as artifacts. The run ends FINISHED, or FAILED (and the error rethrown) if
 * logging fails part way.
 */
export async function logTrainingRun(
  stores: { tracking: TrackingStore; artifacts: ArtifactStore },
  input: TrainingRunInput,
): Promise<LoggedRun> {
  const { tracking, artifacts } = stores;
  const { result } = input;
  const document = result.document;
  const experimentId = await experimentIdFor(tracking, input.experimentName ?? DEFAULT_EXPERIMENT);
  const commit = codeVersion();
  const lineage: Tag[] = [
    { key: 'onset.estimator', value: document.estimator },
    { key: 'onset.dataset.fingerprint', value: document.training.dataset_fingerprint ?? '' },
    { key: 'onset.dataset.path', value: input.datasetPath },
    { key: 'onset.dataset.rows', value: String(document.training.rows ?? '') },
    { key: 'onset.version', value: document.training.onset_version },
    { key: 'mlflow.source.name', value: input.source ?? 'onset train' },
    ...(commit ? [{ key: 'mlflow.source.git.commit', value: commit }] : []),
    ...(input.pipelineRunId ? [{ key: 'onset.pipeline_run_id', value: input.pipelineRunId }] : []),
    ...(result.tuning
      ? [
          { key: 'onset.tuning.metric', value: result.tuning.metric },
          { key: 'onset.tuning.trials', value: String(result.tuning.trials.length) },
        ]
      : []),
  ];
  const run = await tracking.createRun({
    experimentId,
    runName: input.runName ?? `${document.estimator}-${new Date().toISOString().slice(0, 19)}`,
    tags: lineage,
  });
  const runId = run.info.runId;
  try {
    const now = Date.now();
    const params: Param[] = Object.entries(document.params).map(([key, value]) => ({
      key,
      value: String(value),
    }));
    const metrics: Metric[] = [];
    const add = (key: string, value: number, step = 0) => metrics.push({ key, value, timestamp: now, step });
    for (const name of BINARY_METRIC_NAMES) add(`training_${name}`, result.trainingMetrics[name]);
    add('fit_seconds', result.fitSeconds);
    if (input.holdout) for (const name of BINARY_METRIC_NAMES) add(`holdout_${name}`, input.holdout[name]);
    const cv = result.crossValidation;
    if (cv) {
      for (const name of BINARY_METRIC_NAMES) {
        add(`cv_${name}`, cv.summary[name].mean);
        add(`cv_${name}_std`, cv.summary[name].std);
        cv.perFold.forEach((fold) => {
          add(`cv_fold_${name}`, fold.metrics[name], fold.fold);
        });
      }
    }
    // The calibration: its method as a parameter, the held-out figures before and after it as metrics.
    const calibration = result.report.calibration;
    if (calibration) {
      params.push({ key: 'calibration', value: calibration.method });
      add('calibration_ece_before', calibration.before.ece);
      add('calibration_ece', calibration.after.ece);
      add('calibration_brier_before', calibration.before.brier);
      add('calibration_brier', calibration.after.brier);
    }
    // The decision threshold: its policy as a parameter, its value and held-out decisions as metrics.
    const threshold = document.threshold;
    if (threshold) {
      params.push({ key: 'threshold_policy', value: formatThresholdPolicy(threshold.policy) });
      add('decision_threshold', threshold.value);
      if (threshold.held_out) {
        add('threshold_sensitivity', threshold.held_out.sensitivity);
        add('threshold_specificity', threshold.held_out.specificity);
      }
    }
    // Per-iteration loss histories of boosted models.
    const history = (document.model as { history?: { train_logloss?: number[]; valid_logloss?: number[] } })
      .history;
    history?.train_logloss?.forEach((value, step) => {
      add('train_logloss', value, step);
    });
    history?.valid_logloss?.forEach((value, step) => {
      add('valid_logloss', value, step);
    });
    await logInBatches(tracking, runId, { metrics, params });

    const prefix = runArtifactPrefix(artifacts, run.info.artifactUri);
    const modelFiles = mlflowModelFiles(
      { document, model: result.model },
      { createdAt: new Date(), modelUuid: newModelUuid(), runId, artifactPath: MODEL_DIRECTORY_ARTIFACT },
    );
    // MLmodel last: a directory with an MLmodel file is complete.
    const byLast = [...modelFiles].sort(
      (a, b) => Number(a.path === 'MLmodel') - Number(b.path === 'MLmodel'),
    );
    for (const file of byLast) {
      await artifacts.put(`${prefix}/${MODEL_DIRECTORY_ARTIFACT}/${file.path}`, file.content);
    }
    await artifacts.put(`${prefix}/${REPORT_ARTIFACT}`, `${JSON.stringify(result.report)}\n`);
    const card = buildModelCard(document, { runId, datasetSource: input.datasetPath });
    await artifacts.put(`${prefix}/${MODEL_CARD_ARTIFACTS.json}`, `${JSON.stringify(card)}\n`);
    await artifacts.put(`${prefix}/${MODEL_CARD_ARTIFACTS.markdown}`, modelCardMarkdown(card));
    await artifacts.put(`${prefix}/${MODEL_CARD_ARTIFACTS.html}`, modelCardHtml(card));
    await artifacts.put(`${prefix}/${PROFILE_ARTIFACT}`, `${JSON.stringify(result.report.data.profile)}\n`);
    await artifacts.put(
      `${prefix}/${REFERENCE_PROFILE_ARTIFACT}`,
      serializeReferenceProfile(result.referenceProfile),
    );
    const rows = [...new Set(result.trainingRows)].sort();
    await artifacts.put(
      `${prefix}/${TRAINING_ROWS_ARTIFACT}`,
      rows.length === 0 ? '' : `${rows.join('\n')}\n`,
    );

    if (result.tuning) {
      for (const trial of result.tuning.trials) {
        const child = await tracking.createRun({
          experimentId,
          runName: `${run.info.runName}-trial-${trial.trial}`,
          tags: [
            { key: 'mlflow.parentRunId', value: runId },
            { key: 'onset.tuning.trial', value: String(trial.trial) },
          ],
        });
        await logInBatches(tracking, child.info.runId, {
          params: Object.entries(trial.params).map(([key, value]) => ({ key, value: String(value) })),
          metrics: [
            { key: `cv_${result.tuning.metric}`, value: trial.value, timestamp: now, step: 0 },
            { key: 'cv_accuracy', value: trial.accuracy, timestamp: now, step: 0 },
            { key: 'cv_roc_auc', value: trial.roc_auc, timestamp: now, step: 0 },
            { key: 'cv_log_loss', value: trial.log_loss, timestamp: now, step: 0 },
            { key: 'trial_seconds', value: trial.seconds, timestamp: now, step: 0 },
          ],
        });
        await tracking.updateRun(child.info.runId, { status: 'FINISHED', endTime: Date.now() });
      }
    }
    await tracking.updateRun(runId, { status: 'FINISHED', endTime: Date.now() });
  } catch (error) {
    await tracking.updateRun(runId, { status: 'FAILED', endTime: Date.now() }).catch(() => undefined);
    throw error;
  }
  return {
    runId,
    experimentId,
    artifactUri: run.info.artifactUri,
    modelSource: `runs:/${runId}/${MODEL_DIRECTORY_ARTIFACT}`,
  };
}

/**
 * The row digests a run's model was trained on (see `TRAINING_ROWS_ARTIFACT`); undefined when the run has
 * none recorded (runs from before they were, models logged by other tools) or is not in this store.
 */
export async function trainingRowsOf(
  stores: { tracking: TrackingStore; artifacts: ArtifactStore },
  runId: string,
): Promise<ReadonlySet<string> | undefined> {
  let prefix: string;
  try {
    const run = await stores.tracking.getRun(runId);
    prefix = runArtifactPrefix(stores.artifacts, run.info.artifactUri);
  } catch (error) {
    if (error instanceof OnsetError && error.code !== 'INTERNAL_ERROR') return undefined;
    throw error;
  }
  const path = `${prefix}/${TRAINING_ROWS_ARTIFACT}`;
  try {
    const stored = await stores.artifacts.stat(path);
    const text = (await stores.artifacts.get(path, stored.sha256)).toString('utf8');
    return new Set(text.split('\n').filter((line) => line !== ''));
  } catch (error) {
    if (error instanceof OnsetError && error.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
    throw error;
  }
}
