import { readFileSync } from 'node:fs';
import {
  FEATURES,
  type FeatureKind,
  type Range,
  SCHEMA_TRAINING_RANGES,
  TARGET_COLUMN,
  type TrainingRanges,
  trainingRangesFrom,
} from '../data/schema.js';
import { invalidParameter } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { CalibratedModel, uncalibrated } from './calibration/calibrated-model.js';
import { Calibration, type CalibrationDocument } from './calibration/calibration.js';
import type { ConformalDocument } from './calibration/conformal.js';
import type { ThresholdDocument } from './decision/threshold-policy.js';
import type { EstimatorName, FittedModel, ModelState } from './estimator.js';
import { loadModelState } from './estimator-registry.js';
import { GbdtModel, withAffineMargin } from './gbdt/gbdt.js';
import { fromXgboostJson, isXgboostJson, toXgboostJson } from './gbdt/xgboost-json.js';
import { DEFAULT_THRESHOLD } from './metrics/confusion.js';
import type { BinaryMetrics, FoldSummary } from './metrics/index.js';
import type { ParamValue } from './params.js';
import type { ModelReport } from './report/model-report.js';
import { SUBGROUP_DESIGN_COLUMNS } from './subgroups.js';
import type { TrialResult } from './tuning/tune.js';

export const MODEL_DOCUMENT_NAME = 'onset-model';
/**
 * The latest version of model documents. Version 2 added `calibration`, version 3 `threshold`. A document
 * is written as the lowest version that holds what it needs, so that an Onset too old to apply its
 * calibration or its threshold refuses it rather than give other probabilities or diagnoses: 3 when its
 * threshold is not 0.5, 2 when it is calibrated, 1 otherwise (which every Onset reads).
 */
export const MODEL_FORMAT_VERSION = 3;
const READABLE_FORMAT_VERSIONS: readonly number[] = [1, 2, 3];

/** The feature schema a model was trained on: names in model input order, with their kinds. */
export interface SchemaSnapshot {
  readonly features: readonly { readonly name: string; readonly kind: FeatureKind }[];
  readonly target: string;
}

export interface TrainingInfo {
  /** Fingerprint of the training data set (see `fingerprintDataset`); null when unknown (imported). */
  readonly dataset_fingerprint: string | null;
  readonly rows: number | null;
  /** Seconds spent in `fit` alone. */
  readonly fit_seconds: number | null;
  /** ISO-8601 time the fit finished. */
  readonly fitted_at: string | null;
  readonly onset_version: string;
  /** The format an imported model came in: "xgboost-json", or "mlflow-xgboost" (an MLflow model's xgboost flavor). */
  readonly imported_from?: string;
  /** Where an imported model was read from (a file, a run's artifact, a registered version), when known. */
  readonly imported_source?: string;
  /** What the source said about the model (for MLflow models: the MLmodel file's flavor and run fields). */
  readonly imported_details?: Readonly<Record<string, string>>;
  readonly validation_rows?: number;
}

export interface ModelMetrics {
  /** Metrics of the final model on its own training rows (optimistic; for reference). */
  readonly training?: BinaryMetrics;
  readonly cross_validation?: {
    readonly folds: number;
    readonly seed: number;
    readonly summary: FoldSummary;
    readonly per_fold: readonly BinaryMetrics[];
  };
}

/**
 * A saved model: versioned and name-tagged (as XGBoost's JSON), carrying the estimator and its params,
 * the feature schema it was trained on, training metadata and metrics, and the model state itself.
 * Written as compact JSON, so save -> load -> save gives the same bytes.
 */
/** A parameter search as recorded in a model document. */
export interface TuningSummary {
  readonly metric: string;
  readonly sampler: string;
  readonly folds: number;
  readonly seed: number;
  readonly best_trial: number;
  readonly best_value: number;
  readonly best_params: Readonly<Record<string, ParamValue>>;
  /** Every trial, with only the searched parameters kept. */
  readonly trials: readonly TrialResult[];
}

export interface ModelDocument {
  readonly name: typeof MODEL_DOCUMENT_NAME;
  readonly format_version: number;
  readonly estimator: EstimatorName;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly schema: SchemaSnapshot;
  readonly training: TrainingInfo;
  readonly metrics: ModelMetrics;
  /** The model report (the data behind a model card), when made at training time. */
  readonly report?: ModelReport;
  /** The parameter search that chose the parameters, when there was one. */
  readonly tuning?: TuningSummary;
  /**
   * How the model's probabilities are calibrated (absent: they are used as the model gives them). Every
   * path that scores patients applies it (see `CalibratedModel`).
   */
  readonly calibration?: CalibrationDocument;
  /** Prediction sets with guaranteed coverage per diagnosis, fitted on held-out probabilities. */
  readonly conformal?: ConformalDocument;
  /**
   * The decision threshold and the policy that chose it (absent: 0.5). Every path that diagnoses applies
   * it (see `decisionThreshold`).
   */
  readonly threshold?: ThresholdDocument;
  readonly model: ModelState;
}

