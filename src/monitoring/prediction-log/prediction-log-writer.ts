import { OnsetError } from '../../errors.js';
import type { OnsetMetrics } from '../metrics.js';
import type { PredictionBatch, PredictionBatchSink } from './prediction-batch.js';
import { newPredictionId } from './prediction-id.js';
import {
  FEATURE_COUNT,
  type LoggedModel,
  NUMBERS_PER_PREDICTION,
  type PredictionSource,
} from './prediction-log-store.js';

/** A prediction as a prediction path hands it to the log. */
export interface PredictionToLog {
  readonly model: LoggedModel;
  /** The 32 feature values in schema order; copied when recorded, so the caller may reuse the array. */
  readonly features: Float64Array;
  readonly probability: number;
  readonly diagnosis: 0 | 1;
  /** See `LoggedPrediction.latencyMs`. */
  readonly latencyMs: number;
  readonly source: PredictionSource;
  /** In clear: only its key is stored (see `PatientKeys`); null when none was sent. */
  readonly patientId: string | null;
  /** When it was made (ms); now when left out. */
  readonly timestamp?: number;
}

/**
 * What every prediction path calls (the HTTP routes, the stream path, batch scoring): records one
 * prediction and answers its new id at once; the writing happens later, off the request's path.
 */
export interface PredictionRecorder {
  record(prediction: PredictionToLog): string;
  /** Writes everything recorded so far (what waits for the next flush included). */
  flush(): Promise<void>;
}

export interface PredictionLogWriterOptions {
  /** Where batches are written: a `StoreSink` (this thread) or a `WorkerSink` (a thread of its own). */
  readonly sink: PredictionBatchSink;
  readonly metrics?: OnsetMetrics;
  /** Most predictions waiting in memory, those being written included (default 10,000). */
  readonly maxQueue?: number;
  /** How often waiting predictions are written (ms, default 500). */
  readonly flushMs?: number;
  /** Most predictions per write; as many waiting are written at once (default 500). */
  readonly batchSize?: number;
  /** Writes of one batch tried, a flush interval apart, before it is dropped (default 3). */
  readonly maxAttempts?: number;
  /** A batch dropped because the database refused it (for the server log; no patient data in `error`). */
  readonly onDropped?: (error: unknown, count: number) => void;
}

/**
 * Waiting predictions, a batch's worth, in columns: copied in as they are recorded, so that nothing of a
 * request (its objects, its feature array) lives until the write. A busy server records thousands a
 * second; objects kept that long would each survive a collection or two, which costs more than the copy.
 */
class Block implements PredictionBatch {
  readonly ids: string[] = [];
  readonly patientIds: (string | null)[] = [];
  readonly sources: PredictionSource[] = [];
  readonly models: LoggedModel[] = [];
  readonly modelIndex: number[] = [];
  readonly numbers: Float64Array;
  readonly features: Float64Array;
  count = 0;

  constructor(readonly capacity: number) {
    this.numbers = new Float64Array(capacity * NUMBERS_PER_PREDICTION);
    this.features = new Float64Array(capacity * FEATURE_COUNT);
  }

  add(predictionId: string, timestamp: number, prediction: PredictionToLog): void {
    const i = this.count++;
    this.ids[i] = predictionId;
    this.patientIds[i] = prediction.patientId;
    this.sources[i] = prediction.source;
    // Usually one model, sometimes two (a swap during the batch).
    let model = this.models.lastIndexOf(prediction.model);
    if (model < 0) model = this.models.push(prediction.model) - 1;
    this.modelIndex[i] = model;
    const at = i * NUMBERS_PER_PREDICTION;
    this.numbers[at] = timestamp;
    this.numbers[at + 1] = prediction.probability;
    this.numbers[at + 2] = prediction.latencyMs;
    this.numbers[at + 3] = prediction.diagnosis;
    this.features.set(prediction.features.subarray(0, FEATURE_COUNT), i * FEATURE_COUNT);
  }
}

/**
 * The prediction log's writer: a bounded queue in memory, written to the store in batches, every
 * `flushMs` or as soon as `batchSize` predictions wait, one write at a time.
 *
 * When the writer falls behind and `maxQueue` predictions wait, a new prediction is not queued: the
 * newest are dropped (and counted, `onset_prediction_log_dropped_total{reason="queue_full"}`) rather than
 * the older ones already waiting, so the log keeps an unbroken stretch up to the overload instead of a
 * sample scattered over it, and serving never waits for the database. The prediction itself is answered
 * as usual (with its id, which then names nothing in the log). A batch the database refuses is tried again
 * at the next flushes, then dropped and counted (`reason="write_failed"`). `close` writes everything
 * still waiting.
 */
