import type { Worker } from 'node:worker_threads';
import { OnsetError } from '../../errors.js';
import { startWorker } from '../../ml/parallel/start-worker.js';
import {
  type LogWorkerData,
  type LogWorkerReply,
  type LogWorkerRequest,
  packBatch,
} from './log-worker-protocol.js';
import type { PredictionBatch, PredictionBatchSink } from './prediction-batch.js';

/**
 * The worker's heap: it holds one batch at a time (the writer sends the next when this one is written),
 * and V8's default young generation (tens of MB) would add that much to the server's resident memory.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 };

/** How long a listening worker that died waits before it is started again (not a tight loop if it keeps dying). */
const RESTART_PAUSE_MS = 1_000;

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * A sink that writes in a worker thread (`log-worker.ts`) with its own connection to the database, so
 * that the inserts cost the thread answering requests nothing but handing the batch over. A worker that
 * dies fails the writes in flight, and the next write starts another; one that listens for other
 * processes (`socketPath`) is started again at once, at the same path, for them to connect to again.
 */
export class WorkerSink implements PredictionBatchSink {
  readonly #data: LogWorkerData;
  #worker: Promise<Worker> | undefined;
  readonly #pending = new Map<number, Pending>();
  #seq = 0;
  #closing = false;

  private constructor(data: LogWorkerData) {
    this.#data = data;
  }

  /**
   * Starts the worker and waits until it has opened the database, and listens at `data.socketPath` if
   * given (rejects, saying why, if it cannot).
   */
  static async start(data: LogWorkerData): Promise<WorkerSink> {
    const sink = new WorkerSink(data);
    await sink.#ensure();
    return sink;
  }

  #ensure(): Promise<Worker> {
    this.#worker ??= new Promise<Worker>((resolve, reject) => {
      const worker = startWorker(import.meta.url, 'log-worker', this.#data, WORKER_LIMITS);
      // The server decides when it ends (stop() closes this sink first).
      worker.unref();
      let ready = false;
      worker.on('message', (reply: LogWorkerReply) => {
        if (reply.type === 'ready') {
          ready = true;
          resolve(worker);
        } else if (reply.type === 'failed') {
          reject(
            new OnsetError('INTERNAL_ERROR', `The prediction log cannot open its database: ${reply.message}`),
          );
        } else if (reply.type === 'written' || reply.type === 'refused') {
          const pending = this.#pending.get(reply.seq);
          this.#pending.delete(reply.seq);
          if (reply.type === 'written') pending?.resolve();
          else pending?.reject(new Error(reply.message));
        }
      });
      const lost = (why: string) => {
        this.#worker = undefined;
        const error = new Error(`the prediction log's writing thread ${why}`);
        if (!ready) reject(error);
        for (const pending of this.#pending.values()) pending.reject(error);
        this.#pending.clear();
        if (ready && this.#data.socketPath !== undefined && !this.#closing) {
          setTimeout(() => {
            if (!this.#closing) this.#ensure().catch(() => undefined);
          }, RESTART_PAUSE_MS).unref();
        }
      };
      worker.on('error', (error) => lost(`failed: ${error.message}`));
      worker.on('exit', (code) => lost(`exited (${code})`));
    });
    // A worker that could not start is not kept: the next write tries again.
    this.#worker.catch(() => {
      this.#worker = undefined;
    });
    return this.#worker;
  }

  /** Writes a batch; its arrays are moved to the thread (copies: the batch stays whole to be sent again). */
  async write(batch: PredictionBatch): Promise<void> {
    const worker = await this.#ensure();
    const seq = ++this.#seq;
    const written = new Promise<void>((resolve, reject) => this.#pending.set(seq, { resolve, reject }));
    const { packed, transfer } = packBatch(batch);
    worker.postMessage({ type: 'write', seq, batch: packed } satisfies LogWorkerRequest, transfer);
    return written;
  }

  async close(): Promise<void> {
    this.#closing = true;
    const starting = this.#worker;
    if (starting === undefined) return;
    const worker = await starting.catch(() => undefined);
    if (worker === undefined) return;
    await new Promise<void>((resolve) => {
      worker.on('message', (reply: LogWorkerReply) => {
        if (reply.type === 'closed') resolve();
      });
      worker.once('exit', () => resolve());
      worker.postMessage({ type: 'close' } satisfies LogWorkerRequest);
    });
    this.#worker = undefined;
    await worker.terminate();
  }
}
