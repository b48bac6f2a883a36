/** The worker thread of `trainInWorker`: trains one model and posts progress, then the result. */
import { parentPort, workerData } from 'node:worker_threads';
import { isOnsetError } from '../../errors.js';
import { trainOnDataset } from '../train-on-dataset.js';
import type { TrainMessage, TrainTask } from './train-protocol.js';

const post = (message: TrainMessage) => parentPort?.postMessage(message);
const { dataset, options } = workerData as TrainTask;
try {
  const { model: _model, ...result } = trainOnDataset(dataset, {
    ...options,
    ...(options.tune
      ? {
          tune: {
            ...options.tune,
            onTrial: (done, total, best) => post({ type: 'trial', done, total, best }),
          },
        }
      : {}),
    onFold: (done, total) => post({ type: 'fold', done, total }),
    onProgress: (progress) => post({ type: 'fit', progress }),
  });
  post({ type: 'result', result });
} catch (error) {
  post({
    type: 'error',
    code: isOnsetError(error) ? error.code : undefined,
    message: error instanceof Error ? error.message : String(error),
    stack: error instanceof Error ? error.stack : undefined,
  });
}
