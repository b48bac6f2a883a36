/**
 * The names, help texts and labels of the gauges Onset's monitoring jobs export (drift and performance),
 * fixed in one place so the jobs that set them, the Prometheus rules in `deploy/prometheus/rules/` and the
 * Grafana dashboards in `deploy/grafana/dashboards/` agree. `test/deploy/` checks that every metric a rule
 * or a panel names is one of these or one `OnsetMetrics` registers. A job defines its gauge from the
 * descriptor: `new Gauge({ ...DRIFT_SHARE, labelNames: [...DRIFT_SHARE.labelNames], registers })`.
 *
 * Label meanings: `model` is the registered model name, `version` its version; `window` is a rolling window
 * as written in the configuration (`1h`, `24h`, `7d`); `feature` a feature name of the schema.
 */

/** Every Onset metric name starts with this. */
export const METRIC_PREFIX = 'onset_';

/** A gauge's name, help text and label names, in the order the job passes label values. */
export interface GaugeDescriptor {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
}

function gauge(name: string, help: string, labelNames: readonly string[]): GaugeDescriptor {
  return { name, help, labelNames };
}

// Drift (set by the drift job; see docs/monitoring.md).

/** Share of the features found drifted in the last drift check, 0..1. */
export const DRIFT_SHARE = gauge(
  'onset_drift_share',
  'Share of features drifted in the last drift check, 0 to 1',
  ['model', 'version'],
);
/** 1 when the last drift check found dataset drift (the drifted share reached its threshold), else 0. */
export const DRIFT_DATASET = gauge(
  'onset_drift_dataset',
  'Dataset drift in the last drift check: 1 when the drifted share reached its threshold, else 0',
  ['model', 'version'],
);
/**
 * The drift statistic of one feature: a p-value for `test` = `ks` or `chisquare` (drift when small), a
 * distance for `wasserstein` or `jensenshannon` (drift when large).
 */
export const DRIFT_FEATURE_SCORE = gauge(
  'onset_drift_feature_score',
  'Drift score of a feature: p-value for ks and chisquare, distance for wasserstein and jensenshannon',
  ['model', 'version', 'feature', 'test'],
);
/** 1 when the feature is drifted by its test, else 0. */
export const DRIFT_FEATURE_DRIFTED = gauge(
  'onset_drift_feature_drifted',
  'Whether a feature drifted in the last drift check (1) or not (0)',
  ['model', 'version', 'feature'],
);
/** Population stability index of one feature against the reference bins. */
export const DRIFT_FEATURE_PSI = gauge(
  'onset_drift_feature_psi',
  'Population stability index of a feature against the reference profile',
  ['model', 'version', 'feature'],
);
/** 1 when the predicted probability drifted, else 0. */
export const DRIFT_PREDICTION_DRIFTED = gauge(
  'onset_drift_prediction_drifted',
  'Whether the predicted probability drifted in the last drift check (1) or not (0)',
  ['model', 'version'],
);
/** The drift statistic of the predicted probability (see `DRIFT_FEATURE_SCORE` for `test`). */
export const DRIFT_PREDICTION_SCORE = gauge(
  'onset_drift_prediction_score',
  'Drift score of the predicted probability: p-value for ks, distance for wasserstein',
  ['model', 'version', 'test'],
);
/** When the drift job last finished without error, in seconds since the Unix epoch. */
export const DRIFT_LAST_SUCCESS = gauge(
  'onset_drift_last_success_timestamp_seconds',
  'Unix time in seconds of the last successful drift check',
  ['model'],
);

// Performance (set by the performance job from the prediction log and its feedback).

/** The realized performance metrics: `metric` label values of `PERFORMANCE_REALIZED`. */
export const REALIZED_METRICS = ['accuracy', 'roc_auc', 'recall', 'specificity', 'brier', 'ece'] as const;
export type RealizedMetricName = (typeof REALIZED_METRICS)[number];

