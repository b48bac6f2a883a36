import { type Static, Type } from 'typebox';
import { Millis } from '../../http/fields.js';
import type { ArtifactEntry } from '../artifacts/artifact-store.js';
import {
  type DatasetInput,
  type DatasetSummary,
  type Experiment,
  type LoggedModel,
  type LoggedModelStatus,
  type Metric,
  MODEL_STAGES,
  type ModelVersion,
  type RegisteredModel,
  RUN_STATUSES,
  type Run,
  type RunInfo,
  type StageTransition,
  type Tag,
} from '../entities.js';
import type { ProxiedArtifactUris } from './proxied-uris.js';

/**
 * Onset entities in MLflow's REST JSON shapes (snake_case, ids as strings, timestamps in ms): the schemas
 * of the answers, and the conversions to them (typed by the schemas, so the two cannot drift apart). NaN
 * and infinite metric values are written as the strings "NaN", "Infinity" and "-Infinity", as protobuf's
 * JSON mapping does, since JSON has no such numbers.
 */

const LifecycleStage = Type.Enum(['active', 'deleted']);

export const KeyValueJson = Type.Object({ key: Type.String(), value: Type.String() });

export const ExperimentJson = Type.Object({
  experiment_id: Type.String(),
  name: Type.String(),
  artifact_location: Type.String(),
  lifecycle_stage: LifecycleStage,
  last_update_time: Millis,
  creation_time: Millis,
  tags: Type.Array(KeyValueJson),
});

export const RunInfoJson = Type.Object({
  run_id: Type.String(),
  run_uuid: Type.String({ description: 'the same as run_id (its older name)' }),
  run_name: Type.String(),
  experiment_id: Type.String(),
  user_id: Type.String(),
  status: Type.Enum(RUN_STATUSES),
  start_time: Millis,
  end_time: Type.Optional(Millis),
  artifact_uri: Type.String(),
  lifecycle_stage: LifecycleStage,
});

export const MetricJson = Type.Object({
  key: Type.String(),
  value: Type.Union([Type.Number(), Type.Enum(['NaN', 'Infinity', '-Infinity'])]),
  timestamp: Millis,
  step: Type.Integer(),
});

export const DatasetJson = Type.Object({
  name: Type.String(),
  digest: Type.String(),
  source_type: Type.String(),
  source: Type.String(),
  schema: Type.Optional(Type.String()),
  profile: Type.Optional(Type.String()),
});

export const DatasetInputJson = Type.Object({
  tags: Type.Array(KeyValueJson, { description: 'e.g. mlflow.data.context: what the run used it for' }),
  dataset: DatasetJson,
});

export const RunJson = Type.Object({
  info: RunInfoJson,
  data: Type.Object({
    metrics: Type.Array(MetricJson, { description: 'the latest value of each metric' }),
    params: Type.Array(KeyValueJson),
    tags: Type.Array(KeyValueJson),
  }),
  inputs: Type.Object({
    dataset_inputs: Type.Array(DatasetInputJson, { description: 'the datasets the run used' }),
    model_inputs: Type.Array(Type.Object({ model_id: Type.String() }), {
      description: 'the logged models the run used (MLflow 3)',
    }),
  }),
  outputs: Type.Object({
    model_outputs: Type.Array(Type.Object({ model_id: Type.String(), step: Type.Integer() }), {
      description: 'the logged models the run produced, at a step (MLflow 3)',
    }),
  }),
});

/** MLflow 3's LoggedModelStatus, as protobuf's JSON writes the enum. */
export const LOGGED_MODEL_STATUS_NAMES = {
  PENDING: 'LOGGED_MODEL_PENDING',
  READY: 'LOGGED_MODEL_READY',
  FAILED: 'LOGGED_MODEL_UPLOAD_FAILED',
} as const satisfies Record<LoggedModelStatus, string>;

/** A metric value linked to a logged model (MLflow 3's Metric with its model, run and dataset). */
export const LoggedModelMetricJson = Type.Object({
  key: Type.String(),
  value: MetricJson.properties.value,
  timestamp: Millis,
  step: Type.Integer(),
  model_id: Type.String(),
  run_id: Type.String(),
  dataset_name: Type.Optional(Type.String()),
  dataset_digest: Type.Optional(Type.String()),
});