/** A loaded model: the document and the fitted model it holds. */
export interface LoadedModel {
  readonly document: ModelDocument;
  readonly model: FittedModel;
  /**
   * `onset-model` for Onset documents (alone or as an MLflow model's onset flavor), `xgboost-json` for
   * XGBoost models read directly, `mlflow-xgboost` for an MLflow model's xgboost flavor.
   */
  readonly format: 'onset-model' | 'xgboost-json' | 'mlflow-xgboost';
}

const ONSET_VERSION = readOnsetVersion();

function readOnsetVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The current feature schema as recorded in model documents. */
export function currentSchema(): SchemaSnapshot {
  return { features: FEATURES.map((f) => ({ name: f.name, kind: f.kind })), target: TARGET_COLUMN };
}

export function createModelDocument(
  model: FittedModel,
  training: Omit<TrainingInfo, 'onset_version'>,
  metrics: ModelMetrics = {},
  extras: {
    report?: ModelReport;
    tuning?: TuningSummary;
    calibration?: CalibrationDocument;
    conformal?: ConformalDocument;
    threshold?: ThresholdDocument;
  } = {},
): ModelDocument {
  const calibrated = extras.calibration !== undefined && extras.calibration.method !== 'none';
  const thresholded = extras.threshold !== undefined && extras.threshold.value !== DEFAULT_THRESHOLD;
  return {
    name: MODEL_DOCUMENT_NAME,
    format_version: thresholded ? 3 : calibrated ? 2 : 1,
    estimator: model.estimator,
    params: model.params,
    schema: currentSchema(),
    training: { ...training, onset_version: ONSET_VERSION },
    metrics,
    ...(extras.report ? { report: extras.report } : {}),
    ...(extras.tuning ? { tuning: extras.tuning } : {}),
    ...(extras.calibration ? { calibration: extras.calibration } : {}),
    ...(extras.conformal ? { conformal: extras.conformal } : {}),
    ...(extras.threshold ? { threshold: extras.threshold } : {}),
    model: model.toJSON(),
  };
}

export function serializeModelDocument(document: ModelDocument): string {
  return `${JSON.stringify(document)}\n`;
}

export async function saveModelDocument(path: string, document: ModelDocument): Promise<void> {
  await writeFileAtomic(path, serializeModelDocument(document));
}

/**
 * The ranges a model was trained on: the minimum and maximum of its training rows, as its report recorded
 * them (`source: 'model'`), or the schema's (the documented data set's) for a model without a report (an
 * imported one) or a feature whose values were all missing.
 */
export function modelTrainingRanges(document: ModelDocument): {
  readonly source: 'model' | 'schema';
  readonly ranges: TrainingRanges;
} {
  const profiled = document.report?.data?.profile?.features;
  if (!Array.isArray(profiled)) return { source: 'schema', ranges: SCHEMA_TRAINING_RANGES };
  const observed = new Map<string, Range>();
  for (const feature of profiled) {
    if (typeof feature.min === 'number' && typeof feature.max === 'number')
      observed.set(feature.name, { min: feature.min, max: feature.max });
  }
  return { source: 'model', ranges: trainingRangesFrom((name) => observed.get(name)) };
}

/** Interprets a parsed JSON value as a model (an Onset document, or an XGBoost model); `where` names it in errors. */
export function parseModel(value: unknown, where: string): LoadedModel {
  if (isXgboostJson(value)) {
    const { model, featureNames } = fromXgboostJson(value);
    checkXgboostFeatures(featureNames, model.featureCount, where);
    const document = createModelDocument(model, {
      dataset_fingerprint: null,
      rows: null,
      fit_seconds: null,
      fitted_at: null,
      imported_from: 'xgboost-json',
    });
    return { document, model, format: 'xgboost-json' };
  }
  const record = value as Partial<ModelDocument> | null;
  if (typeof record !== 'object' || record === null || record.name !== MODEL_DOCUMENT_NAME) {
    throw invalidParameter(`${where} is neither an Onset model document nor an XGBoost JSON model`);
  }
  if (!READABLE_FORMAT_VERSIONS.includes(record.format_version as number)) {
    throw invalidParameter(
      `${where} has model format version ${String(record.format_version)}; this Onset reads versions ${READABLE_FORMAT_VERSIONS.join(' and ')}`,
    );
  }
  checkSchema(record.schema, where);
  const model = loadModelState(record.model);
  if (record.estimator !== model.estimator) {
    throw invalidParameter(
      `${where}: estimator "${String(record.estimator)}" does not match its model state "${model.estimator}"`,
    );
  }
  checkThreshold(record.threshold, where);
  checkConformal(record.conformal, where);
  const calibration =
    record.calibration === undefined ? undefined : Calibration.fromDocument(record.calibration, where);
  return {
    document: record as ModelDocument,
    model:
      calibration === undefined || calibration.method === 'none'
        ? model
        : new CalibratedModel(model, calibration),
    format: 'onset-model',
  };
}

