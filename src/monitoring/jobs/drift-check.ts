/**
 * One drift check: a window of a model version's logged predictions against its reference profile. It
 * reads the log and calls `computeDrift`; the job (`monitoring-jobs.ts`) stores what it answers and sets
 * the gauges, and `onset monitor drift --window` prints it.
 */
import type { ReferenceProfile } from '../../data/reference-profile.js';
import { FEATURE_NAMES, type FeatureName } from '../../data/schema.js';
import type { CheckedModel, JsonObject } from '../checks/monitoring-check-store.js';
import { computeDrift, type DriftReport } from '../drift/compute-drift.js';
import type { DriftOptions } from '../drift/drift-options.js';
import { type DriftSubject, driftReportJson } from '../drift/drift-report-json.js';
import type { PredictionLogStore } from '../prediction-log/prediction-log-store.js';
import type { TimeWindow } from '../time-window.js';

export interface DriftCheckSettings {
  /** The stretch of the log to compare: the predictions of the last `window`. */
  readonly window: TimeWindow;
  /** At most this many predictions, the latest of the window (bounds time and memory). */
  readonly maxRows: number;
  /** Fewer predictions than this give no verdict (the tests would have too little to go on). */
  readonly minRows: number;
  /** Tests and thresholds other than Evidently's defaults. */
  readonly options?: DriftOptions;
}

export interface DriftCheckInput {
  readonly log: PredictionLogStore;
  readonly model: CheckedModel;
  readonly profile: ReferenceProfile;
  readonly settings: DriftCheckSettings;
  /** The end of the window (ms): the check looks at `[now − window, now)`. */
  readonly now: number;
}

/** The predictions a check read: the window's bounds, how many, and whether it held more than were read. */
export interface WindowRead {
  readonly from: number;
  readonly to: number;
  readonly rows: number;
  /** The window held more than `maxRows` predictions: the latest `maxRows` were read. */
  readonly truncated: boolean;
  /** How many the window held (more than `rows` when truncated). */
  readonly windowRows: number;
}

export type DriftCheckOutcome =
  | { readonly outcome: 'checked'; readonly read: WindowRead; readonly report: DriftReport }
  | { readonly outcome: 'too_few_rows'; readonly read: WindowRead; readonly minRows: number };

const COLUMNS = [...FEATURE_NAMES, 'probability'] as const;

/**
 * Reads the latest `maxRows` predictions of the model version in the window and compares them with the
 * profile; with fewer than `minRows`, answers so (no verdict). Throws what `computeDrift` and the store
 * throw (INVALID_PARAMETER_VALUE for bad drift options).
 */
export async function runDriftCheck(input: DriftCheckInput): Promise<DriftCheckOutcome> {
  const { log, model, settings, now } = input;
  const window = {
    from: now - settings.window.durationMs,
    to: now,
    modelName: model.name,
    modelVersion: model.version,
  };
  const read = await log.readColumns(window, COLUMNS, { maxRows: settings.maxRows });
  // Only a full read may have left predictions out: count the window then.
  const windowRows = read.rows < settings.maxRows ? read.rows : await log.countPredictions(window);
  const about: WindowRead = {
    from: window.from,
    to: window.to,
    rows: read.rows,
    truncated: windowRows > read.rows,
    windowRows,
  };
  if (read.rows < Math.max(1, settings.minRows)) {
    return { outcome: 'too_few_rows', read: about, minRows: settings.minRows };
  }
  const columns = {} as Record<FeatureName, Float64Array>;
  for (const name of FEATURE_NAMES) columns[name] = read.columns[name];
  const report = computeDrift(
    input.profile,
    { rowCount: read.rows, columns, probabilities: read.columns.probability },
    settings.options ?? {},
  );
  return { outcome: 'checked', read: about, report };
}

/** What a window of the log is called in a report: `the prediction log, last 24h (to 2026-…Z)`. */
export function describeLogWindow(window: TimeWindow, to: number): string {
  return `the prediction log, last ${window.label} (to ${new Date(to).toISOString()})`;
}

/**
 * The stored documents of a drift check: the result (the window read and, when checked, the drift
 * report as `onset monitor drift --json` prints it) and the summary a listing shows.
 */
export function driftCheckDocuments(
  outcome: DriftCheckOutcome,
  settings: DriftCheckSettings,
  subject: DriftSubject,
): { readonly result: JsonObject; readonly summary: JsonObject } {
  const window = {
    label: settings.window.label,
    from: outcome.read.from,
    to: outcome.read.to,
    rows: outcome.read.rows,
    window_rows: outcome.read.windowRows,
    truncated: outcome.read.truncated,
    max_rows: settings.maxRows,
    min_rows: settings.minRows,
  };
  if (outcome.outcome === 'too_few_rows') {
    const note = `${outcome.read.rows} prediction${outcome.read.rows === 1 ? '' : 's'} of ${subject.model.name} version ${subject.model.version} in the last ${settings.window.label}; a drift check needs at least ${outcome.minRows}: no verdict, the gauges keep their values`;
    return {
      result: { outcome: 'too_few_rows', window, note, report: null },
      summary: {
        outcome: 'too_few_rows',
        rows: outcome.read.rows,
        dataset_drifted: null,
        drift_share: null,
        drifted_features: null,
        features: null,
        prediction_drifted: null,
      },
    };
  }
  const { report } = outcome;
  return {
    result: {
      outcome: 'checked',
      window,
      note: null,
      report: driftReportJson(report, subject) as unknown as JsonObject,
    },
    summary: {
      outcome: 'checked',
      rows: outcome.read.rows,
      dataset_drifted: report.dataset.drifted,
      drift_share: report.dataset.share,
      drifted_features: report.dataset.driftedFeatures,
      features: report.dataset.features,
      prediction_drifted: report.prediction === null ? null : report.prediction.drifted,
    },
  };
}
