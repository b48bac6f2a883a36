/** The worker thread of `ParallelFoldExecutor`: runs folds of the tasks it is sent (see fold-protocol.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import type { FoldTask, WorkerData } from './fold-protocol.js';
import { sharedViews, workOnFolds } from './fold-work.js';

const state = sharedViews(workerData as WorkerData);
parentPort?.on('message', (task: FoldTask) => {
  // A late message finds its task over: takeFold returns -1 and nothing is done.
  workOnFolds(state, task);
});
