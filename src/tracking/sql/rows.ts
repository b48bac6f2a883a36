/**
 * Rows → entities. Rows are what the database returns (see `schema.ts`); entities are the readonly domain
 * objects of `../entities.ts`.
 */

import type { Selectable } from 'kysely';
import { resolvedLocation } from '../artifact-paths.js';
import type {
  DatasetInput,
  Experiment,
  LifecycleStage,
  LoggedModel,
  LoggedModelMetric,
  LoggedModelStatus,
  Metric,
  ModelStage,
  ModelVersion,
  Param,
  RegisteredModel,
  RunInfo,
  RunStatus,
  StageTransition,
  Tag,
} from '../entities.js';
import type {
  DatasetsTable,
  ExperimentsTable,
  LatestMetricsTable,
  LoggedModelsTable,
  MetricsTable,
  ModelVersionsTable,
  RegisteredModelsTable,
  RunsTable,
  StageTransitionsTable,
} from './schema.js';

export type ExperimentRow = Selectable<ExperimentsTable>;
export type LoggedModelRow = Selectable<LoggedModelsTable>;
export type RunRow = Selectable<RunsTable>;
export type MetricRow = Pick<Selectable<MetricsTable>, 'key' | 'value' | 'timestamp' | 'step' | 'is_nan'>;
export type LatestMetricRow = Selectable<LatestMetricsTable>;
export type RegisteredModelRow = Selectable<RegisteredModelsTable>;
export type ModelVersionRow = Selectable<ModelVersionsTable>;
export type StageTransitionRow = Selectable<StageTransitionsTable>;

/** An experiment; `root` is the artifact root its relative location is under (see `storedLocation`). */
export function experimentToEntity(row: ExperimentRow, tags: readonly Tag[], root: string): Experiment {
  return {
    experimentId: String(row.experiment_id),
    name: row.name,
    artifactLocation: resolvedLocation(root, row.artifact_location),
    lifecycleStage: row.lifecycle_stage as LifecycleStage,
    creationTime: Number(row.creation_time),
    lastUpdateTime: Number(row.last_update_time),
    tags,
  };
}

/** A run's info; `root` is the artifact root its relative artifact URI is under. */
export function runInfoToEntity(row: RunRow, root: string): RunInfo {
  return {
    runId: row.run_uuid,
    runName: row.name,
    experimentId: String(row.experiment_id),
    userId: row.user_id,
    status: row.status as RunStatus,
    startTime: Number(row.start_time),
    endTime: row.end_time === null ? null : Number(row.end_time),
    artifactUri: resolvedLocation(root, row.artifact_uri),
    lifecycleStage: row.lifecycle_stage as LifecycleStage,
  };
}

/** NaN is stored as 0 with `is_nan` set (SQLite cannot store NaN); ±Infinity is stored as such. */
export function metricToEntity(row: MetricRow): Metric {
  return {
    key: row.key,
    value: Number(row.is_nan) === 1 ? Number.NaN : Number(row.value),
    timestamp: Number(row.timestamp),
    step: Number(row.step),
  };
}

/** The stored columns of a metric value. */
export function metricColumns(value: number): { value: number; is_nan: number } {
  return Number.isNaN(value) ? { value: 0, is_nan: 1 } : { value, is_nan: 0 };
}

/** A run's use of a dataset: the dataset's columns and the use's tags. */
export function datasetInputToEntity(
  row: Pick<
    Selectable<DatasetsTable>,
    'name' | 'digest' | 'dataset_source_type' | 'dataset_source' | 'dataset_schema' | 'dataset_profile'
  >,
  tags: readonly Tag[],
): DatasetInput {
  return {
    dataset: {
      name: row.name,
      digest: row.digest,
      sourceType: row.dataset_source_type,
      source: row.dataset_source,
      schema: row.dataset_schema,
      profile: row.dataset_profile,
    },
    tags,
  };
}

export function tagToEntity(row: { key: string; value: string }): Tag {
  return { key: row.key, value: row.value };
}

/** JSON with NaN and ±Infinity written as strings, so a metrics snapshot round-trips any number. */
export function encodeMetricsJson(metrics: Readonly<Record<string, number>>): string {
  const encoded: Record<string, number | string> = {};
  for (const [key, value] of Object.entries(metrics))
    encoded[key] = Number.isFinite(value) ? value : String(value);
  return JSON.stringify(encoded);
}

export function decodeMetricsJson(text: string): Readonly<Record<string, number>> {
  const decoded: Record<string, number> = {};
  for (const [key, value] of Object.entries(JSON.parse(text) as Record<string, number | string>)) {
    decoded[key] = Number(value);
  }
  return decoded;
}

export function modelVersionToEntity(
  row: ModelVersionRow,
  tags: readonly Tag[],
  aliases: readonly string[],
): ModelVersion {
  return {
    name: row.name,
    version: String(row.version),
    creationTimestamp: Number(row.creation_time),
    lastUpdatedTimestamp: Number(row.last_updated_time),
    description: row.description,
    userId: row.user_id,
    currentStage: row.current_stage as ModelStage,
    source: row.source,
    storageLocation: row.storage_location,
    runId: row.run_id,
    status: row.status as ModelVersion['status'],
    tags,
    aliases,
    checksum: row.checksum === '' ? null : row.checksum,
    metrics: decodeMetricsJson(row.metrics_json),
  };
}

export function registeredModelToEntity(
  row: RegisteredModelRow,
  tags: readonly Tag[],
  latestVersions: readonly ModelVersion[],
  aliases: readonly { readonly alias: string; readonly version: string }[],
): RegisteredModel {
  return {
    name: row.name,
    creationTimestamp: Number(row.creation_time),
    lastUpdatedTimestamp: Number(row.last_updated_time),
    description: row.description,
    tags,
    latestVersions,
    aliases,
  };
}

export function stageTransitionToEntity(row: StageTransitionRow): StageTransition {
  return {
    name: row.name,
    version: String(row.version),
    fromStage: row.from_stage as ModelStage,
    toStage: row.to_stage as ModelStage,
    timestamp: Number(row.timestamp),
    user: row.user_id,
    reason: row.reason,
  };
}

/** A logged model; `root` is the artifact root its relative location is under. */
export function loggedModelToEntity(
  row: LoggedModelRow,
  root: string,
  data: {
    readonly tags: readonly Tag[];
    readonly params: readonly Param[];
    readonly metrics: readonly LoggedModelMetric[];
  },
): LoggedModel {
  return {
    modelId: row.model_id,
    experimentId: String(row.experiment_id),
    name: row.name,
    artifactLocation: resolvedLocation(root, row.artifact_location),
    creationTimestamp: Number(row.creation_time),
    lastUpdatedTimestamp: Number(row.last_updated_time),
    status: row.status as LoggedModelStatus,
    statusMessage: row.status_message,
    modelType: row.model_type,
    sourceRunId: row.source_run_id,
    ...data,
  };
}
