import type { Experiment, Metric, Page, Param, Run, RunInfo, RunStatus, Tag, ViewType } from './entities.js';

/**
 * Experiments, runs and what runs log (MLflow's AbstractStore). Implementations are chosen by URI (see
 * `store-uri.ts`) and all pass the shared contract suite. Methods throw `OnsetError`:
 * RESOURCE_DOES_NOT_EXIST for unknown ids, RESOURCE_ALREADY_EXISTS for duplicate names,
 * INVALID_PARAMETER_VALUE for bad input (limits, a changed param value, a malformed filter).
 * List calls page with opaque tokens.
 */
export interface TrackingStore {
  createExperiment(input: {
    name: string;
    artifactLocation?: string;
    tags?: readonly Tag[];
  }): Promise<string>;
  getExperiment(experimentId: string): Promise<Experiment>;
  getExperimentByName(name: string): Promise<Experiment>;
  /** `filter` uses MLflow's experiment filter grammar (`name`, `tags.<key>`, `creation_time`, ...). */
  searchExperiments(query: {
    filter?: string;
    viewType?: ViewType;
    maxResults?: number;
    orderBy?: readonly string[];
    pageToken?: string;
  }): Promise<Page<Experiment>>;
  renameExperiment(experimentId: string, newName: string): Promise<void>;
  deleteExperiment(experimentId: string): Promise<void>;
  restoreExperiment(experimentId: string): Promise<void>;
  setExperimentTag(experimentId: string, tag: Tag): Promise<void>;

  createRun(input: {
    experimentId: string;
    runName?: string;
    userId?: string;
    /** Defaults to now. */
    startTime?: number;
    tags?: readonly Tag[];
    /**
     * The process that will finish the run, so `failAbandonedRuns` can fail it if that process dies.
     * Defaults to this process; null for runs that a remote client owns (created through the REST API).
     */
    owner?: { readonly pid: number; readonly host: string } | null;
  }): Promise<Run>;
  getRun(runId: string): Promise<Run>;
  updateRun(
    runId: string,
    update: { status?: RunStatus; endTime?: number; runName?: string },
  ): Promise<RunInfo>;
  deleteRun(runId: string): Promise<void>;
  restoreRun(runId: string): Promise<void>;
  /**
   * The one write primitive for run data (logMetric, logParam and setTag are built on it): all or
   * nothing, in one transaction. Limits as MLflow's: 1,000 metrics, 100 params, 100 tags per batch.
   */
  logBatch(
    runId: string,
    batch: { metrics?: readonly Metric[]; params?: readonly Param[]; tags?: readonly Tag[] },
  ): Promise<void>;
  deleteTag(runId: string, key: string): Promise<void>;
  /** Every logged value of one metric, ordered by step then timestamp. */
  getMetricHistory(
    runId: string,
    key: string,
    page?: { maxResults?: number; pageToken?: string },
  ): Promise<Page<Metric>>;
  /** `filter` uses MLflow's run filter grammar (`metrics.auc > 0.9 and params.depth = '6' and ...`). */
  searchRuns(query: {
    experimentIds: readonly string[];
    filter?: string;
    viewType?: ViewType;
    maxResults?: number;
    orderBy?: readonly string[];
    pageToken?: string;
  }): Promise<Page<Run>>;

  /** Marks runs left RUNNING by a process that died as FAILED, with `reason` as a tag; returns how many. */
  failAbandonedRuns(reason: string): Promise<number>;
  close(): Promise<void>;
}
