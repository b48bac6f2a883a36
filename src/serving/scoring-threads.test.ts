/**
 * Scoring on worker threads: the same probabilities as the model on this thread, answers in the order
 * asked for whichever thread was faster, the buffers given back, and a thread that cannot load its model
 * failing every batch with the reason.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../data/generator/generator.js';
import { FEATURE_NAMES } from '../data/schema.js';
import { serializeModelDocument } from '../ml/model-document.js';
import { featureMatrix, trainOnDataset } from '../ml/train-on-dataset.js';
import { scorerOnThisThread, startScoringThreads } from './scoring-threads.js';

const directory = mkdtempSync(join(tmpdir(), 'onset-scoring-threads-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const cols = FEATURE_NAMES.length;

describe('startScoringThreads', () => {
  it('scores as this thread does, answers in order, and gives the buffers back', async () => {
    const trained = trainOnDataset(generateDataset({ rows: 400, seed: 3 }), {
      estimator: 'gbdt',
      params: { n_estimators: 30 },
    });
    const path = join(directory, 'gbdt.json');
    writeFileSync(path, serializeModelDocument(trained.document));
    const rows = featureMatrix(generateDataset({ rows: 2_000, seed: 4 }));
    const expected = trained.model.predictProba(rows);
    const scorer = startScoringThreads(path, 3, cols);
    const local = scorerOnThisThread(trained.model, cols);
    try {
      // Batches of uneven sizes, so the threads finish out of turn.
      const sizes = [700, 13, 400, 1, 250, 636];
      let start = 0;
      const asked = sizes.map((size) => {
        const features = rows.data.slice(start * cols, (start + size) * cols);
        const batch = { start, size, sent: features.slice(), scored: scorer.score(features, size) };
        start += size;
        // The buffer moved to the thread.
        expect(features.length).toBe(0);
        return batch;
      });
      for (const { start, size, sent, scored } of asked) {
        const { probabilities, features, latencyMs } = await scored;
        expect(Array.from(probabilities)).toEqual(Array.from(expected.subarray(start, start + size)));
        expect(features).toEqual(sent);
        expect(latencyMs).toBeGreaterThanOrEqual(0);
        const here = await local.score(sent, size);
        expect(Array.from(here.probabilities)).toEqual(Array.from(probabilities));
      }
    } finally {
      await scorer.close();
    }
    await expect(scorer.score(new Float64Array(cols), 1)).rejects.toThrow('The scoring threads were closed');
  }, 60_000);

  it('fails every batch, with the reason, when a thread cannot load its model', async () => {
    const scorer = startScoringThreads(join(directory, 'missing.json'), 2, cols);
    try {
      const first = scorer.score(new Float64Array(cols), 1);
      const second = scorer.score(new Float64Array(cols), 1);
      await expect(first).rejects.toThrow(/A scoring thread failed: Model file not found: .*missing\.json/);
      await expect(second).rejects.toThrow(/A scoring thread failed/);
      await expect(scorer.score(new Float64Array(cols), 1)).rejects.toThrow(/Model file not found/);
    } finally {
      await scorer.close();
    }
  }, 60_000);
});
