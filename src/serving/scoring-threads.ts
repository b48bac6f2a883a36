import type { Worker } from 'node:worker_threads';
import { OnsetError } from '../errors.js';
import { createMatrix } from '../math/matrix.js';
import type { FittedModel } from '../ml/estimator.js';
import { startWorker } from '../ml/parallel/start-worker.js';
import type { ScoringReply, ScoringRequest, ScoringThreadData } from './scoring-protocol.js';

/** A batch's probabilities, its features (given back), and the time the model took per row. */
export interface ScoredBatch {
  readonly probabilities: Float64Array;
  readonly features: Float64Array;
  readonly latencyMs: number;
}

/**
 * Scores batches of rows (`rows × cols` features, row-major). `score` may take the buffer over (another
 * thread's), so a caller gives it one it no longer uses and gets it back in the answer. Answers come in
 * the order asked for.
 */
export interface BatchScorer {
  score(features: Float64Array, rows: number): Promise<ScoredBatch>;
  /** Ends the scorer's threads (if any); batches still being scored are refused. */
  close(): Promise<void>;
}

/** Scores on the calling thread. */
export function scorerOnThisThread(model: Pick<FittedModel, 'predictProba'>, cols: number): BatchScorer {
  return {
    async score(features, rows) {
      const started = performance.now();
      const probabilities = model.predictProba(createMatrix(features.subarray(0, rows * cols), rows, cols));
      return { probabilities, features, latencyMs: (performance.now() - started) / Math.max(rows, 1) };
    },
    async close() {},
  };
}

/**
 * Scores on `threads` worker threads, each with its own copy of the model at `modelPath` (loaded as
 * `loadModelPath` loads it, so the probabilities are the ones this thread would compute). Batches go to
 * the threads in turn, their buffers moved rather than copied both ways. A thread that fails (its model
 * will not load, it runs out of memory) fails every batch it was given and every batch after.
 */
export function startScoringThreads(modelPath: string, threads: number, cols: number): BatchScorer {
  const data: ScoringThreadData = { modelPath, cols };
  const waiting = new Map<
    number,
    { resolve: (batch: ScoredBatch) => void; reject: (error: Error) => void }
  >();
  let failure: Error | undefined;
  let next = 0;
  const fail = (error: Error) => {
    failure ??= error;
    for (const { reject } of waiting.values()) reject(failure);
    waiting.clear();
  };
  const workers: Worker[] = Array.from({ length: threads }, () => {
    const worker = startWorker(import.meta.url, 'scoring-thread', data);
    worker.on('message', (reply: ScoringReply) => {
      const asked = waiting.get(reply.id);
      if (asked === undefined) return;
      waiting.delete(reply.id);
      if ('error' in reply) {
        fail(new OnsetError('INTERNAL_ERROR', `A scoring thread failed: ${reply.error}`));
        asked.reject(failure!);
        return;
      }
      asked.resolve({
        probabilities: reply.probabilities,
        features: reply.features,
        latencyMs: reply.latencyMs,
      });
    });
    worker.on('error', (error) =>
      fail(new OnsetError('INTERNAL_ERROR', `A scoring thread failed: ${error.message}`)),
    );
    worker.on('exit', (code) => {
      if (code !== 0) fail(new OnsetError('INTERNAL_ERROR', `A scoring thread stopped (exit code ${code})`));
    });
    return worker;
  });
  return {
    score(features, rows) {
      if (failure !== undefined) return Promise.reject(failure);
      const id = next++;
      const worker = workers[id % workers.length]!;
      return new Promise<ScoredBatch>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        const request: ScoringRequest = { id, features, rows };
        worker.postMessage(request, [features.buffer as ArrayBuffer]);
      });
    },
    async close() {
      fail(new OnsetError('INTERNAL_ERROR', 'The scoring threads were closed'));
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}
