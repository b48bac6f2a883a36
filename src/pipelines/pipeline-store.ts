import type { Page, PageRequest } from '../store/paging.js';
import type { OwnerProcess } from '../util/process.js';

/**
 * Pipeline runs as the pipeline store keeps them. Timestamps are milliseconds since the Unix epoch.
 * A run is RUNNING from its creation until `finishRun`; a process that dies meanwhile leaves it RUNNING
 * until `failAbandonedRuns` (called whenever the stores are opened) marks it FAILED.
 */
export const PIPELINE_RUN_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type PipelineRunStatus = (typeof PIPELINE_RUN_STATUSES)[number];

/**
 * PENDING until its upstream blocks finish; SKIPPED when a sensor upstream said no; UPSTREAM_FAILED when
 * an upstream block failed (it never ran); CANCELLED when the run was cancelled before it finished.
 */
export const BLOCK_RUN_STATUSES = [
  'PENDING',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'SKIPPED',
  'UPSTREAM_FAILED',
  'CANCELLED',
] as const;
export type BlockRunStatus = (typeof BLOCK_RUN_STATUSES)[number];

/** A pipeline parameter's value, as recorded with the run. */
export type PipelineParamValue = string | number | boolean;

/** A short, JSON-able description of a block's output (counts, metrics, ids; never patient data). */
export type OutputSummary = Readonly<Record<string, string | number | boolean | null>>;

export interface BlockRun {
  readonly block: string;
  readonly status: BlockRunStatus;
  /** Attempts started so far (retries included). */
  readonly attempts: number;
  readonly startTime: number | null;
  readonly endTime: number | null;
  /** The last attempt's error, with its stack, when the block failed. */
  readonly error: { readonly message: string; readonly stack: string | null } | null;
  readonly output: OutputSummary | null;
}

/** Something a run created elsewhere: a tracking run or a registered model version (`name/version`). */
export interface RunLink {
  readonly kind: 'tracking_run' | 'model_version';
  readonly target: string;
  readonly block: string;
}

export interface PipelineRun {
  readonly runId: string;
  readonly pipeline: string;
  readonly status: PipelineRunStatus;
  readonly params: Readonly<Record<string, PipelineParamValue>>;
  /** What started it: `cli`, `api`, `schedule:<id>`, `alert:<name>`, ... */
  readonly trigger: string;
  readonly startTime: number;
  readonly endTime: number | null;
  readonly error: string | null;
  readonly cancelRequested: boolean;
  /** The process running it (null when unknown). */
  readonly owner: OwnerProcess | null;
  /** Blocks in the pipeline's execution order. */
  readonly blocks: readonly BlockRun[];
  readonly links: readonly RunLink[];
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface BlockLogLine {
  readonly block: string;
  readonly attempt: number;
  readonly timestamp: number;
  readonly level: LogLevel;
  readonly message: string;
}

export interface PipelineSchedule {
  readonly scheduleId: string;
  readonly pipeline: string;
  /** A cron expression (5 fields, or 6 with seconds), evaluated in `timezone`. */
  readonly cron: string;
  readonly timezone: string;
  readonly params: Readonly<Record<string, PipelineParamValue>>;
  readonly enabled: boolean;
  /** When it fires next. */
  readonly nextRunTime: number;
  readonly lastRunId: string | null;
  readonly createdTime: number;
}

export interface BlockRunUpdate {
  readonly status?: BlockRunStatus;
  readonly attempts?: number;
  readonly startTime?: number | null;
  readonly endTime?: number | null;
  readonly error?: { readonly message: string; readonly stack: string | null } | null;
  readonly output?: OutputSummary | null;
}

/** A new pipeline run (`createRun`). */
export interface PipelineRunInput {
  readonly pipeline: string;
  readonly params: Readonly<Record<string, PipelineParamValue>>;
  readonly trigger: string;
  /** The pipeline's blocks in execution order. */
  readonly blocks: readonly string[];
  readonly owner: OwnerProcess | null;
}

/** How a run ended (`finishRun`), with the error of a failed run. */
export interface PipelineRunOutcome {
  readonly status: Exclude<PipelineRunStatus, 'RUNNING'>;
  readonly error?: string | null;
}

/** Runs of one pipeline, or in one status, or all of them; a page at a time. */
export interface PipelineRunQuery extends PageRequest {
  readonly pipeline?: string;
  readonly status?: PipelineRunStatus;
}

/** One block's lines only, when `block` is given. */
export interface BlockLogQuery {
  readonly block?: string;
}

/** A new schedule (`createSchedule`): `cron` in `timezone`, enabled. */
export interface ScheduleInput {
  readonly pipeline: string;
  readonly cron: string;
  readonly timezone: string;
  readonly params: Readonly<Record<string, PipelineParamValue>>;
  /** When it fires first. */
  readonly nextRunTime: number;
}

/** Where pipeline runs, block runs, logs and schedules are kept: a seam with one SQL implementation per dialect. */
export interface PipelineStore {
  /** Creates a RUNNING run with every block PENDING (in the given order). */
  createRun(input: PipelineRunInput): Promise<PipelineRun>;
  updateBlockRun(runId: string, block: string, update: BlockRunUpdate): Promise<void>;
  /** Ends a RUNNING run (a run already ended is left as it is; returns whether it changed). */
  finishRun(runId: string, outcome: PipelineRunOutcome): Promise<boolean>;
  appendLogs(runId: string, lines: readonly BlockLogLine[]): Promise<void>;
  addLink(runId: string, link: RunLink): Promise<void>;
  getRun(runId: string): Promise<PipelineRun>;
  /** Newest first. */
  listRuns(query: PipelineRunQuery): Promise<Page<PipelineRun>>;
  /** In the order they were written; only `block`'s when given. */
  getLogs(runId: string, query?: BlockLogQuery): Promise<readonly BlockLogLine[]>;
  /** Asks the process running it to cancel; returns the run. Refuses a run that has ended. */
  requestCancel(runId: string): Promise<PipelineRun>;
  /**
   * Marks FAILED the RUNNING runs owned by a process of `host` that is no longer alive (see
   * `processIsAlive`), with their unfinished blocks; returns how many runs.
   */
  failAbandonedRuns(
    reason: string,
    host: string,
    isAlive: (owner: Pick<OwnerProcess, 'pid' | 'started'>) => boolean,
  ): Promise<number>;

  createSchedule(input: ScheduleInput): Promise<PipelineSchedule>;
  listSchedules(): Promise<readonly PipelineSchedule[]>;
  getSchedule(scheduleId: string): Promise<PipelineSchedule>;
  deleteSchedule(scheduleId: string): Promise<void>;
  setScheduleEnabled(scheduleId: string, enabled: boolean): Promise<PipelineSchedule>;
  /**
   * Claims a due firing: moves `nextRunTime` from `expected` to `next` only if no one else did (several
   * `onset up` processes over one database fire each schedule once). Returns whether this caller won.
   */
  claimScheduleFiring(scheduleId: string, expected: number, next: number): Promise<boolean>;
  recordScheduleRun(scheduleId: string, runId: string): Promise<void>;
}
