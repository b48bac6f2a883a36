import { FEATURE_NAMES } from '../../data/schema.js';
import type { PatientKeys } from './patient-keys.js';
import type {
  LoggedModel,
  LoggedPrediction,
  PredictionLogStore,
  PredictionSource,
} from './prediction-log-store.js';

/** Feature values per prediction. */
export const FEATURE_COUNT = FEATURE_NAMES.length;
/** Numbers per prediction in `PredictionBatch.numbers`: timestamp, probability, latency, diagnosis. */
export const NUMBERS_PER_PREDICTION = 4;

/**
 * Predictions as the writer hands them over to be written: in columns, with patient ids still in clear
 * (they are keyed where the batch is written). Plain data, so that it crosses to a worker thread as is.
 */
export interface PredictionBatch {
  readonly count: number;
  readonly ids: readonly string[];
  readonly patientIds: readonly (string | null)[];
  readonly sources: readonly PredictionSource[];
  /** The distinct models of the batch; `modelIndex[i]` is prediction i's. */
  readonly models: readonly LoggedModel[];
  readonly modelIndex: readonly number[];
  /** `NUMBERS_PER_PREDICTION` per prediction: timestamp (ms), probability, latency (ms), diagnosis (0 or 1). */
  readonly numbers: Float64Array;
  /** `FEATURE_COUNT` per prediction, in schema order. */
  readonly features: Float64Array;
}

/** The predictions of a batch as the store takes them, their patient ids keyed (features are views of the batch's). */
export function loggedPredictions(batch: PredictionBatch, keys: PatientKeys): LoggedPrediction[] {
  return Array.from({ length: batch.count }, (_, i) => {
    const patientId = batch.patientIds[i]!;
    const at = i * NUMBERS_PER_PREDICTION;
    return {
      predictionId: batch.ids[i]!,
      timestamp: batch.numbers[at]!,
      model: batch.models[batch.modelIndex[i]!]!,
      features: batch.features.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT),
      probability: batch.numbers[at + 1]!,
      latencyMs: batch.numbers[at + 2]!,
      diagnosis: batch.numbers[at + 3] === 1 ? 1 : 0,
      source: batch.sources[i]!,
      patientKey: patientId === null ? null : keys.keyOf(patientId),
    };
  });
}

/** Where the writer's batches go. */
export interface PredictionBatchSink {
  /** Writes a batch, all of it or none (rejects when the database refuses it). */
  write(batch: PredictionBatch): Promise<void>;
  /** Releases what the sink holds (a worker, a connection); after what was written is written. */
  close(): Promise<void>;
}

/** A sink that writes on this thread, into a store the caller owns (and closes). */
export class StoreSink implements PredictionBatchSink {
  constructor(
    private readonly store: PredictionLogStore,
    private readonly keys: PatientKeys,
  ) {}

  write(batch: PredictionBatch): Promise<void> {
    return this.store.appendPredictions(loggedPredictions(batch, this.keys));
  }

  async close(): Promise<void> {}
}
