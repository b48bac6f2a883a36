import { FEATURE_NAMES, type FeatureName } from '../../data/schema.js';
import type { Page, PageRequest } from '../../store/paging.js';

/**
 * The prediction log: every prediction a model made (over HTTP, one by one or in batches, from a stream,
 * from `onset predict --log`), with its 32 feature values, and the ground truth learnt later (feedback).
 * Timestamps are milliseconds since the Unix epoch. A patient is known only by `patientKey`, the
 * HMAC-SHA256 of the patient id (see `PatientKeys`): the store never sees a patient id in clear.
 */

/** Where a prediction was asked for. */
export const PREDICTION_SOURCES = ['http', 'http_batch', 'stream', 'cli'] as const;
export type PredictionSource = (typeof PREDICTION_SOURCES)[number];

/** The model that made a prediction. */
export interface LoggedModel {
  /** The registered model's name; null for a file or a run's model. */
  readonly name: string | null;
  /** The registered version; null for a file or a run's model. */
  readonly version: string | null;
  /** The run that made the model; null for a file. */
  readonly runId: string | null;
  /** The URI it was loaded from (`models:/NAME/Production`, `runs:/...`, a file path). */
  readonly uri: string;
  /** sha256 of its files (see `ServedModel.checksum`); what names a file model. */
  readonly checksum: string | null;
}

/** One logged prediction. */
export interface LoggedPrediction {
  /**
   * 32 hex digits made by `newPredictionId(timestamp)`: the time, then random digits (the log's order and
   * time windows rest on it; an id that does not begin with its time is refused). Returned to the client
   * as `prediction_id`.
   */
  readonly predictionId: string;
  /** When it was made (ms). */
  readonly timestamp: number;
  readonly model: LoggedModel;
  /** The 32 feature values in the feature schema's order (`FEATURE_NAMES`). */
  readonly features: Float64Array;
  /** Predicted probability of Parkinson's disease. */
  readonly probability: number;
  /** The predicted class: 1 when the probability is at least the threshold (0.5, or `onset predict --threshold`). */
  readonly diagnosis: 0 | 1;
  /**
   * Time to make it (ms): for HTTP, from the request's arrival to its prediction (a batch's records share
   * their request's); for a stream or `onset predict`, their batch's scoring time shared by its records.
   */
  readonly latencyMs: number;
  readonly source: PredictionSource;
  /** HMAC-SHA256 of the patient id (64 hex digits); null when none was sent. */
  readonly patientKey: string | null;
}

/** Feature values per prediction. */
export const FEATURE_COUNT = FEATURE_NAMES.length;
/** Numbers per prediction in `PredictionColumns.numbers`: timestamp, probability, latency, diagnosis. */
export const NUMBERS_PER_PREDICTION = 4;

/**
 * Predictions as they are appended to the log: in columns, row i of each being the same prediction. The
 * log is appended to on every prediction, and a column of numbers is written with no object per row (an
 * object per prediction cost the writing thread a third of its time in garbage collection).
 */
export interface PredictionColumns {
  readonly count: number;
  /** See `LoggedPrediction.predictionId`. */
  readonly ids: readonly string[];
  /** The distinct models; `modelIndex[i]` is prediction i's. */
  readonly models: readonly LoggedModel[];
  readonly modelIndex: ArrayLike<number>;
  readonly sources: readonly PredictionSource[];
  /** See `LoggedPrediction.patientKey`. */
  readonly patientKeys: readonly (string | null)[];
  /** `NUMBERS_PER_PREDICTION` per prediction: timestamp (ms), probability, latency (ms), diagnosis (0 or 1). */
  readonly numbers: Float64Array;
  /** `FEATURE_COUNT` per prediction, in schema order. */
  readonly features: Float64Array;
}

/** Predictions in columns, as `appendPredictions` takes them. */
export function predictionColumns(predictions: readonly LoggedPrediction[]): PredictionColumns {
  const count = predictions.length;
  const models: LoggedModel[] = [];
  const modelIndex = new Int32Array(count);
  const numbers = new Float64Array(count * NUMBERS_PER_PREDICTION);
  const features = new Float64Array(count * FEATURE_COUNT);
  predictions.forEach((p, i) => {
    let model = models.indexOf(p.model);
    if (model < 0) model = models.push(p.model) - 1;
    modelIndex[i] = model;
    numbers.set([p.timestamp, p.probability, p.latencyMs, p.diagnosis], i * NUMBERS_PER_PREDICTION);
    features.set(p.features.subarray(0, FEATURE_COUNT), i * FEATURE_COUNT);
  });
  return {
    count,
    ids: predictions.map((p) => p.predictionId),
    models,
    modelIndex,
    sources: predictions.map((p) => p.source),
    patientKeys: predictions.map((p) => p.patientKey),
    numbers,
    features,
  };
}

/** The ground truth recorded for a prediction (`POST /feedback`). */
export interface Label {
  readonly diagnosis: 0 | 1;
  /** When it was recorded (ms). */
  readonly recordedAt: number;
}

/** A prediction with its label. */
export interface LabelledPrediction extends LoggedPrediction {
  readonly label: Label;
}

