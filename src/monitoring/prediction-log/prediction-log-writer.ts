import { OnsetError } from '../../errors.js';
import type { OnsetMetrics } from '../metrics.js';
import type { PatientKeys } from './patient-keys.js';
import { newPredictionId } from './prediction-id.js';
import type {
  LoggedModel,
  LoggedPrediction,
  PredictionLogStore,
  PredictionSource,
} from './prediction-log-store.js';

/** A prediction as a prediction path hands it to the log. */
export interface PredictionToLog {
  readonly model: LoggedModel;
  /** The 32 feature values in schema order; kept by reference until written, so not to be changed. */
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
  readonly store: PredictionLogStore;
  readonly patientKeys: PatientKeys;
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

interface Waiting {
  readonly predictionId: string;
  readonly timestamp: number;
  readonly prediction: PredictionToLog;
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
  readonly #store: PredictionLogStore;
  readonly #keys: PatientKeys;
  readonly #metrics: OnsetMetrics | undefined;
  readonly #maxQueue: number;
  readonly #batchSize: number;
  readonly #maxAttempts: number;
  readonly #onDropped: ((error: unknown, count: number) => void) | undefined;
  /** Waiting predictions, oldest first; the batch being written stays at the front until it is written. */
  #queue: Waiting[] = [];
  #writing: Promise<void> | undefined;
  #soon: NodeJS.Immediate | undefined;
  readonly #timer: NodeJS.Timeout;
  #failures = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: PredictionLogWriterOptions) {
    this.#store = options.store;
    this.#keys = options.patientKeys;
    this.#metrics = options.metrics;
    this.#maxQueue = Math.max(1, options.maxQueue ?? 10_000);
    this.#batchSize = Math.max(1, options.batchSize ?? 500);
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.#onDropped = options.onDropped;
    this.#timer = setInterval(() => void this.flush(), Math.max(1, options.flushMs ?? 500));
    this.#timer.unref();
    this.#metrics?.watchPredictionLogQueue(() => this.#queue.length);
  }

  /** Predictions waiting to be written. */
  get queued(): number {
    return this.#queue.length;
  }

  record(prediction: PredictionToLog): string {
    if (this.#closed) {
      throw new OnsetError('INTERNAL_ERROR', 'The prediction log is closed: nothing more can be recorded');
    }
    const timestamp = prediction.timestamp ?? Date.now();
    const predictionId = newPredictionId(timestamp);
    if (this.#queue.length >= this.#maxQueue) {
      this.#metrics?.countLogDrops('queue_full', 1);
      return predictionId;
    }
    this.#queue.push({ predictionId, timestamp, prediction });
    // A full batch is written after the current turn (the answer goes out first).
    if (this.#queue.length >= this.#batchSize && this.#writing === undefined && this.#soon === undefined) {
      this.#soon = setImmediate(() => {
        this.#soon = undefined;
        void this.flush();
      });
    }
    return predictionId;
  }

  flush(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    if (this.#writing === undefined) {
      this.#writing = this.#drain(false).finally(() => {
        this.#writing = undefined;
      });
    }
    return this.#writing;
  }

  /** Stops the timer and writes everything waiting (a batch the database refuses now is dropped and counted). */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closed = true;
      clearInterval(this.#timer);
      if (this.#soon !== undefined) clearImmediate(this.#soon);
      const writing = this.#writing;
      this.#closing = (async () => {
        await writing;
        await this.#drain(true);
      })();
    }
    return this.#closing;
  }

  /**
   * Writes what waited when it started, then full batches while there are: records arriving meanwhile
   * wait for a full batch or the next flush, so a busy server writes large batches.
   */
  async #drain(final: boolean): Promise<void> {
    let owed = this.#queue.length;
    while (this.#queue.length > 0 && (owed > 0 || this.#queue.length >= this.#batchSize)) {
      const batch = this.#queue.slice(0, this.#batchSize);
      try {
        await this.#store.appendPredictions(batch.map((waiting) => this.#toLogged(waiting)));
        this.#metrics?.predictionLogWritten.inc(batch.length);
        this.#failures = 0;
      } catch (error) {
        this.#failures += 1;
        if (!final && this.#failures < this.#maxAttempts) return; // tried again at the next flush
        this.#failures = 0;
        this.#metrics?.countLogDrops('write_failed', batch.length);
        this.#onDropped?.(error, batch.length);
      }
      this.#queue.splice(0, batch.length);
      owed -= batch.length;
    }
  }

  #toLogged({ predictionId, timestamp, prediction }: Waiting): LoggedPrediction {
    return {
      predictionId,
      timestamp,
      model: prediction.model,
      features: prediction.features,
      probability: prediction.probability,
      diagnosis: prediction.diagnosis,
      latencyMs: prediction.latencyMs,
      source: prediction.source,
      patientKey: prediction.patientId === null ? null : this.#keys.keyOf(prediction.patientId),
    };
  }
}
