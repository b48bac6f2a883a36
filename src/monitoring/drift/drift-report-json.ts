/**
 * A drift report as JSON (snake_case, as every Onset JSON answer), with what it was about: the model, where
 * its reference came from and what the current data was.
 */
import type { ColumnDrift, DriftReport } from './compute-drift.js';
import { STAT_TESTS } from './stat-tests.js';

/** What a drift report compared: told by its caller (the CLI, the drift job). */
export interface DriftSubject {
  readonly model: {
    /** The URI or path it was given as (`models:/parkinson-disease-prediction/Production`). */
    readonly uri: string;
    readonly name: string | null;
    readonly version: string | null;
    readonly runId: string | null;
    /** The model's estimator (`gbdt`, ...); null when the check did not load the model. */
    readonly estimator: string | null;
  };
  /** Where the reference profile came from (`runs:/<id>/data/reference-profile.json`, or a file). */
  readonly referenceSource: string;
  /** What the current data is (a file path, or a window of the prediction log). */
  readonly currentSource: string;
  /** ISO-8601 time of the check. */
  readonly computedAt: string;
  /** Seconds the computation took. */
  readonly seconds: number;
}

/** A number for JSON: infinite or NaN values (an infinite chi-square) become null. */
function finite(value: number | null): number | null {
  return value === null || !Number.isFinite(value) ? null : value;
}

function columnJson(column: ColumnDrift) {
  const test = STAT_TESTS[column.test];
  return {
    column: column.column,
    type: column.type,
    test: column.test,
    test_label: test.label,
    test_chosen_by: column.testChosenBy,
    score_kind: test.scoreKind,
    score: finite(column.score),
    statistic: finite(column.statistic),
    threshold: column.threshold,
    drift_when: test.driftWhen,
    drifted: column.drifted,
    psi: finite(column.psi),
    reference: {
      count: column.reference.count,
      missing: column.reference.missing,
      mean: column.reference.mean,
    },
    current: { count: column.current.count, missing: column.current.missing, mean: column.current.mean },
    histogram: column.histogram.map((bin) => ({
      label: bin.label,
      lower: bin.lower,
      upper: bin.upper,
      code: bin.code,
      reference_count: bin.reference.count,
      reference_share: bin.reference.share,
      current_count: bin.current.count,
      current_share: bin.current.share,
    })),
    note: column.note,
  };
}

/** The report as the JSON `onset monitor drift --json` prints: snake_case fields, features in schema order. */
export function driftReportJson(report: DriftReport, subject: DriftSubject) {
  return {
    model: {
      uri: subject.model.uri,
      name: subject.model.name,
      version: subject.model.version,
      run_id: subject.model.runId,
      estimator: subject.model.estimator,
    },
    reference: {
      source: subject.referenceSource,
      training_rows: report.reference.trainingRows,
      sample_rows: report.reference.sampleRows,
      probability_source: report.reference.probabilitySource,
      created_at: report.reference.createdAt,
      dataset_fingerprint: report.reference.datasetFingerprint,
    },
    current: { source: subject.currentSource, rows: report.current.rows },
    computed_at: subject.computedAt,
    seconds: subject.seconds,
    dataset_drift: {
      drifted: report.dataset.drifted,
      drifted_features: report.dataset.driftedFeatures,
      features: report.dataset.features,
      share: report.dataset.share,
      drift_share: report.dataset.driftShare,
    },
    prediction_drift: report.prediction ? columnJson(report.prediction) : null,
    features: report.features.map(columnJson),
  };
}
