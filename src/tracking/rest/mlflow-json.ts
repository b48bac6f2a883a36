import type { Static } from 'typebox';
import type { ArtifactEntry } from '../artifacts/artifact-store.js';
import type {
  DatasetInput,
  DatasetSummary,
  Experiment,
  LoggedModel,
  LoggedModelStatus,
  Metric,
  ModelVersion,
  RegisteredModel,
  Run,
  RunInfo,
  StageTransition,
  Tag,
} from '../entities.js';
import type {
  DatasetInputJson,
  DatasetSummaryJson,
  ExperimentJson,
  FileInfoJson,
  KeyValueJson,
  LoggedModelJson,
  MetricJson,
  MetricOfRunJson,
  ModelVersionJson,
  RegisteredModelJson,
  RunInfoJson,
  RunJson,
  StageTransitionJson,
} from './mlflow-schemas.js';
import type { ProxiedArtifactUris } from './proxied-uris.js';

/**
 * Onset entities in MLflow's REST JSON shapes (snake_case, ids as strings, timestamps in ms): the
 * conversions to the answers' schemas (mlflow-schemas.ts), typed by them, so the two cannot drift apart.
 * NaN and infinite metric values are written as the strings "NaN", "Infinity" and "-Infinity", as
 * protobuf's JSON mapping does, since JSON has no such numbers.
 */

/** MLflow 3's LoggedModelStatus, as protobuf's JSON writes the enum. */
export const LOGGED_MODEL_STATUS_NAMES = {
  PENDING: 'LOGGED_MODEL_PENDING',
  READY: 'LOGGED_MODEL_READY',
  FAILED: 'LOGGED_MODEL_UPLOAD_FAILED',
} as const satisfies Record<LoggedModelStatus, string>;

export function fileInfoJson(entry: ArtifactEntry, path = entry.path): Static<typeof FileInfoJson> {
  return { path, is_dir: entry.isDir, ...(entry.size === undefined ? {} : { file_size: entry.size }) };
}

/** The paging fields of an answer: the next page's token, absent on the last page. */
export function nextPage(token: string | null): { next_page_token?: string } {
  return token === null ? {} : { next_page_token: token };
}

export function metricValueJson(value: number): Static<typeof MetricJson>['value'] {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return value;
}

export function tagsJson(tags: readonly Tag[]): Static<typeof KeyValueJson>[] {
  return tags.map((tag) => ({ key: tag.key, value: tag.value }));
}

export function experimentJson(
  experiment: Experiment,
  uris: ProxiedArtifactUris,
): Static<typeof ExperimentJson> {
  return {
    experiment_id: experiment.experimentId,
    name: experiment.name,
    artifact_location: uris.present(experiment.artifactLocation),
    lifecycle_stage: experiment.lifecycleStage,
    last_update_time: experiment.lastUpdateTime,
    creation_time: experiment.creationTime,
    tags: tagsJson(experiment.tags),
  };
}

export function runInfoJson(info: RunInfo, uris: ProxiedArtifactUris): Static<typeof RunInfoJson> {
  return {
    run_id: info.runId,
    run_uuid: info.runId,
    run_name: info.runName,
    experiment_id: info.experimentId,
    user_id: info.userId,
    status: info.status,
    start_time: info.startTime,
    ...(info.endTime === null ? {} : { end_time: info.endTime }),
    artifact_uri: uris.present(info.artifactUri),
    lifecycle_stage: info.lifecycleStage,
  };
}

export function metricJson(metric: Metric): Static<typeof MetricJson> {
  return {
    key: metric.key,
    value: metricValueJson(metric.value),
    timestamp: metric.timestamp,
    step: metric.step,
  };
}

export function datasetInputJson(input: DatasetInput): Static<typeof DatasetInputJson> {
  const { dataset } = input;
  return {
    tags: tagsJson(input.tags),
    dataset: {
      name: dataset.name,
      digest: dataset.digest,
      source_type: dataset.sourceType,
      source: dataset.source,
      ...(dataset.schema === null ? {} : { schema: dataset.schema }),
      ...(dataset.profile === null ? {} : { profile: dataset.profile }),
    },
  };
}

