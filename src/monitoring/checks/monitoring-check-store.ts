import type { Page, PageRequest } from '../../store/paging.js';

/**
 * The stored results of the monitoring checks: each run of the drift job or the performance job (on its
 * schedule or on demand) is recorded once it has finished, whether it succeeded or failed, with its
 * result document. Timestamps are milliseconds since the Unix epoch.
 */

/** What a check looked at: the drift of a window of logged predictions, or the model's performance. */
export const CHECK_KINDS = ['drift', 'performance'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/** How a check ended: with a result (`succeeded`, which includes "too few predictions to judge"), or an error. */
export const CHECK_STATUSES = ['succeeded', 'failed'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** A JSON value as the store keeps it: finite numbers only (JSON has no NaN or infinity). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };
export type JsonObject = { readonly [key: string]: JsonValue };

/** The registered model version a check is about. */
export interface CheckedModel {
  readonly name: string;
  readonly version: string;
  /** The run that trained it (where its reference profile is); null when it was registered from elsewhere. */
  readonly runId: string | null;
}

/** A finished check, as the job hands it to the store. */
export interface NewMonitoringCheck {
  readonly kind: CheckKind;
  readonly model: CheckedModel;
  /**
   * The predictions it read: those made from `from` (inclusive) to `to` (exclusive). For the performance
   * check, the span of its longest window.
   */
  readonly window: { readonly from: number; readonly to: number };
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly status: CheckStatus;
  /** Why it failed; null when it succeeded. */
  readonly error: string | null;
  /** A few headline figures (for lists); null when it failed. */
  readonly summary: JsonObject | null;
  /** The whole result document (see docs/monitoring.md); null when it failed. */
  readonly result: JsonObject | null;
}

/** A stored check. */
export interface MonitoringCheck extends NewMonitoringCheck {
  /**
   * 32 hex digits: the start time in ms (12 digits), then random digits, so ids sort as the checks
   * started.
   */
  readonly checkId: string;
}

/** A stored check without its result document: what a listing answers. */
export type MonitoringCheckSummary = Omit<MonitoringCheck, 'result'>;

/** Which checks to list: of one kind, one model, one version (each optional), a page at a time. */
export interface CheckQuery extends PageRequest {
  readonly kind?: CheckKind;
  readonly modelName?: string;
  readonly modelVersion?: string;
}

/**
 * Where the checks are kept (the SQL implementation is `sql/sql-monitoring-check-store.ts`, in the
 * tracking database, beside the prediction log). A check is written once and never changed; what is
 * refused (an unknown kind or status, a failed check without its error, a document that is not JSON)
 * writes nothing.
 */
export interface MonitoringCheckStore {
  /** Stores a finished check and answers it with its id. */
  recordCheck(check: NewMonitoringCheck): Promise<MonitoringCheck>;
  /** One check with its result; RESOURCE_DOES_NOT_EXIST when no check has that id. */
  getCheck(checkId: string): Promise<MonitoringCheck>;
  /**
   * Checks, newest first (by start time), without their result documents; `maxResults` defaults to 100,
   * at most 1,000.
   */
  listChecks(query?: CheckQuery): Promise<Page<MonitoringCheckSummary>>;
  /** Deletes the checks started before `timestamp`; answers how many. */
  deleteChecksBefore(timestamp: number): Promise<number>;
}