export class PredictionLogWriter implements PredictionRecorder {
  readonly #sink: PredictionBatchSink;
  readonly #metrics: OnsetMetrics | undefined;
  readonly #maxQueue: number;
  readonly #batchSize: number;
  readonly #maxAttempts: number;
  readonly #onDropped: ((error: unknown, count: number) => void) | undefined;
  /**
   * Waiting predictions in blocks of `batchSize`, oldest first: the last one fills, the others are full or
   * sealed by a flush; the block being written stays at the front until it is written.
   */
  readonly #blocks: Block[] = [];
  /** Predictions in the blocks. */
  #queued = 0;
  #writing: Promise<void> | undefined;
  #soon: NodeJS.Immediate | undefined;
  readonly #timer: NodeJS.Timeout;
  /** The block a flush is writing up to: records go to a new one from then on. */
  #sealed: Block | undefined;
  #failures = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: PredictionLogWriterOptions) {
    this.#sink = options.sink;
    this.#metrics = options.metrics;
    this.#maxQueue = Math.max(1, options.maxQueue ?? 10_000);
    this.#batchSize = Math.max(1, options.batchSize ?? 500);
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.#onDropped = options.onDropped;
    this.#timer = setInterval(() => void this.#drainNow(), Math.max(1, options.flushMs ?? 500));
    this.#timer.unref();
    this.#metrics?.watchPredictionLogQueue(() => this.#queued);
  }

  /** Predictions waiting to be written. */
  get queued(): number {
    return this.#queued;
  }

  record(prediction: PredictionToLog): string {
    if (this.#closed) {
      throw new OnsetError('INTERNAL_ERROR', 'The prediction log is closed: nothing more can be recorded');
    }
    const timestamp = prediction.timestamp ?? Date.now();
    const predictionId = newPredictionId(timestamp);
    if (this.#queued >= this.#maxQueue) {
      this.#metrics?.countLogDrops('queue_full', 1);
      return predictionId;
    }
    let last = this.#blocks[this.#blocks.length - 1];
    if (last === undefined || last.count === last.capacity || this.#sealed === last) {
      last = new Block(this.#batchSize);
      this.#blocks.push(last);
    }
    last.add(predictionId, timestamp, prediction);
    this.#queued += 1;
    // A full batch is written after the current turn (the answer goes out first).
    if (last.count === last.capacity && this.#writing === undefined && this.#soon === undefined) {
      this.#soon = setImmediate(() => {
        this.#soon = undefined;
        void this.#drainNow();
      });
    }
    return predictionId;
  }

  flush(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    // A write under way may have begun before the latest records and leave them for a later flush: write
    // again once it is done (or join the write begun meanwhile, which began after them).
    if (this.#writing !== undefined) return this.#writing.then(() => this.#drainNow());
    return this.#drainNow();
  }

  /** Starts writing what waits, or answers the write under way (the timer's and a full batch's way). */
  #drainNow(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    if (this.#writing === undefined) {
      this.#writing = this.#drain(false).finally(() => {
        this.#writing = undefined;
      });
    }
    return this.#writing;
  }

  /**
   * Stops the timer, writes everything waiting (a batch the database refuses now is dropped and
   * counted), then closes the sink.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closed = true;
      clearInterval(this.#timer);
      if (this.#soon !== undefined) clearImmediate(this.#soon);
      const writing = this.#writing;
      this.#closing = (async () => {
        await writing;
        await this.#drain(true);
        await this.#sink.close();
      })();
    }
    return this.#closing;
  }

  /**
   * Writes the blocks that waited when it started (sealing the one that was filling), then the blocks
   * that fill meanwhile: records arriving during a write wait for a full batch or the next flush, so a
   * busy server writes full batches.
   */
  async #drain(final: boolean): Promise<void> {
    let owed = this.#blocks.length;
    this.#sealed = this.#blocks[owed - 1];
    while (this.#blocks.length > 0) {
      const block = this.#blocks[0]!;
      if (owed <= 0 && block.count < block.capacity) break;
      if (block.count > 0) {
        try {
          await this.#sink.write(block);
          this.#metrics?.predictionLogWritten.inc(block.count);
          this.#failures = 0;
        } catch (error) {
          this.#failures += 1;
          if (!final && this.#failures < this.#maxAttempts) return; // tried again at the next flush
          this.#failures = 0;
          this.#metrics?.countLogDrops('write_failed', block.count);
          this.#onDropped?.(error, block.count);
        }
      }
      this.#blocks.shift();
      this.#queued -= block.count;
      if (this.#sealed === block) this.#sealed = undefined;
      owed -= 1;
    }
  }
}
