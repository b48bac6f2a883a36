import type { EstimatorName } from '../estimator.js';
/**
 * The shared-memory protocol between `ParallelFoldExecutor` and its worker: the training data is shared
 * once; per task (one trial's cross-validation) both threads take fold indices from an atomic counter,
 * write out-of-fold probabilities into shared memory and count finished folds, which the main thread
 * waits for with `Atomics.wait`.
 */

/** Indices into the control Int32Array. */
export const CONTROL = {
  /**
   * The next fold to take, tagged with its task: `generation * FOLD_SLOTS + index`. A thread takes a fold
   * by compare-exchange, and only while the generation is the one of its task, so a late thread can
   * never take (and lose) a fold of the next task.
   */
  next: 0,
  /** Folds finished (by either thread). */
  done: 1,
  size: 2,
} as const;

/** Folds per task at most; also the stride of generations in `CONTROL.next`. */
export const FOLD_SLOTS = 1024;

/** Per-fold status in the status Int32Array. */
export const FOLD_STATUS = { pending: 0, ok: 1, failed: 2 } as const;

/** Longest error message a failed fold can hand back (bytes of UTF-8). */
export const ERROR_BYTES = 2048;

export interface WorkerData {
  readonly x: SharedArrayBuffer;
  readonly y: SharedArrayBuffer;
  readonly rows: number;
  readonly cols: number;
  readonly control: SharedArrayBuffer;
  /** Out-of-fold probabilities, one per row. */
  readonly probabilities: SharedArrayBuffer;
  /** Seconds spent fitting each fold (Float64, up to `maxFolds`). */
  readonly fitSeconds: SharedArrayBuffer;
  /** Per-fold status (Int32, up to `maxFolds`). */
  readonly status: SharedArrayBuffer;
  /** UTF-8 error text of the first failed fold. */
  readonly error: SharedArrayBuffer;
  readonly maxFolds: number;
}

export interface FoldTask {
  readonly generation: number;
  readonly estimator: EstimatorName;
  readonly params: Readonly<Record<string, unknown>>;
  readonly folds: number;
  readonly seed: number;
}
