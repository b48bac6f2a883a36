import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { stratifiedKFold } from '../../data/splits.js';
import { OnsetError } from '../../errors.js';
import type { Matrix } from '../../math/matrix.js';
import {
  assembleCrossValidation,
  type CrossValidationOptions,
  type CrossValidationResult,
  type FoldExecutor,
} from '../cross-validate.js';
import type { EstimatorName } from '../estimator.js';
import { createEstimator } from '../estimator-registry.js';
import { CONTROL, FOLD_SLOTS, FOLD_STATUS, type FoldTask, type WorkerData } from './fold-protocol.js';
import { type SharedFoldState, sharedViews, workOnFolds } from './fold-work.js';
import { startWorker } from './start-worker.js';

/** How long the main thread waits for the worker's folds without any progress before giving up. */
const STALL_MS = 10 * 60 * 1000;

/** Whether a second core is there to use. */
export function canRunFoldsInParallel(): boolean {
  return availableParallelism() > 1;
}

/**
 * Cross-validates on two threads: this one and a worker that shares the training data. Both take folds
 * from a shared counter, so the two cores stay busy; metrics are computed here from the shared
 * out-of-fold probabilities, so results equal a single-threaded run. `tune` keeps one for all its trials.
 * `crossValidate` blocks (Atomics.wait) until every fold is done; `close` ends the worker.
 */
export class ParallelFoldExecutor implements FoldExecutor {
  private readonly state: SharedFoldState;
  private readonly worker: Worker;
  private readonly maxFolds: number;
  private generation = 0;

  constructor(x: Matrix, y: Float64Array, maxFolds = 64) {
    const shared = (bytes: number) => new SharedArrayBuffer(Math.max(8, bytes));
    const data: WorkerData = {
      x: shared(x.data.byteLength),
      y: shared(y.byteLength),
      rows: x.rows,
      cols: x.cols,
      control: shared(CONTROL.size * 4),
      probabilities: shared(y.length * 8),
      fitSeconds: shared(maxFolds * 8),
      status: shared(maxFolds * 4),
      error: shared(2048),
      maxFolds,
    };
    new Float64Array(data.x).set(x.data);
    new Float64Array(data.y).set(y);
    this.state = sharedViews(data);
    this.maxFolds = maxFolds;
    this.worker = startWorker(import.meta.url, 'fold-worker', data);
    // A worker that fails to start only means this thread does every fold.
    this.worker.on('error', () => undefined);
    this.worker.unref();
  }

  crossValidate(
    estimator: EstimatorName,
    params: Readonly<Record<string, unknown>>,
    options: Pick<CrossValidationOptions, 'folds' | 'seed' | 'threshold'>,
  ): CrossValidationResult {
    if (options.folds > this.maxFolds || options.folds > FOLD_SLOTS) {
      throw new OnsetError(
        'INVALID_PARAMETER_VALUE',
        `At most ${Math.min(this.maxFolds, FOLD_SLOTS)} folds can run in parallel`,
      );
    }
    createEstimator(estimator, params); // fail fast, here, on bad parameters
    const { control, status, probabilities, fitSeconds, error } = this.state;
    this.generation++;
    status.fill(FOLD_STATUS.pending);
    probabilities.fill(Number.NaN);
    Atomics.store(control, CONTROL.done, 0);
    Atomics.store(control, CONTROL.next, this.generation * FOLD_SLOTS);
    const task: FoldTask = {
      generation: this.generation,
      estimator,
      params,
      folds: options.folds,
      seed: options.seed,
    };
    this.worker.postMessage(task);
    workOnFolds(this.state, task);

    let lastProgress = Date.now();
    for (;;) {
      const done = Atomics.load(control, CONTROL.done);
      if (done >= options.folds) break;
      if (Atomics.wait(control, CONTROL.done, done, 1000) !== 'timed-out') lastProgress = Date.now();
      else if (Date.now() - lastProgress > STALL_MS) {
        throw new OnsetError('INTERNAL_ERROR', 'Cross-validation stalled: the fold worker stopped answering');
      }
    }
    for (let fold = 0; fold < options.folds; fold++) {
      if (status[fold] === FOLD_STATUS.failed) {
        const message = new TextDecoder().decode(
          error.slice(0, error.indexOf(0) >= 0 ? error.indexOf(0) : error.length),
        );
        throw new OnsetError(
          'INVALID_PARAMETER_VALUE',
          `Cross-validation fold ${fold + 1} failed: ${message}`,
        );
      }
    }
    const splits = stratifiedKFold(this.state.y, options.folds, options.seed);
    return assembleCrossValidation(
      splits,
      this.state.y,
      Float64Array.from(probabilities),
      Array.from(fitSeconds.subarray(0, options.folds)),
      options,
    );
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}
