import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../data/generator/generator.js';
import { crossValidate } from '../cross-validate.js';
import { featureMatrix } from '../train-on-dataset.js';
import { ParallelFoldExecutor } from './fold-executor.js';

const data = generateDataset({ rows: 400, seed: 21 });
const x = featureMatrix(data);
const y = data.target!;
let executor: ParallelFoldExecutor;

beforeAll(() => {
  executor = new ParallelFoldExecutor(x, y, 10);
});
afterAll(async () => {
  await executor.close();
});

describe('ParallelFoldExecutor', () => {
  it('gives exactly the single-threaded results, task after task (generations do not mix)', () => {
    const tasks = [
      { estimator: 'gbdt', params: { n_estimators: 30, max_depth: 3 }, folds: 5, seed: 1 },
      { estimator: 'gbdt', params: { n_estimators: 10, max_depth: 2, subsample: 0.7 }, folds: 3, seed: 2 },
      { estimator: 'logistic', params: { C: 0.5 }, folds: 4, seed: 3 },
      { estimator: 'gbdt', params: { n_estimators: 20 }, folds: 5, seed: 1 },
    ] as const;
    for (const task of tasks) {
      const parallel = executor.crossValidate(task.estimator, task.params, {
        folds: task.folds,
        seed: task.seed,
      });
      const single = crossValidate(task.estimator, task.params, x, y, { folds: task.folds, seed: task.seed });
      expect(parallel.summary).toEqual(single.summary);
      expect(Array.from(parallel.outOfFold)).toEqual(Array.from(single.outOfFold));
      expect(parallel.perFold.map((f) => f.metrics)).toEqual(single.perFold.map((f) => f.metrics));
    }
  });

  it('refuses bad parameters before any fold runs, with the estimator’s message', () => {
    expect(() => executor.crossValidate('gbdt', { depth: 3 }, { folds: 5, seed: 1 })).toThrow(
      'Unknown parameter "depth" for gbdt',
    );
    // The executor still works afterwards.
    const after = executor.crossValidate('gbdt', { n_estimators: 5 }, { folds: 5, seed: 4 });
    expect(after.perFold).toHaveLength(5);
  });
});
