import type { PredictionBatch } from './prediction-batch.js';
import {
  FEATURE_COUNT,
  type LoggedModel,
  NUMBERS_PER_PREDICTION,
  PREDICTION_SOURCES,
} from './prediction-log-store.js';

/** What the writing thread of the prediction log is started with. */
export interface LogWorkerData {
  /** The database the log is in (`ONSET_TRACKING_URI`); its tables are already migrated. */
  readonly databaseUri: string;
  /** The patient keys' secret. */
  readonly secret: string;
  /**
   * Where to take batches from other processes too (`log-socket.ts`): a cluster's workers write to it
   * directly, not through the primary's main thread.
   */
  readonly socketPath?: string;
}

/**
 * A batch as it crosses to the worker: its numbers moved (transferred, not copied) and its strings
 * packed into a few long ones, since copying hundreds of small strings cost the sending thread more
 * than the rest of the hand-over.
 */
export interface PackedBatch {
  readonly count: number;
  /** The ids one after the other (32 characters each). */
  readonly ids: string;
  /** The patient ids one after the other; `patientLengths[i]` is i's length, -1 for none. */
  readonly patients: string;
  readonly patientLengths: Int32Array;
  /** Index in `PREDICTION_SOURCES` of each prediction's source. */
  readonly sources: Uint8Array;
  readonly models: readonly LoggedModel[];
  readonly modelIndex: Int32Array;
  readonly numbers: Float64Array;
  readonly features: Float64Array;
}

const SOURCE_CODES: ReadonlyMap<string, number> = new Map(PREDICTION_SOURCES.map((source, i) => [source, i]));

/**
 * Packs a batch, and lists the buffers to transfer with it: copies of its arrays (a memory copy, cheap),
 * so that the batch itself stays whole to be sent again if the write fails.
 */
export function packBatch(batch: PredictionBatch): { packed: PackedBatch; transfer: ArrayBuffer[] } {
  const patientLengths = new Int32Array(batch.count);
  const sources = new Uint8Array(batch.count);
  for (let i = 0; i < batch.count; i++) {
    const patient = batch.patientIds[i]!;
    patientLengths[i] = patient === null ? -1 : patient.length;
    sources[i] = SOURCE_CODES.get(batch.sources[i]!)!;
  }
  const packed: PackedBatch = {
    count: batch.count,
    ids: batch.ids.slice(0, batch.count).join(''),
    patients: batch.patientIds.slice(0, batch.count).join(''),
    patientLengths,
    sources,
    models: batch.models,
    modelIndex: Int32Array.from({ length: batch.count }, (_, i) => batch.modelIndex[i]!),
    numbers: batch.numbers.slice(0, batch.count * NUMBERS_PER_PREDICTION),
    features: batch.features.slice(0, batch.count * FEATURE_COUNT),
  };
  return { packed, transfer: transferOf(packed) };
}

/** The buffers of a packed batch's arrays, moved rather than copied when it crosses to the worker. */
function transferOf(packed: PackedBatch): ArrayBuffer[] {
  return [
    packed.patientLengths.buffer as ArrayBuffer,
    packed.sources.buffer as ArrayBuffer,
    packed.modelIndex.buffer as ArrayBuffer,
    packed.numbers.buffer as ArrayBuffer,
    packed.features.buffer as ArrayBuffer,
  ];
}

/** The batch a packed one stands for. */
export function unpackBatch(packed: PackedBatch): PredictionBatch {
  const ids: string[] = new Array(packed.count);
  const patientIds: (string | null)[] = new Array(packed.count);
  const sources = new Array(packed.count);
  let at = 0;
  for (let i = 0; i < packed.count; i++) {
    ids[i] = packed.ids.slice(i * 32, (i + 1) * 32);
    const length = packed.patientLengths[i]!;
    patientIds[i] = length < 0 ? null : packed.patients.slice(at, at + length);
    if (length > 0) at += length;
    sources[i] = PREDICTION_SOURCES[packed.sources[i]!]!;
  }
  return {
    count: packed.count,
    ids,
    patientIds,
    sources,
    models: packed.models,
    modelIndex: packed.modelIndex,
    numbers: packed.numbers,
    features: packed.features,
  };
}

/** From the server to the worker. */
export type LogWorkerRequest =
  | { readonly type: 'write'; readonly seq: number; readonly batch: PackedBatch }
  | { readonly type: 'close' };

/** From the worker to the server. */
export type LogWorkerReply =
  /** Open, and listening when asked to. */
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'written'; readonly seq: number }
  | { readonly type: 'refused'; readonly seq: number; readonly message: string }
  | { readonly type: 'closed' };
