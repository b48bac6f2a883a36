/**
 * The tables of the SQL tracking and registry stores, as Kysely sees them. These are rows, not domain
 * objects: `rows.ts` converts them to the readonly entities of `../entities.ts`. Timestamps are
 * milliseconds since the Unix epoch (BIGINT); booleans are 0/1 integers on both dialects.
 */
import type { Generated } from 'kysely';

export interface ExperimentsTable {
  experiment_id: Generated<number>;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
}

export interface ExperimentTagsTable {
  experiment_id: number;
  key: string;
  value: string;
}

export interface RunsTable {
  run_uuid: string;
  name: string;
  experiment_id: number;
  user_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: string;
  deleted_time: number | null;
}

export interface ParamsTable {
  run_uuid: string;
  key: string;
  value: string;
}

export interface TagsTable {
  run_uuid: string;
  key: string;
  value: string;
}

/** Every logged metric value (full histories). NaN is stored as value 0 with is_nan 1. */
export interface MetricsTable {
  id: Generated<number>;
  run_uuid: string;
  key: string;
  value: number;
  timestamp: number;
  step: number;
  is_nan: number;
}

/** The latest value (highest step, then timestamp) of each metric of each run, kept by logBatch. */
export interface LatestMetricsTable {
  run_uuid: string;
  key: string;
  value: number;
  timestamp: number;
  step: number;
  is_nan: number;
}

/** A dataset of an experiment (MLflow's `datasets`): one per (experiment, name, digest). */
export interface DatasetsTable {
  dataset_uuid: string;
  experiment_id: number;
  name: string;
  digest: string;
  dataset_source_type: string;
  dataset_source: string;
  dataset_schema: string | null;
  dataset_profile: string | null;
}

/**
 * What used or made what (MLflow's `inputs`), once per pair: a dataset a run used (`DATASET` →
 * `RUN`, by dataset_uuid and run_uuid), a logged model a run used (`RUN_INPUT` → `MODEL_INPUT`, by run_uuid
 * and model_id) or produced (`RUN_OUTPUT` → `MODEL_OUTPUT`, at `step`). `input_id` numbers them in the
 * order they were logged.
 */
export interface InputsTable {
  input_id: Generated<number>;
  source_type: string;
  source_id: string;
  destination_type: string;
  destination_id: string;
  /** The step of a run's output (0 otherwise). */
  step: Generated<number>;
}

/** The tags of one input (e.g. `mlflow.data.context`), MLflow's `input_tags`. */
export interface InputTagsTable {
  input_id: number;
  name: string;
  value: string;
}

/** MLflow 3's logged models; a deleted one stays, with lifecycle_stage 'deleted'. */
export interface LoggedModelsTable {
  model_id: string;
  experiment_id: number;
  name: string;
  /** Relative to the artifact root when under it (see `storedLocation`). */
  artifact_location: string;
  creation_time: number;
  last_updated_time: number;
  /** PENDING, READY or FAILED. */
  status: string;
  lifecycle_stage: string;
  model_type: string | null;
  source_run_id: string | null;
  status_message: string | null;
}

export interface LoggedModelKeyValueTable {
  model_id: string;
  key: string;
  value: string;
}

/** Metric values runs linked to logged models; NaN stored as in `metrics`. */
export interface LoggedModelMetricsTable {
  model_id: string;
  key: string;
  value: number;
  is_nan: number;
  timestamp: number;
  step: number;
  run_id: string;
  dataset_name: string | null;
  dataset_digest: string | null;
}

export interface RegisteredModelsTable {
  name: string;
  creation_time: number;
  last_updated_time: number;
  description: string;
  /** The number the next version gets: versions are never renumbered or reused after a delete. */
  next_version: number;
}

export interface RegisteredModelTagsTable {
  name: string;
  key: string;
  value: string;
}

export interface ModelVersionsTable {
  name: string;
  version: number;
  creation_time: number;
  last_updated_time: number;
  description: string;
  user_id: string;
  current_stage: string;
  source: string;
  /** Where the version's files are, relative to the artifact root; null when outside the artifact store. */
  storage_location: string | null;
  run_id: string | null;
  status: string;
  /** The files' digest (see `manifestDigest`); '' until the files are recorded. */
  checksum: string;
  /** JSON object of metric name → number; non-finite numbers are written as the strings "NaN", "Infinity". */
  metrics_json: string;
}

/** One file of a model version's manifest, recorded at registration (or when first read). */
export interface ModelVersionFilesTable {
  name: string;
  version: number;
  /** Relative to the version's storage location ('' when the source is one file). */
  path: string;
  /** Bytes; null for versions registered before manifests, which recorded only their file's sha256. */
  size: number | null;
  sha256: string;
}

export interface ModelVersionTagsTable {
  name: string;
  version: number;
  key: string;
  value: string;
}

export interface RegisteredModelAliasesTable {
  name: string;
  alias: string;
  version: number;
}

export interface StageTransitionsTable {
  id: Generated<number>;
  name: string;
  version: number;
  from_stage: string;
  to_stage: string;
  timestamp: number;
  user_id: string;
  reason: string;
}

/** The tracking and registry tables by name (created by `migrations.ts`). */
export type TrackingTables = {
  experiments: ExperimentsTable;
  experiment_tags: ExperimentTagsTable;
  runs: RunsTable;
  params: ParamsTable;
  tags: TagsTable;
  metrics: MetricsTable;
  latest_metrics: LatestMetricsTable;
  datasets: DatasetsTable;
  inputs: InputsTable;
  input_tags: InputTagsTable;
  logged_models: LoggedModelsTable;
  logged_model_params: LoggedModelKeyValueTable;
  logged_model_tags: LoggedModelKeyValueTable;
  logged_model_metrics: LoggedModelMetricsTable;
  registered_models: RegisteredModelsTable;
  registered_model_tags: RegisteredModelTagsTable;
  model_versions: ModelVersionsTable;
  model_version_tags: ModelVersionTagsTable;
  model_version_files: ModelVersionFilesTable;
  registered_model_aliases: RegisteredModelAliasesTable;
  model_version_stage_transitions: StageTransitionsTable;
};
