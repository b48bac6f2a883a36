/**
 * One performance check of a model version over rolling windows of its logged predictions: the realized
 * metrics of the predictions that have feedback, and CBPE's estimate from the probabilities of all of
 * them. It reads the log and calls the pure functions of `performance/`; the job stores what it answers
 * and sets the gauges, and `onset monitor performance` prints it.
 */
import type { CalibrationBin } from '../../ml/metrics/calibration.js';
import type { CheckedModel, JsonObject } from '../checks/monitoring-check-store.js';
import {
  ESTIMATED_METRICS,
  type EstimatedMetricName,
  REALIZED_METRICS,
  type RealizedMetricName,
} from '../metric-names.js';
import type { CbpeEstimator, EstimatedMetric, PerformanceEstimate } from '../performance/cbpe.js';
import { type RealizedPerformance, rollingRealizedPerformance } from '../performance/realized.js';
import type { PredictionLogStore } from '../prediction-log/prediction-log-store.js';
import type { TimeWindow } from '../time-window.js';

export interface PerformanceCheckSettings {
  /** The rolling windows, each ending now (`1h`, `24h`, `7d`). */
  readonly windows: readonly TimeWindow[];
  /**
   * At most this many predictions are read for the estimate, the latest of the longest window, and at most
   * this many labelled ones for the realized metrics.
   */
  readonly maxRows: number;
}

/** CBPE fitted on the version's reference, or why there is none. */
export type PerformanceEstimator =
  | {
      readonly available: true;
      readonly estimator: CbpeEstimator;
      /** Where the reference probabilities came from (see `ProbabilitySource`). */
      readonly probabilitySource: string;
    }
  | { readonly available: false; readonly reason: string };

export interface PerformanceCheckInput {
  readonly log: PredictionLogStore;
  readonly model: CheckedModel;
  readonly estimator: PerformanceEstimator;
  readonly settings: PerformanceCheckSettings;
  /** The end of every window (ms): a window is `(now − duration, now]`. */
  readonly now: number;
}

/** One window's figures. */
export interface WindowPerformanceCheck {
  readonly window: string;
  /** The window is `(from, to]`. */
  readonly from: number;
  readonly to: number;
  /** Predictions the window holds, labelled or not. */
  readonly records: number;
  /** The realized metrics, over its labelled predictions. */
  readonly realized: RealizedPerformance;
  /**
   * The labelled predictions read were cut at `maxRows` (the latest), and the window reaches before the
   * earliest of them: it may hold more than the realized metrics were measured on.
   */
  readonly labelledTruncated: boolean;
  /** CBPE's estimate over the window's predictions read; null without an estimator. */
  readonly estimated: PerformanceEstimate | null;
  /** The window held more predictions than the estimate was made on (the latest `maxRows` were read). */
  readonly estimateTruncated: boolean;
}

export interface PerformanceCheckOutcome {
  /** The span of the longest window: `(from, to]`. */
  readonly from: number;
  readonly to: number;
  readonly windows: readonly WindowPerformanceCheck[];
}

/** Rows of `time` in `(from, to]`. */
function rowsBetween(time: Float64Array, from: number, to: number): number[] {
  const rows: number[] = [];
  for (let i = 0; i < time.length; i++) if (time[i]! > from && time[i]! <= to) rows.push(i);
  return rows;
}

function pick(column: Float64Array, rows: readonly number[]): Float64Array {
  const out = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = column[rows[k]!]!;
  return out;
}

/**
 * Reads the model version's predictions of the longest window (the labelled ones, and all of them for the
 * estimate, each the latest `maxRows`) and measures every window.
 */
export async function runPerformanceCheck(input: PerformanceCheckInput): Promise<PerformanceCheckOutcome> {
  const { log, model, settings, now } = input;
  const longest = Math.max(...settings.windows.map((window) => window.durationMs));
  // (now − longest, now] in whole milliseconds: [now − longest + 1, now + 1) as the log reads windows.
  const span = { from: now - longest + 1, to: now + 1, modelName: model.name, modelVersion: model.version };
  const labelled = await log.readColumns(span, ['timestamp', 'probability', 'diagnosis', 'label'], {
    labelledOnly: true,
    maxRows: settings.maxRows,
  });
  const realized = rollingRealizedPerformance(
    {
      probability: labelled.columns.probability,
      prediction: labelled.columns.diagnosis,
      label: labelled.columns.label,
      timeMs: labelled.columns.timestamp,
    },
    settings.windows,
    now,
  );
  const all = input.estimator.available
    ? await log.readColumns(span, ['timestamp', 'probability', 'diagnosis'], { maxRows: settings.maxRows })
    : undefined;
  // The earliest labelled prediction read, when the read was cut at maxRows: a window reaching before it
  // may hold labelled predictions that were not read.
  const earliestLabelled = labelled.rows === settings.maxRows ? labelled.columns.timestamp[0]! : -Infinity;
  const windows: WindowPerformanceCheck[] = [];
  for (const [i, window] of settings.windows.entries()) {
    const from = now - window.durationMs;
    const rows = all ? rowsBetween(all.columns.timestamp, from, now) : undefined;
    // A read that was not cut holds the whole window: count it there, the same predictions as estimated.
    const records =
      all && rows && all.rows < settings.maxRows
        ? rows.length
        : await log.countPredictions({
            from: from + 1,
            to: now + 1,
            modelName: model.name,
            modelVersion: model.version,
          });
    const estimated =
      input.estimator.available && all && rows
        ? input.estimator.estimator.estimate({
            probability: pick(all.columns.probability, rows),
            prediction: pick(all.columns.diagnosis, rows),
          })
        : null;
    windows.push({
      window: window.label,
      from,
      to: now,
      records,
      realized: realized[i]!.performance,
      labelledTruncated: earliestLabelled > from,
      estimated,
      estimateTruncated: estimated !== null && records > estimated.records,
    });
  }
  return { from: now - longest, to: now, windows };
}