/**
 * A window of logged predictions: those made from `from` (inclusive) to `to` (exclusive), of one model
 * name and version when given. Every bound is optional; the time bounds are what makes a window cheap to
 * read (a model's predictions are looked for within them).
 */
export interface PredictionWindow {
  readonly from?: number;
  readonly to?: number;
  readonly modelName?: string;
  readonly modelVersion?: string;
}

/**
 * A column `readColumns` reads: a feature by name, or `timestamp`, `probability`, `diagnosis`,
 * `latencyMs`, or `label` (the recorded diagnosis, NaN where there is none).
 */
export type LogColumn = FeatureName | 'timestamp' | 'probability' | 'diagnosis' | 'latencyMs' | 'label';

/** Columns of a window, row i of each being the same prediction, in time order. */
export interface ColumnWindow<C extends LogColumn> {
  readonly rows: number;
  readonly columns: { readonly [K in C]: Float64Array };
}

export interface ColumnWindowOptions {
  /** At most this many predictions: the latest of the window (default: all of it). */
  readonly maxRows?: number;
  /** Only the predictions with a label (default false). */
  readonly labelledOnly?: boolean;
  /** How many rows each query reads (default 10,000): a window is read a page at a time. */
  readonly pageRows?: number;
}

/** What a feedback names: a prediction by its id, or the latest prediction of a patient by its key. */
export type FeedbackTarget = { readonly predictionId: string } | { readonly patientKey: string };

export interface FeedbackInput {
  readonly target: FeedbackTarget;
  readonly diagnosis: 0 | 1;
}

/** A label stored (`recorded`), or found already stored with the same diagnosis (`unchanged`). */
export interface FeedbackOutcome {
  readonly predictionId: string;
  readonly diagnosis: 0 | 1;
  readonly status: 'recorded' | 'unchanged';
  readonly recordedAt: number;
}

/**
 * Why a feedback record cannot be recorded: its target names no logged prediction (`unknown`), or its
 * prediction already has another diagnosis (`conflict`, recorded earlier or by an earlier record of the
 * same call: `earlierIndex`).
 */
export type FeedbackProblem =
  | { readonly index: number; readonly reason: 'unknown' }
  | {
      readonly index: number;
      readonly reason: 'conflict';
      readonly predictionId: string;
      readonly recorded: Label;
      readonly earlierIndex?: number;
    };

/** Every record recorded (or found unchanged), or nothing recorded and every problem found. */
export type FeedbackResult =
  | { readonly ok: true; readonly outcomes: readonly FeedbackOutcome[] }
  | { readonly ok: false; readonly problems: readonly FeedbackProblem[] };

/** A window and a page of it. */
export interface WindowQuery extends PredictionWindow, PageRequest {}

/**
 * The prediction log's storage (the SQL implementation is `sql/sql-prediction-log-store.ts`, in the
 * tracking database). Listings are in time order (oldest first; by prediction id, which begins with the
 * time) unless said otherwise, and page with `maxResults` (default 100, at most 1,000) and the previous page's token.
 */
export interface PredictionLogStore {
  /** Appends predictions (all of them or none). Their ids must be new. */
  appendPredictions(predictions: PredictionColumns): Promise<void>;
  /** The predictions of a window, a page at a time. */
  listPredictions(query: WindowQuery): Promise<Page<LoggedPrediction>>;
  /** How many predictions a window holds. */
  countPredictions(window: PredictionWindow): Promise<number>;
  /**
   * Some columns of a window as arrays (for drift and performance: one feature over many predictions),
   * in time order.
   */
  readColumns<C extends LogColumn>(
    window: PredictionWindow,
    columns: readonly C[],
    options?: ColumnWindowOptions,
  ): Promise<ColumnWindow<C>>;
  /** One prediction; RESOURCE_DOES_NOT_EXIST when no prediction has that id. */
  getPrediction(predictionId: string): Promise<LoggedPrediction>;
  /** A patient's predictions by their key, newest first. */
  findByPatientKey(patientKey: string, page?: PageRequest): Promise<Page<LoggedPrediction>>;
  /** Deletes predictions by id, with their labels; answers how many there were. */
  deletePredictions(predictionIds: readonly string[]): Promise<number>;
  /** Deletes the predictions made before `timestamp` (ms), with their labels; answers how many. */
  deleteOlderThan(timestamp: number): Promise<number>;
  /** Deletes the oldest predictions beyond the latest `maxRows`, with their labels; answers how many. */
  deleteBeyondRows(maxRows: number): Promise<number>;
  /**
   * Records ground truth: each record's target is resolved (a patient key to that patient's latest
   * prediction) and labelled. The same diagnosis again changes nothing (`unchanged`); any record that
   * cannot be recorded (unknown target, a conflicting diagnosis) records none of them.
   */
  recordFeedback(records: readonly FeedbackInput[]): Promise<FeedbackResult>;
  /** A prediction's label, if it has one. */
  getLabel(predictionId: string): Promise<Label | undefined>;
  /** The predictions of a window that have a label, with it. */
  listLabelledPredictions(query: WindowQuery): Promise<Page<LabelledPrediction>>;
}
