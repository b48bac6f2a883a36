import type { Page, PageRequest } from '../store/paging.js';
import type { OwnerProcess } from '../util/process.js';
import type {
  DatasetInput,
  DatasetSummary,
  Experiment,
  Metric,
  ModelInput,
  ModelOutput,
  Param,
  Run,
  RunInfo,
  RunStatus,
  Tag,
  ViewType,
} from './entities.js';

/** A search: MLflow's filter grammar for what is searched, `orderBy` clauses (`"name ASC"`), and paging. */
export interface SearchQuery extends PageRequest {
  readonly filter?: string;
  readonly orderBy?: readonly string[];
}

/** A new experiment (`createExperiment`); names are unique among active and deleted experiments. */
export interface ExperimentInput {
  readonly name: string;
  /** Defaults to `<artifact root>/<experiment id>`. */
  readonly artifactLocation?: string;
  readonly tags?: readonly Tag[];
}

/** `filter` uses MLflow's experiment filter grammar (`name`, `tags.<key>`, `creation_time`, ...). */
export interface ExperimentQuery extends SearchQuery {
  readonly viewType?: ViewType;
}

/** A new run (`createRun`), RUNNING from `startTime`. */
export interface RunInput {
  readonly experimentId: string;
  readonly runName?: string;
  readonly userId?: string;
  /** Milliseconds since the epoch; defaults to now. */
  readonly startTime?: number;
  readonly tags?: readonly Tag[];
  /**
   * The process that will finish the run, so `failAbandonedRuns` can fail it if that process dies.
   * Defaults to this process; null for runs that a remote client owns (created through the REST API).
   */
  readonly owner?: OwnerProcess | null;
}

/** What `updateRun` changes; fields left out stay as they are. */
export interface RunUpdate {
  readonly status?: RunStatus;
  /** Milliseconds since the epoch. */
  readonly endTime?: number;
  readonly runName?: string;
}

/** What one `logBatch` writes: at most 1,000 metrics, 100 params and 100 tags (MLflow's limits). */
export interface RunBatch {
  readonly metrics?: readonly Metric[];
  readonly params?: readonly Param[];
  readonly tags?: readonly Tag[];
}

/** `filter` uses MLflow's run filter grammar (`metrics.auc > 0.9 and params.depth = '6' and ...`). */
export interface RunQuery extends ExperimentQuery {
  readonly experimentIds: readonly string[];
  /**
   * The root that an `artifact_uri` in the filter names relative locations under (default: the artifact
   * store's root URI; the REST API's is `mlflow-artifacts:`, the URIs its clients see).
   */
  readonly artifactRoot?: string;
}

/**
 * Experiments, runs and what runs log (MLflow's AbstractStore). Implementations are chosen by URI (see
 * `server/open-stores.ts`) and all pass the shared contract suite. Methods throw `OnsetError`:
 * RESOURCE_DOES_NOT_EXIST for unknown ids, RESOURCE_ALREADY_EXISTS for duplicate names,
 * INVALID_PARAMETER_VALUE for bad input (limits, a changed param value, a malformed filter).
 * List calls page with opaque tokens.
 */
export interface TrackingStore {
  createExperiment(input: ExperimentInput): Promise<string>;
  getExperiment(experimentId: string): Promise<Experiment>;
  getExperimentByName(name: string): Promise<Experiment>;
  searchExperiments(query: ExperimentQuery): Promise<Page<Experiment>>;
  renameExperiment(experimentId: string, newName: string): Promise<void>;
  deleteExperiment(experimentId: string): Promise<void>;
  restoreExperiment(experimentId: string): Promise<void>;
  setExperimentTag(experimentId: string, tag: Tag): Promise<void>;
  /** RESOURCE_DOES_NOT_EXIST when the experiment has no such tag. */
  deleteExperimentTag(experimentId: string, key: string): Promise<void>;

  createRun(input: RunInput): Promise<Run>;
  getRun(runId: string): Promise<Run>;
  updateRun(runId: string, update: RunUpdate): Promise<RunInfo>;
  deleteRun(runId: string): Promise<void>;
  restoreRun(runId: string): Promise<void>;
  /**
   * The one write primitive for run data (logMetric, logParam and setTag are built on it): all or
   * nothing, in one transaction. Limits as MLflow's: 1,000 metrics, 100 params, 100 tags per batch.
   */
  logBatch(runId: string, batch: RunBatch): Promise<void>;
  deleteTag(runId: string, key: string): Promise<void>;
  /** Every logged value of one metric, ordered by step then timestamp. */
  getMetricHistory(runId: string, key: string, page?: PageRequest): Promise<Page<Metric>>;
  searchRuns(query: RunQuery): Promise<Page<Run>>;
  /**
   * How many runs `searchRuns` finds for `query` from its `pageToken` on (all of them without one):
   * the runs of that page and of every page after it. `maxResults` and `orderBy` do not change it.
   */
  countRuns(query: RunQuery): Promise<number>;
  /**
   * Records datasets and logged models a run used (MLflow's `log_inputs`), at most 1,000 datasets per
   * call. A dataset is stored once per experiment and (name, digest): a later one with the same name and
   * digest is the first one. A run uses a dataset once: logging it again changes nothing, its first tags
   * included; the same holds for a model.
   */
  logInputs(runId: string, datasets: readonly DatasetInput[], models?: readonly ModelInput[]): Promise<void>;
  /**
   * Records logged models a run produced (MLflow 3's `log_outputs`), each once per run (the first step
   * logged counts). Model ids are not checked, as in MLflow.
   */
  logOutputs(runId: string, models: readonly ModelOutput[]): Promise<void>;
  /**
   * Appends a logged model's description (its MLmodel as a JSON object) to the JSON list in the run's
   * `mlflow.log-model.history` tag, as MLflow's `record_logged_model` does, atomically.
   */
  recordLoggedModel(runId: string, model: Readonly<Record<string, unknown>>): Promise<void>;
  /**
   * The datasets of experiments, one summary per dataset and context of its uses (MLflow's UI listing),
   * at most 1,000, ordered by experiment, name, digest and context (none first).
   */
  searchDatasets(experimentIds: readonly string[]): Promise<readonly DatasetSummary[]>;

  /** Marks runs left RUNNING by a process that died as FAILED, with `reason` as a tag; returns how many. */
  failAbandonedRuns(reason: string): Promise<number>;
  close(): Promise<void>;
}