/** A threshold a document keeps must be one a diagnosis can be made at. */
function checkThreshold(threshold: ThresholdDocument | undefined, where: string): void {
  if (threshold === undefined) return;
  const value = (threshold as { value?: unknown } | null)?.value;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw invalidParameter(
      `${where}: its decision threshold ${JSON.stringify(value)} is not a number between 0 and 1`,
    );
  }
}

/** Subgroup-conditional thresholds are read against this Onset's subgroup design: the same columns. */
function checkConformal(conformal: ConformalDocument | undefined, where: string): void {
  const columns = conformal?.by_subgroup?.columns;
  if (columns === undefined) return;
  const expected = SUBGROUP_DESIGN_COLUMNS;
  if (columns.length !== expected.length || columns.some((column, j) => column !== expected[j])) {
    throw invalidParameter(
      `${where}: its prediction sets are fitted on the subgroups ${columns.join(', ')}, not on this Onset's ${expected.join(', ')}`,
    );
  }
}

/** A model trained on another feature schema cannot score files read with this one. */
function checkSchema(schema: SchemaSnapshot | undefined, where: string): void {
  const current = currentSchema();
  if (!schema || !Array.isArray(schema.features)) throw invalidParameter(`${where} has no feature schema`);
  const problems: string[] = [];
  const expected = current.features;
  if (schema.features.length !== expected.length) {
    problems.push(`${schema.features.length} features instead of ${expected.length}`);
  }
  schema.features.forEach((feature, i) => {
    const want = expected[i];
    if (want === undefined) return;
    if (feature.name !== want.name)
      problems.push(`feature ${i + 1} is ${feature.name}, expected ${want.name}`);
    else if (feature.kind !== want.kind)
      problems.push(`${feature.name} is ${feature.kind}, expected ${want.kind}`);
  });
  if (schema.target !== current.target) problems.push(`target ${schema.target}, expected ${current.target}`);
  if (problems.length > 0) {
    throw invalidParameter(
      `${where} was trained on a different feature schema: ${problems.slice(0, 5).join('; ')}`,
    );
  }
}

function checkXgboostFeatures(names: readonly string[] | undefined, count: number, where: string): void {
  const expected = FEATURES.map((f) => f.name);
  if (count !== expected.length) {
    throw invalidParameter(
      `${where} has ${count} features; Onset models take the ${expected.length} schema features`,
    );
  }
  if (names === undefined) return; // Unnamed: taken to be in schema order.
  const mismatch = names.findIndex((name, i) => name !== expected[i]);
  if (mismatch >= 0) {
    throw invalidParameter(
      `${where}: feature ${mismatch + 1} is named ${names[mismatch]}, but the schema has ${expected[mismatch]} there; train the XGBoost model on the columns in the schema order (onset data schema)`,
    );
  }
}

/**
 * What became of a model's calibration in an XGBoost export: `folded` into its trees (Platt scaling of
 * the log-odds is an affine map of the margin, which scaled leaves and a moved base score carry), `left_out`
 * (XGBoost's format has no place for a monotone cubic, isotonic regression, Venn-Abers or Platt scaling of the probability:
 * the booster gives the uncalibrated probabilities), or `none` (not calibrated).
 */
export type ExportedCalibration = 'folded' | 'left_out' | 'none';

/** How a model's calibration goes into an XGBoost export (see `ExportedCalibration`). */
export function exportedCalibration(model: FittedModel): ExportedCalibration {
  if (!(model instanceof CalibratedModel) || model.calibration.method === 'none') return 'none';
  return model.calibration.logOddsMap() ? 'folded' : 'left_out';
}

/**
 * Writes a gbdt model as XGBoost JSON with the schema's feature names and types, its calibration folded
 * into the trees when it can be (`exportedCalibration`): the booster then gives the calibrated
 * probabilities, to float32 precision.
 */
export function exportXgboost(calibrated: FittedModel, where: string): string {
  const own = uncalibrated(calibrated);
  if (!(own instanceof GbdtModel)) {
    throw invalidParameter(
      `${where} is a ${own.estimator} model; only gbdt models can be exported as XGBoost JSON`,
    );
  }
  const map = calibrated instanceof CalibratedModel ? calibrated.calibration.logOddsMap() : undefined;
  const model = map ? withAffineMargin(own, map.scale, map.shift) : own;
  return toXgboostJson(model, {
    featureNames: FEATURES.map((f) => f.name),
    featureTypes: FEATURES.map((f) => (f.kind === 'continuous' ? 'float' : 'int')),
  });
}
