import type { Page, PageRequest } from '../store/paging.js';
import type { LoggedModel, LoggedModelMetric, LoggedModelStatus, Param, Tag } from './entities.js';

/** A new logged model (`createLoggedModel`), PENDING until finalized. */
export interface LoggedModelInput {
  readonly experimentId: string;
  /** Defaults to a random name, as a run's. */
  readonly name?: string;
  readonly modelType?: string;
  readonly sourceRunId?: string;
  readonly params?: readonly Param[];
  readonly tags?: readonly Tag[];
}

/** A dataset that metric filters and ordering are restricted to: by name, and digest when given. */
export interface LoggedModelDataset {
  readonly name: string;
  readonly digest?: string;
}

/**
 * One ordering of a search: an attribute (`name`, `creation_timestamp`, ...) or `metrics.<key>` (the
 * latest value, by timestamp then step, optionally on a dataset); missing values last.
 */
export interface LoggedModelOrder {
  readonly field: string;
  readonly ascending: boolean;
  readonly datasetName?: string;
  readonly datasetDigest?: string;
}

/**
 * A search of logged models, as MLflow 3's: experiments, a filter in MLflow's grammar over attributes
 * (`name`, `model_id`, `model_type`, `status`, `source_run_id`, `creation_timestamp`,
 * `last_updated_timestamp`), `metrics.<key>` (any linked value), `params.<key>` and `tags.<key>`; metric
 * filters restricted to `datasets` when given. Newest first by default.
 */
export interface LoggedModelQuery extends PageRequest {
  readonly experimentIds: readonly string[];
  readonly filter?: string;
  readonly datasets?: readonly LoggedModelDataset[];
  readonly orderBy?: readonly LoggedModelOrder[];
}

/**
 * MLflow 3's logged models: models logged in an experiment with their own files, params, tags and the
 * metrics runs link to them. Same error and paging conventions as `TrackingStore`: RESOURCE_DOES_NOT_EXIST
 * for unknown (or deleted) models, INVALID_PARAMETER_VALUE for bad input.
 */
export interface LoggedModelStore {
  /** Refused for a deleted experiment (INVALID_PARAMETER_VALUE, as MLflow). */
  createLoggedModel(input: LoggedModelInput): Promise<LoggedModel>;
  getLoggedModel(modelId: string): Promise<LoggedModel>;
  /** Sets the status (READY once its files are uploaded, FAILED when that failed). */
  finalizeLoggedModel(modelId: string, status: LoggedModelStatus): Promise<LoggedModel>;
  /** Marks it deleted: gone from gets and searches; its files stay. Deleting it again is no error. */
  deleteLoggedModel(modelId: string): Promise<void>;
  setLoggedModelTags(modelId: string, tags: readonly Tag[]): Promise<void>;
  /** RESOURCE_DOES_NOT_EXIST when it has no such tag (as MLflow). */
  deleteLoggedModelTag(modelId: string, key: string): Promise<void>;
  /** Params are write-once: the same value again is fine, another one is refused. */
  logLoggedModelParams(modelId: string, params: readonly Param[]): Promise<void>;
  /**
   * Links metric values a run logged to their models (`modelId` of each); the same model, key, timestamp,
   * step and run again is kept once. Every model must exist.
   */
  logLoggedModelMetrics(metrics: readonly LoggedModelMetric[]): Promise<void>;
  /** RESOURCE_DOES_NOT_EXIST naming the first of `modelIds` that does not exist (or is deleted). */
  checkLoggedModelsExist(modelIds: readonly string[]): Promise<void>;
  searchLoggedModels(query: LoggedModelQuery): Promise<Page<LoggedModel>>;
}
