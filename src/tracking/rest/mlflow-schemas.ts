import { Type } from 'typebox';
import { Millis } from '../../http/fields.js';
import { MODEL_STAGES, RUN_STATUSES } from '../entities.js';
import { LOGGED_MODEL_STATUS_NAMES } from './mlflow-json.js';

/**
 * The schemas of MLflow's REST answers (snake_case, ids as strings, timestamps in ms), for the routes'
 * validation and documentation. The conversions to them are in mlflow-json.ts, typed by these schemas
 * (a type-only import, so the CLI's JSON views load neither these nor TypeBox).
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

/** The paging fields of a search's answer. */
export const NextPage = {
  next_page_token: Type.Optional(Type.String({ description: 'the next page; absent on the last page' })),
};
