import type { Dataset } from '../../data/dataset.js';
import { ERROR_HTTP_STATUS, type ErrorCode, OnsetError } from '../../errors.js';
import { parseModel } from '../model-document.js';
import type { TrainOptions, TrainResult } from '../train-on-dataset.js';
import { startWorker } from './start-worker.js';
import type { TrainMessage, TrainTask } from './train-protocol.js';

type TrainTaskTune = NonNullable<TrainTask['options']['tune']>;

/**
 * `trainOnDataset` on a worker thread: the calling thread stays free (a server keeps answering while a
 * pipeline trains, and independent trainings use separate cores). Progress callbacks are called here as
 * the worker reports. Aborting `signal` terminates the worker and rejects with a cancellation error.
 * The result's model is rebuilt from its model document, so it predicts exactly as the worker's did.
 */
export function trainInWorker(
  dataset: Dataset,
  options: TrainOptions,
  signal?: AbortSignal,
): Promise<TrainResult> {
  const { onFold, onProgress, tune, ...rest } = options;
  const { onTrial, ...search } = tune ?? {};
  const task: TrainTask = {
    dataset,
    options: { ...rest, ...(tune ? { tune: search as TrainTaskTune } : {}) },
  };
  return new Promise<TrainResult>((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelled(signal));
      return;
    }
    const worker = startWorker(import.meta.url, 'train-worker', task);
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      void worker.terminate();
      action();
    };
    const abort = () => settle(() => reject(cancelled(signal!)));
    signal?.addEventListener('abort', abort, { once: true });
    worker.on('message', (message: TrainMessage) => {
      switch (message.type) {
        case 'fold':
          onFold?.(message.done, message.total);
          break;
        case 'trial':
          onTrial?.(message.done, message.total, message.best);
          break;
        case 'fit':
          onProgress?.(message.progress);
          break;
        case 'result':
          settle(() => {
            try {
              const { model } = parseModel(message.result.document, 'the trained model');
              resolve({ ...message.result, model });
            } catch (error) {
              reject(error);
            }
          });
          break;
        case 'error': {
          const code =
            message.code !== undefined && message.code in ERROR_HTTP_STATUS ? message.code : undefined;
          const error = new OnsetError((code as ErrorCode | undefined) ?? 'INTERNAL_ERROR', message.message);
          if (message.stack) error.stack = message.stack;
          settle(() => reject(error));
          break;
        }
      }
    });
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (exitCode) =>
      settle(() =>
        reject(
          new OnsetError(
            'INTERNAL_ERROR',
            `The training worker stopped (exit code ${exitCode}) before it finished`,
          ),
        ),
      ),
    );
  });
}

function cancelled(signal: AbortSignal): OnsetError {
  const reason = signal.reason instanceof Error ? signal.reason.message : 'cancelled';
  return new OnsetError('INVALID_STATE', `Training cancelled: ${reason}`, { details: { cancelled: true } });
}
