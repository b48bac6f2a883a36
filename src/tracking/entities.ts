/**
 * The tracking and registry domain, as MLflow models it (entities are readonly; database rows and their
 * `toEntity` conversions live in the store folders). Timestamps are milliseconds since the Unix epoch.
 */

export type LifecycleStage = 'active' | 'deleted';
/** Which lifecycle stages a search returns (MLflow's ViewType). */
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

export interface Tag {
  readonly key: string;
  readonly value: string;
}

export interface Experiment {
  readonly experimentId: string;
  readonly name: string;
  readonly artifactLocation: string;
  readonly lifecycleStage: LifecycleStage;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
  readonly tags: readonly Tag[];
}

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunInfo {
  readonly runId: string;
  readonly runName: string;
  readonly experimentId: string;
  readonly userId: string;
  readonly status: RunStatus;
  readonly startTime: number;
  /** Null while the run is RUNNING or SCHEDULED. */
  readonly endTime: number | null;
  readonly artifactUri: string;
  readonly lifecycleStage: LifecycleStage;
}

/** One logged value of a metric: histories (e.g. per-iteration loss) are many of these with steps. */
export interface Metric {
  readonly key: string;
  readonly value: number;
  readonly timestamp: number;
  readonly step: number;
}

/** Params are write-once: logging a different value for an existing key is an error. */
export interface Param {
  readonly key: string;
  readonly value: string;
}

export interface RunData {
  /** The latest value of each metric (highest step, then timestamp), as MLflow reports them. */
  readonly metrics: readonly Metric[];
  readonly params: readonly Param[];
  readonly tags: readonly Tag[];
}

/**
 * A dataset a run used, as MLflow records it: one per experiment and (name, digest). `source` says where
 * it came from (its form depends on `sourceType`, e.g. `local`, `s3`, `http`); `schema` and `profile` are
 * JSON texts the client made, or null.
 */
export interface Dataset {
  readonly name: string;
  readonly digest: string;
  readonly sourceType: string;
  readonly source: string;
  readonly schema: string | null;
  readonly profile: string | null;
}

/** The tag of a dataset input that says what the run used it for (`training`, `evaluation`, ...). */
export const DATASET_CONTEXT_TAG = 'mlflow.data.context';

/** A dataset a run used, with the tags of that use (e.g. `mlflow.data.context`). */
export interface DatasetInput {
  readonly dataset: Dataset;
  readonly tags: readonly Tag[];
}

/** A logged model a run used (MLflow 3's ModelInput). */
export interface ModelInput {
  readonly modelId: string;
}

/** A logged model a run produced, at a step of its training (MLflow 3's ModelOutput). */
export interface ModelOutput {
  readonly modelId: string;
  readonly step: number;
}

/** What a run used (MLflow's RunInputs): datasets and logged models, each in the order first logged. */
export interface RunInputs {
  readonly datasetInputs: readonly DatasetInput[];
  readonly modelInputs: readonly ModelInput[];
}

/** What a run produced (MLflow 3's RunOutputs): logged models, in the order logged. */
export interface RunOutputs {
  readonly modelOutputs: readonly ModelOutput[];
}

export interface Run {
  readonly info: RunInfo;
  readonly data: RunData;
  readonly inputs: RunInputs;
  readonly outputs: RunOutputs;
}

/**
 * A logged model's lifecycle (MLflow 3's LoggedModelStatus): PENDING from its creation until the client
 * has uploaded its files and finalizes it READY, or FAILED when the upload failed.
 */
export const LOGGED_MODEL_STATUSES = ['PENDING', 'READY', 'FAILED'] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

/** A metric value linked to a logged model: logged by a run, optionally on a dataset. */
export interface LoggedModelMetric extends Metric {
  readonly modelId: string;
  readonly runId: string;
  readonly datasetName: string | null;
  readonly datasetDigest: string | null;
}

/**
 * A model logged in an experiment (MLflow 3's LoggedModel), with its own files, params, tags and linked
 * metrics; `artifactLocation` is `<experiment artifact location>/models/<model id>/artifacts`.
 */
export interface LoggedModel {
  /** `m-` and 32 hex digits. */
  readonly modelId: string;
  readonly experimentId: string;
  readonly name: string;
  readonly artifactLocation: string;
  readonly creationTimestamp: number;
  readonly lastUpdatedTimestamp: number;
  readonly status: LoggedModelStatus;
  readonly statusMessage: string | null;
  /** A user's kind of model, e.g. "Classifier", "Agent". */
  readonly modelType: string | null;
  /** The run that created it, if any (not checked: MLflow takes any id). */
  readonly sourceRunId: string | null;
  /** By key. */
  readonly tags: readonly Tag[];
  /** By key; write-once, as a run's. */
  readonly params: readonly Param[];
  /** Every linked value, by key, then step and timestamp. */
  readonly metrics: readonly LoggedModelMetric[];
}

/** One dataset of an experiment as MLflow's UI lists them: a dataset with one context it was used in. */
export interface DatasetSummary {
  readonly experimentId: string;
  readonly name: string;
  readonly digest: string;
  /** The `mlflow.data.context` tag of a run's use of it, or null when a use had none. */
  readonly context: string | null;
}

export const MODEL_STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];

export interface ModelVersion {
  readonly name: string;
  readonly version: string;
  readonly creationTimestamp: number;
  readonly lastUpdatedTimestamp: number;
  readonly description: string;
  readonly userId: string;
  readonly currentStage: ModelStage;
  /**
   * Where the model is, as the client gave it: `runs:/<run_id>/model`, `mlflow-artifacts:/...`, an
   * artifact URI, `models:/<name>/<version>`, or a path under the artifact root.
   */
  readonly source: string;
  /**
   * Where its files are in the artifact store (a folder, or one file), relative to the artifact root: the
   * source resolved at registration. Null when the source is outside the artifact store (Onset keeps the
   * version but cannot serve it).
   */
  readonly storageLocation: string | null;
  readonly runId: string | null;
  readonly status: 'READY' | 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION';
  readonly tags: readonly Tag[];
  readonly aliases: readonly string[];
  /**
   * The digest of the version's files (see `manifestDigest`), recorded at registration; null while its
   * files are not recorded yet (registered before they were logged: recorded when first read). Loading
   * refuses a file that no longer matches its manifest.
   */
  readonly checksum: string | null;
  /** Key metrics of the source run at registration (e.g. cross-validated ROC AUC). */
  readonly metrics: Readonly<Record<string, number>>;
}

/** One file of a model version, as recorded in its manifest. */
export interface ModelFile {
  /** Relative to the version's storage location, with `/` ('' when the version is one file). */
  readonly path: string;
  /** Bytes; null for versions registered before manifests (they recorded only the sha256). */
  readonly size: number | null;
  readonly sha256: string;
}

export interface RegisteredModel {
  readonly name: string;
  readonly creationTimestamp: number;
  readonly lastUpdatedTimestamp: number;
  readonly description: string;
  readonly tags: readonly Tag[];
  /** The latest version in each stage (MLflow's `latest_versions`). */
  readonly latestVersions: readonly ModelVersion[];
  readonly aliases: readonly { readonly alias: string; readonly version: string }[];
}

/** One stage change of a model version, kept forever. */
export interface StageTransition {
  readonly name: string;
  readonly version: string;
  readonly fromStage: ModelStage;
  readonly toStage: ModelStage;
  readonly timestamp: number;
  readonly user: string;
  readonly reason: string;
}