/** The metrics estimated without labels: `metric` label values of `PERFORMANCE_ESTIMATED`. */
export const ESTIMATED_METRICS = ['accuracy', 'roc_auc', 'recall', 'specificity', 'brier'] as const;
export type EstimatedMetricName = (typeof ESTIMATED_METRICS)[number];

/** `bound` label values of `PERFORMANCE_ESTIMATED`: the estimate and its confidence band. */
export const ESTIMATE_BOUNDS = ['estimate', 'lower', 'upper'] as const;
export type EstimateBound = (typeof ESTIMATE_BOUNDS)[number];

/**
 * A metric measured on the predictions of a rolling window that have feedback (ground truth). A metric
 * that is undefined in the window (ROC AUC with one class, recall with no positive, anything with no
 * labelled prediction) has no series: the job removes it rather than exporting a made-up value.
 */
export const PERFORMANCE_REALIZED = gauge(
  'onset_performance_realized',
  'Performance measured on the labelled predictions of a rolling window (accuracy, roc_auc, recall, specificity, brier, ece)',
  ['model', 'version', 'metric', 'window'],
);
/** How many predictions of the window have feedback: the sample size behind `PERFORMANCE_REALIZED`. */
export const PERFORMANCE_LABELLED_RECORDS = gauge(
  'onset_performance_labelled_records',
  'Predictions of a rolling window that have feedback (ground truth)',
  ['model', 'version', 'window'],
);
/** How many predictions the window holds, labelled or not: the sample size behind `PERFORMANCE_ESTIMATED`. */
export const PERFORMANCE_WINDOW_RECORDS = gauge(
  'onset_performance_window_records',
  'Predictions logged in a rolling window, with or without feedback',
  ['model', 'version', 'window'],
);
/**
 * Performance estimated from the predicted probabilities alone (confidence-based performance estimation),
 * with `bound` = `estimate`, `lower` or `upper` (the confidence band, ±3 sampling errors).
 */
export const PERFORMANCE_ESTIMATED = gauge(
  'onset_performance_estimated',
  'Performance estimated without labels from the predicted probabilities (CBPE), with its confidence band',
  ['model', 'version', 'metric', 'window', 'bound'],
);
/** When the performance job last finished without error, in seconds since the Unix epoch. */
export const PERFORMANCE_LAST_SUCCESS = gauge(
  'onset_performance_last_success_timestamp_seconds',
  'Unix time in seconds of the last successful performance check',
  ['model'],
);

// The prediction log's metrics, registered by `OnsetMetrics` (src/monitoring/metrics.ts) beside the serving
// metrics; named here too because the rules and dashboards use them.

/** Prediction log records written to the database (a counter). */
export const PREDICTION_LOG_WRITTEN = 'onset_prediction_log_written_total';
/** Prediction log records dropped because the writer fell behind, by `reason` (a counter). */
export const PREDICTION_LOG_DROPPED = 'onset_prediction_log_dropped_total';
/** Prediction log records waiting to be written (a gauge). */
export const PREDICTION_LOG_QUEUE = 'onset_prediction_log_queue_records';

/** The prediction log's metric names. */
export const PREDICTION_LOG_METRIC_NAMES: readonly string[] = [
  PREDICTION_LOG_WRITTEN,
  PREDICTION_LOG_DROPPED,
  PREDICTION_LOG_QUEUE,
];

/** Every gauge the monitoring jobs export. */
export const MONITORING_JOB_GAUGES: readonly GaugeDescriptor[] = [
  DRIFT_SHARE,
  DRIFT_DATASET,
  DRIFT_FEATURE_SCORE,
  DRIFT_FEATURE_DRIFTED,
  DRIFT_FEATURE_PSI,
  DRIFT_PREDICTION_DRIFTED,
  DRIFT_PREDICTION_SCORE,
  DRIFT_LAST_SUCCESS,
  PERFORMANCE_REALIZED,
  PERFORMANCE_LABELLED_RECORDS,
  PERFORMANCE_WINDOW_RECORDS,
  PERFORMANCE_ESTIMATED,
  PERFORMANCE_LAST_SUCCESS,
];