export const LoggedModelJson = Type.Object({
  info: Type.Object({
    model_id: Type.String(),
    experiment_id: Type.String(),
    name: Type.String(),
    creation_timestamp_ms: Millis,
    last_updated_timestamp_ms: Millis,
    artifact_uri: Type.String({
      description: 'where its files go: <experiment location>/models/<id>/artifacts',
    }),
    status: Type.Enum(Object.values(LOGGED_MODEL_STATUS_NAMES)),
    model_type: Type.Optional(Type.String()),
    source_run_id: Type.Optional(Type.String()),
    status_message: Type.Optional(Type.String()),
    tags: Type.Array(KeyValueJson),
  }),
  data: Type.Object({
    params: Type.Array(KeyValueJson),
    metrics: Type.Array(LoggedModelMetricJson, { description: 'every linked value' }),
  }),
});

/** A logged metric value with its run (MLflow's MetricWithRunId). */
export const MetricOfRunJson = Type.Object({
  key: Type.String(),
  value: MetricJson.properties.value,
  timestamp: Millis,
  step: Type.Integer(),
  run_id: Type.String(),
});

export const DatasetSummaryJson = Type.Object({
  experiment_id: Type.String(),
  name: Type.String(),
  digest: Type.String(),
  context: Type.Optional(Type.String({ description: 'absent when a use of the dataset had none' })),
});

export const ModelVersionJson = Type.Object({
  name: Type.String(),
  version: Type.String(),
  creation_timestamp: Millis,
  last_updated_timestamp: Millis,
  user_id: Type.String(),
  current_stage: Type.Enum(MODEL_STAGES),
  description: Type.String(),
  source: Type.String(),
  run_id: Type.Optional(Type.String()),
  status: Type.Enum(['READY', 'PENDING_REGISTRATION', 'FAILED_REGISTRATION']),
  tags: Type.Array(KeyValueJson),
  aliases: Type.Array(Type.String()),
  checksum: Type.Optional(
    Type.String({
      description:
        "Onset's: the sha256 of the version's files at registration (of its one file, or of their manifest); absent until they are recorded",
    }),
  ),
  metrics: Type.Record(Type.String(), Type.Number(), {
    description: "Onset's: the source run's key metrics at registration",
  }),
});

export const RegisteredModelJson = Type.Object({
  name: Type.String(),
  creation_timestamp: Millis,
  last_updated_timestamp: Millis,
  description: Type.String(),
  latest_versions: Type.Array(ModelVersionJson, { description: 'the latest version in each stage' }),
  tags: Type.Array(KeyValueJson),
  aliases: Type.Array(Type.Object({ alias: Type.String(), version: Type.String() })),
});

/**
 * A stage transition of a model version, as the registry recorded it (Onset's: MLflow's open-source API
 * has no stage history). `user` is who made it as their credentials proved (`admin`, or `anonymous` when
 * no admin token is set), `reason` why (the gate's verdict, or a comment given with the transition).
 */
export const StageTransitionJson = Type.Object({
  name: Type.String(),
  version: Type.String(),
  from_stage: Type.Enum(MODEL_STAGES),
  to_stage: Type.Enum(MODEL_STAGES),
  timestamp: Millis,
  user: Type.String(),
  reason: Type.String(),
});

/** A file or directory of an artifact listing (paths relative to the listed directory's root). */
export const FileInfoJson = Type.Object({
  path: Type.String(),
  is_dir: Type.Boolean(),
  file_size: Type.Optional(Type.Integer({ description: 'bytes (files only)' })),
});

export function fileInfoJson(entry: ArtifactEntry, path = entry.path): Static<typeof FileInfoJson> {
  return { path, is_dir: entry.isDir, ...(entry.size === undefined ? {} : { file_size: entry.size }) };
}

/** The paging fields of a search's answer. */
export const NextPage = {
  next_page_token: Type.Optional(Type.String({ description: 'the next page; absent on the last page' })),
};

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