export function runJson(run: Run, uris: ProxiedArtifactUris): Static<typeof RunJson> {
  return {
    info: runInfoJson(run.info, uris),
    data: {
      metrics: run.data.metrics.map(metricJson),
      params: run.data.params.map((param) => ({ key: param.key, value: param.value })),
      tags: tagsJson(run.data.tags),
    },
    inputs: {
      dataset_inputs: run.inputs.datasetInputs.map(datasetInputJson),
      model_inputs: run.inputs.modelInputs.map((input) => ({ model_id: input.modelId })),
    },
    outputs: {
      model_outputs: run.outputs.modelOutputs.map((output) => ({
        model_id: output.modelId,
        step: output.step,
      })),
    },
  };
}

export function loggedModelJson(
  model: LoggedModel,
  uris: ProxiedArtifactUris,
): Static<typeof LoggedModelJson> {
  return {
    info: {
      model_id: model.modelId,
      experiment_id: model.experimentId,
      name: model.name,
      creation_timestamp_ms: model.creationTimestamp,
      last_updated_timestamp_ms: model.lastUpdatedTimestamp,
      artifact_uri: uris.present(model.artifactLocation),
      status: LOGGED_MODEL_STATUS_NAMES[model.status],
      ...(model.modelType === null ? {} : { model_type: model.modelType }),
      ...(model.sourceRunId === null ? {} : { source_run_id: model.sourceRunId }),
      ...(model.statusMessage === null ? {} : { status_message: model.statusMessage }),
      tags: tagsJson(model.tags),
    },
    data: {
      params: model.params.map((param) => ({ key: param.key, value: param.value })),
      metrics: model.metrics.map((metric) => ({
        ...metricJson(metric),
        model_id: metric.modelId,
        run_id: metric.runId,
        ...(metric.datasetName === null ? {} : { dataset_name: metric.datasetName }),
        ...(metric.datasetDigest === null ? {} : { dataset_digest: metric.datasetDigest }),
      })),
    },
  };
}

export function metricOfRunJson(metric: Metric & { readonly runId: string }): Static<typeof MetricOfRunJson> {
  return { ...metricJson(metric), run_id: metric.runId };
}

export function datasetSummaryJson(summary: DatasetSummary): Static<typeof DatasetSummaryJson> {
  return {
    experiment_id: summary.experimentId,
    name: summary.name,
    digest: summary.digest,
    ...(summary.context === null ? {} : { context: summary.context }),
  };
}

export function modelVersionJson(version: ModelVersion): Static<typeof ModelVersionJson> {
  return {
    name: version.name,
    version: version.version,
    creation_timestamp: version.creationTimestamp,
    last_updated_timestamp: version.lastUpdatedTimestamp,
    user_id: version.userId,
    current_stage: version.currentStage,
    description: version.description,
    source: version.source,
    ...(version.runId === null ? {} : { run_id: version.runId }),
    status: version.status,
    tags: tagsJson(version.tags),
    aliases: [...version.aliases],
    // Onset's additions: the digest of the files and the run's key metrics at registration.
    ...(version.checksum === null ? {} : { checksum: version.checksum }),
    metrics: version.metrics,
  };
}

export function stageTransitionJson(transition: StageTransition): Static<typeof StageTransitionJson> {
  return {
    name: transition.name,
    version: transition.version,
    from_stage: transition.fromStage,
    to_stage: transition.toStage,
    timestamp: transition.timestamp,
    user: transition.user,
    reason: transition.reason,
  };
}

export function registeredModelJson(model: RegisteredModel): Static<typeof RegisteredModelJson> {
  return {
    name: model.name,
    creation_timestamp: model.creationTimestamp,
    last_updated_timestamp: model.lastUpdatedTimestamp,
    description: model.description,
    latest_versions: model.latestVersions.map(modelVersionJson),
    tags: tagsJson(model.tags),
    aliases: model.aliases.map((alias) => ({ alias: alias.alias, version: alias.version })),
  };
}
