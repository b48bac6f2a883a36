import { stratifiedKFold } from '../../data/splits.js';
import { createMatrix, type Matrix, selectMatrixRows } from '../../math/matrix.js';
import { fitWithHoldout } from '../fit-with-holdout.js';
import {
  CONTROL,
  ERROR_BYTES,
  FOLD_SLOTS,
  FOLD_STATUS,
  type FoldTask,
  type WorkerData,
} from './fold-protocol.js';

/** The shared views both threads work on. */
export interface SharedFoldState {
  readonly x: Matrix;
  readonly y: Float64Array;
  readonly control: Int32Array;
  readonly probabilities: Float64Array;
  readonly fitSeconds: Float64Array;
  readonly status: Int32Array;
  readonly error: Uint8Array;
}

export function sharedViews(data: WorkerData): SharedFoldState {
  return {
    x: createMatrix(new Float64Array(data.x), data.rows, data.cols),
    y: new Float64Array(data.y),
    control: new Int32Array(data.control),
    probabilities: new Float64Array(data.probabilities),
    fitSeconds: new Float64Array(data.fitSeconds),
    status: new Int32Array(data.status),
    error: new Uint8Array(data.error),
  };
}

/**
 * Takes fold indices from the shared counter until none is left, fitting each fold on the other folds
 * and writing its out-of-fold probabilities. Both threads run this for the same task.
 */
export function workOnFolds(state: SharedFoldState, task: FoldTask): void {
  const splits = stratifiedKFold(state.y, task.folds, task.seed);
  for (;;) {
    const fold = takeFold(state.control, task);
    if (fold < 0) return;
    try {
      const split = splits[fold]!;
      const trainY = Float64Array.from(split.train, (i) => state.y[i]!);
      const { model, fitSeconds } = fitWithHoldout(
        task.estimator,
        task.params,
        selectMatrixRows(state.x, split.train),
        trainY,
      );
      const probabilities = model.predictProba(selectMatrixRows(state.x, split.test));
      split.test.forEach((row, k) => {
        state.probabilities[row] = probabilities[k]!;
      });
      state.fitSeconds[fold] = fitSeconds;
      Atomics.store(state.status, fold, FOLD_STATUS.ok);
    } catch (error) {
      const text = new TextEncoder()
        .encode(error instanceof Error ? error.message : String(error))
        .slice(0, ERROR_BYTES);
      if (
        Atomics.compareExchange(state.status, fold, FOLD_STATUS.pending, FOLD_STATUS.failed) ===
        FOLD_STATUS.pending
      ) {
        state.error.fill(0);
        state.error.set(text);
      }
    } finally {
      Atomics.add(state.control, CONTROL.done, 1);
      Atomics.notify(state.control, CONTROL.done);
    }
  }
}

/** Takes the next fold of `task`, or -1 when none is left or the task is no longer current. */
export function takeFold(control: Int32Array, task: FoldTask): number {
  for (;;) {
    const current = Atomics.load(control, CONTROL.next);
    const generation = Math.floor(current / FOLD_SLOTS);
    const index = current % FOLD_SLOTS;
    if (generation !== task.generation || index >= task.folds) return -1;
    if (Atomics.compareExchange(control, CONTROL.next, current, current + 1) === current) return index;
  }
}
