/** A scoring thread of `startScoringThreads`: loads the model once, then scores the batches it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { createMatrix } from '../math/matrix.js';
import { loadModelPath } from '../ml/formats/mlflow-model.js';
import type { ScoringReply, ScoringRequest, ScoringThreadData } from './scoring-protocol.js';

const { modelPath, cols } = workerData as ScoringThreadData;
const loading = loadModelPath(modelPath);
// A model that will not load fails each batch with the reason (the main thread loaded it already, so
// this means the file changed or memory ran out).
loading.catch(() => undefined);

parentPort?.on('message', async (request: ScoringRequest) => {
  const { id, features, rows } = request;
  let reply: ScoringReply;
  try {
    const { model } = await loading;
    const started = performance.now();
    // A copy of its own to move: a model may answer in a buffer it keeps.
    const probabilities = model
      .predictProba(createMatrix(features.subarray(0, rows * cols), rows, cols))
      .slice();
    reply = { id, probabilities, features, latencyMs: (performance.now() - started) / Math.max(rows, 1) };
    parentPort?.postMessage(reply, [probabilities.buffer as ArrayBuffer, features.buffer as ArrayBuffer]);
  } catch (error) {
    reply = { id, error: (error as Error).message };
    parentPort?.postMessage(reply);
  }
});