function realizedJson(performance: RealizedPerformance) {
  return {
    records: performance.records,
    positives: performance.positives,
    negatives: performance.negatives,
    metrics: Object.fromEntries(
      REALIZED_METRICS.map((name) => [
        name,
        {
          value: performance.metrics[name].value,
          undefined_reason: performance.metrics[name].undefinedReason,
        },
      ]),
    ),
    calibration: performance.calibration.map((bin: CalibrationBin) => ({
      lower: bin.lower,
      upper: bin.upper,
      count: bin.count,
      mean_predicted: bin.meanPredicted,
      observed_rate: bin.observedRate,
    })),
  };
}

function estimatedMetricJson(metric: EstimatedMetric) {
  return {
    estimate: metric.estimate,
    lower: metric.lower,
    upper: metric.upper,
    sampling_error: metric.samplingError,
    undefined_reason: metric.undefinedReason,
  };
}

function estimatedJson(estimate: PerformanceEstimate) {
  return {
    records: estimate.records,
    metrics: Object.fromEntries(
      ESTIMATED_METRICS.map((name) => [name, estimatedMetricJson(estimate.metrics[name])]),
    ),
    expected_confusion: { ...estimate.expectedConfusion },
  };
}

/** The value of a realized metric in a window, or null. */
export function realizedValue(window: WindowPerformanceCheck, metric: RealizedMetricName): number | null {
  return window.realized.metrics[metric].value;
}

/** The estimate of a metric in a window, or null. */
export function estimatedValue(window: WindowPerformanceCheck, metric: EstimatedMetricName): number | null {
  return window.estimated?.metrics[metric].estimate ?? null;
}

/**
 * The stored documents of a performance check: the result (per window, the realized metrics with their
 * counts and reliability diagram, and the estimate with its band; how the estimate was fitted) and the
 * summary a listing shows.
 */
export function performanceCheckDocuments(
  outcome: PerformanceCheckOutcome,
  estimator: PerformanceEstimator,
  settings: PerformanceCheckSettings,
): { readonly result: JsonObject; readonly summary: JsonObject } {
  const estimation = estimator.available
    ? {
        available: true,
        reason: null,
        reference_records: estimator.estimator.referenceRecords,
        reference_positive_rate: estimator.estimator.referencePositiveRate,
        probability_source: estimator.probabilitySource,
        calibrated: estimator.estimator.calibrated,
        band_width: estimator.estimator.bandWidth,
        threshold: estimator.estimator.threshold,
      }
    : {
        available: false,
        reason: estimator.reason,
        reference_records: null,
        reference_positive_rate: null,
        probability_source: null,
        calibrated: null,
        band_width: null,
        threshold: null,
      };
  return {
    result: {
      from: outcome.from,
      to: outcome.to,
      max_rows: settings.maxRows,
      estimation,
      windows: outcome.windows.map((window) => ({
        window: window.window,
        from: window.from,
        to: window.to,
        records: window.records,
        realized: realizedJson(window.realized),
        labelled_truncated: window.labelledTruncated,
        estimated: window.estimated === null ? null : estimatedJson(window.estimated),
        estimate_truncated: window.estimateTruncated,
      })),
    },
    summary: {
      estimation_available: estimator.available,
      windows: outcome.windows.map((window) => ({
        window: window.window,
        records: window.records,
        labelled_records: window.realized.records,
        realized_roc_auc: realizedValue(window, 'roc_auc'),
        realized_accuracy: realizedValue(window, 'accuracy'),
        estimated_roc_auc: estimatedValue(window, 'roc_auc'),
        estimated_accuracy: estimatedValue(window, 'accuracy'),
      })),
    },
  };
}
