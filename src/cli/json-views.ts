import type { DataIssue, IngestReport } from '../data/csv-reader.js';
import type { DatasetProfile } from '../data/profile.js';
import type { FoldResult } from '../ml/cross-validate.js';
import type { CalibrationBin } from '../ml/metrics/calibration.js';
import type { ParamSpec, ParamSpecs } from '../ml/params.js';
import type { ModelReport } from '../ml/report/model-report.js';
import type { Run } from '../tracking/entities.js';
import { runJson } from '../tracking/rest/mlflow-json.js';
import { ProxiedArtifactUris } from '../tracking/rest/proxied-uris.js';

/**
 * What `--json` prints for the entities no HTTP API answers with: snake_case field names, as the HTTP APIs
 * write theirs (an entity an API answers with is printed by that API's conversion: pipeline runs and
 * schedules by `pipelineRunJson`..., registry entities by MLflow's `modelVersionJson`...). The entities in
 * the code stay camelCase; data keys (feature, parameter and metric names) stay as they are. Fields whose
 * names are one word are passed on as they are.
 */

/** Any root: `trackingRunJson` shows the stored location instead of the proxied one. */
const ANY_ROOT = new ProxiedArtifactUris('onset:');

/**
 * A tracking run as MLflow's API shows it (`GET /api/2.0/mlflow/runs/get`), with its artifact location as
 * stored (a folder or `s3://...`), which the CLI reads directly, rather than the server's proxied
 * `mlflow-artifacts:/...`.
 */
export function trackingRunJson(run: Run) {
  const json = runJson(run, ANY_ROOT);
  return { ...json, info: { ...json.info, artifact_uri: run.info.artifactUri } };
}

function dataIssueJson(issue: DataIssue) {
  return {
    severity: issue.severity,
    rule: issue.rule,
    row: issue.row,
    line: issue.line,
    column: issue.column,
    value: issue.value,
    message: issue.message,
  };
}

/** The validation report of a data file (`data validate`, `predict`). */
export function ingestReportJson(report: IngestReport) {
  return {
    source: report.source,
    policy: report.policy,
    valid: report.valid,
    readable: report.readable,
    rows_read: report.rowsRead,
    rows_valid: report.rowsValid,
    rows_invalid: report.rowsInvalid,
    rows_skipped: report.rowsSkipped,
    rows_accepted: report.rowsAccepted,
    error_count: report.errorCount,
    warning_count: report.warningCount,
    errors_by_rule: report.errorsByRule,
    warnings_by_rule: report.warningsByRule,
    issues: report.issues.map(dataIssueJson),
    issues_truncated: report.issuesTruncated,
    columns: report.columns,
    has_target: report.hasTarget,
    has_patient_id: report.hasPatientId,
    missing_values: report.missingValues,
    fingerprint: report.fingerprint,
  };
}

/** A data set's profile (`data profile`, and in a model report). Its features' fields are one word. */
export function datasetProfileJson(profile: DatasetProfile) {
  return {
    row_count: profile.rowCount,
    fingerprint: profile.fingerprint,
    features: profile.features,
    ...(profile.target === undefined ? {} : { target: profile.target }),
  };
}

/** A bin of a reliability diagram (`evaluate`, and in a model report). */
export function calibrationBinJson(bin: CalibrationBin) {
  return {
    lower: bin.lower,
    upper: bin.upper,
    count: bin.count,
    mean_predicted: bin.meanPredicted,
    observed_rate: bin.observedRate,
  };
}

/** One fold of a cross-validation (`train`). */
export function foldResultJson(fold: FoldResult) {
  return {
    fold: fold.fold,
    train_rows: fold.trainRows,
    test_rows: fold.testRows,
    fit_seconds: fold.fitSeconds,
    metrics: fold.metrics,
  };
}

function paramSpecJson(spec: ParamSpec) {
  const common = {
    type: spec.type,
    default: spec.default,
    description: spec.description,
    ...(spec.aliases === undefined ? {} : { aliases: spec.aliases }),
  };
  if (spec.type === 'boolean') return common;
  if (spec.type === 'choice') return { ...common, choices: spec.choices };
  return {
    ...common,
    ...(spec.min === undefined ? {} : { min: spec.min }),
    ...(spec.max === undefined ? {} : { max: spec.max }),
    ...(spec.minExclusive === undefined ? {} : { min_exclusive: spec.minExclusive }),
    ...(spec.maxExclusive === undefined ? {} : { max_exclusive: spec.maxExclusive }),
    ...(spec.nullable === undefined ? {} : { nullable: spec.nullable }),
  };
}

/** A model family's parameters, by name (`model params`). */
export function paramSpecsJson(specs: ParamSpecs) {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, paramSpecJson(spec)]));
}

/**
 * A model report (`model report`). The report is a versioned document whose own fields are snake_case;
 * the calibration bins and the data profile it embeds are written with their entities' names in the
 * stored document (format 1), and printed here as everywhere else.
 */
export function modelReportJson(report: ModelReport) {
  return {
    ...report,
    evaluation: { ...report.evaluation, calibration: report.evaluation.calibration.map(calibrationBinJson) },
    ...(report.calibration
      ? {
          calibration: {
            ...report.calibration,
            before: {
              ...report.calibration.before,
              bins: report.calibration.before.bins.map(calibrationBinJson),
            },
            after: {
              ...report.calibration.after,
              bins: report.calibration.after.bins.map(calibrationBinJson),
            },
          },
        }
      : {}),
    data: {
      fingerprint: report.data.fingerprint,
      rows: report.data.rows,
      profile: datasetProfileJson(report.data.profile),
    },
  };
}
