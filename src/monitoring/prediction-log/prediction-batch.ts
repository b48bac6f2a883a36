import type { PatientKeys } from './patient-keys.js';
import type { PredictionColumns, PredictionLogStore } from './prediction-log-store.js';

/**
 * Predictions as the writer hands them over to be written: the log's columns, with patient ids still in
 * clear (they are keyed where the batch is written). Plain data, so that it crosses to a worker thread as is.
 */
export interface PredictionBatch extends Omit<PredictionColumns, 'patientKeys'> {
  readonly patientIds: readonly (string | null)[];
}

/** The columns of a batch as the store takes them: its patient ids keyed, everything else shared. */
export function keyedColumns(batch: PredictionBatch, keys: PatientKeys): PredictionColumns {
  const patientKeys = new Array<string | null>(batch.count);
  for (let i = 0; i < batch.count; i++) {
    const patientId = batch.patientIds[i]!;
    patientKeys[i] = patientId === null ? null : keys.keyOf(patientId);
  }
  return { ...batch, patientKeys };
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
    return this.store.appendPredictions(keyedColumns(batch, this.keys));
  }

  async close(): Promise<void> {}
}
