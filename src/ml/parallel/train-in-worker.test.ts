import { describe, expect, it } from 'vitest';
import { generateDataset } from '../../data/generator/generator.js';
import { featureMatrix, trainOnDataset } from '../train-on-dataset.js';
import { trainInWorker } from './train-in-worker.js';

const dataset = generateDataset({ rows: 400, seed: 8 });
const withoutTimes = (document: object) =>
  JSON.parse(JSON.stringify(document), (key, value) =>
    key === 'fitted_at' || key.endsWith('seconds') ? undefined : value,
  ) as unknown;

describe('trainInWorker', () => {
  it('trains exactly as in-thread training does and reports progress', async () => {
    const options = { estimator: 'gbdt', params: { n_estimators: 30 }, cvFolds: 3 } as const;
    const folds: number[] = [];
    const iterations: number[] = [];
    const result = await trainInWorker(dataset, {
      ...options,
      onFold: (done) => folds.push(done),
      onProgress: (progress) => iterations.push(progress.iteration),
    });
    const local = trainOnDataset(dataset, options);
    expect(withoutTimes(result.document)).toEqual(withoutTimes(local.document));
    expect(result.crossValidation?.summary.roc_auc.mean).toBe(local.crossValidation?.summary.roc_auc.mean);
    expect(Array.from(result.model.predictProba(featureMatrix(dataset)))).toEqual(
      Array.from(local.model.predictProba(featureMatrix(dataset))),
    );
    expect(folds).toEqual([1, 2, 3]);
    expect(iterations.length).toBeGreaterThan(0);
  });

  it('passes on tuning progress', async () => {
    const trials: number[] = [];
    const result = await trainInWorker(dataset, {
      estimator: 'logistic',
      cvFolds: 3,
      tune: { trials: 3, seed: 1, onTrial: (done) => trials.push(done) },
    });
    expect(trials).toEqual([1, 2, 3]);
    expect(result.tuning?.trials).toHaveLength(3);
  });

  it('rejects with the OnsetError code of a failure in the worker', async () => {
    await expect(
      trainInWorker(dataset, { estimator: 'gbdt', params: { max_depht: 3 } }),
    ).rejects.toMatchObject({
      code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringMatching(/max_depht/),
    });
  });

  it('stops the worker when aborted, and refuses to start when already aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const training = trainInWorker(
      dataset,
      { estimator: 'oblivious', params: { iterations: 5000 }, cvFolds: 5 },
      controller.signal,
    );
    setTimeout(() => controller.abort(new Error('stop requested')), 300);
    await expect(training).rejects.toThrow(/cancelled: stop requested/);
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(trainInWorker(dataset, { estimator: 'linear' }, controller.signal)).rejects.toThrow(
      /cancelled/,
    );
  });
});
