import { describe, expect, it } from 'vitest';
import { toRowMajor } from '../data/dataset.js';
import { generateDataset } from '../data/generator/generator.js';
import { FEATURE_NAMES } from '../data/schema.js';
import { stratifiedKFold } from '../data/splits.js';
import { createMatrix, selectMatrixRows } from '../math/matrix.js';
import { type CrossValidationResult, crossValidate } from './cross-validate.js';
import { createEstimator } from './estimator-registry.js';
import { EARLY_STOPPING_HOLDOUT, fitWithHoldout } from './fit-with-holdout.js';
import { GbdtModel } from './gbdt/gbdt.js';
import { BINARY_METRIC_NAMES, evaluateBinary } from './metrics/index.js';

const dataset = generateDataset({ rows: 300, seed: 21 });
const x = createMatrix(toRowMajor(dataset), dataset.rowCount, FEATURE_NAMES.length);
const y = dataset.target!;
const GBDT = { n_estimators: 20, max_depth: 3, seed: 1 } as const;

/** The metrics without timing, for comparing two runs. */
function withoutTimes(result: CrossValidationResult) {
  return { ...result, perFold: result.perFold.map(({ fitSeconds: _, ...fold }) => fold) };
}

describe('crossValidate', () => {
  it('gives one result per fold, whose test rows partition the data', () => {
    const calls: [number, number][] = [];
    const result = crossValidate('logistic', {}, x, y, {
      folds: 4,
      seed: 3,
      onFold: (done, total) => calls.push([done, total]),
    });
    expect(result.folds).toBe(4);
    expect(result.seed).toBe(3);
    expect(result.threshold).toBe(0.5);
    expect(result.perFold).toHaveLength(4);
    expect(result.perFold.map((fold) => fold.fold)).toEqual([1, 2, 3, 4]);
    expect(calls).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
    let tested = 0;
    for (const fold of result.perFold) {
      expect(fold.trainRows + fold.testRows).toBe(dataset.rowCount);
      expect(fold.metrics.n).toBe(fold.testRows);
      expect([74, 75, 76]).toContain(fold.testRows); // 300 / 4, stratified: sizes differ by at most one
      expect(fold.fitSeconds).toBeGreaterThan(0);
      tested += fold.testRows;
    }
    expect(tested).toBe(dataset.rowCount);
    // Each fold's positives are the positives among its test rows; together, every positive row once.
    const positives = y.reduce((sum, label) => sum + label, 0);
    expect(result.perFold.reduce((sum, fold) => sum + fold.metrics.positives, 0)).toBe(positives);
  });

  it('scores each fold with a model fitted on the other folds only', () => {
    const folds = 3;
    const seed = 11;
    const result = crossValidate('logistic', {}, x, y, { folds, seed });
    const splits = stratifiedKFold(y, folds, seed);
    const seen = new Uint8Array(dataset.rowCount);
    splits.forEach((split, k) => {
      for (const row of split.test) seen[row] = seen[row]! + 1;
      const trainY = Float64Array.from(split.train, (i) => y[i]!);
      const testY = Float64Array.from(split.test, (i) => y[i]!);
      const model = createEstimator('logistic').fit(selectMatrixRows(x, split.train), trainY);
      const expected = evaluateBinary(testY, model.predictProba(selectMatrixRows(x, split.test)));
      expect(result.perFold[k]!.metrics).toEqual(expected);
      expect(result.perFold[k]!.testRows).toBe(split.test.length);
    });
    expect(Array.from(seen).every((count) => count === 1)).toBe(true);
  });

  it('summarizes each metric as the mean and population std of the folds', () => {
    const result = crossValidate('gbdt', GBDT, x, y, { folds: 3, seed: 5 });
    expect(Object.keys(result.summary).sort()).toEqual([...BINARY_METRIC_NAMES].sort());
    for (const name of BINARY_METRIC_NAMES) {
      const values = result.perFold.map((fold) => fold.metrics[name]);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
      expect(result.summary[name].mean).toBeCloseTo(mean, 12);
      expect(result.summary[name].std).toBeCloseTo(std, 12);
    }
    // Folds do differ, so the std is informative rather than zero.
    expect(result.summary.log_loss.std).toBeGreaterThan(0);
  });

  it('applies the threshold to every fold', () => {
    const strict = crossValidate('logistic', {}, x, y, { folds: 3, seed: 5, threshold: 0.9 });
    const usual = crossValidate('logistic', {}, x, y, { folds: 3, seed: 5 });
    expect(strict.threshold).toBe(0.9);
    for (const [k, fold] of strict.perFold.entries()) {
      expect(fold.metrics.threshold).toBe(0.9);
      expect(fold.metrics.roc_auc).toBe(usual.perFold[k]!.metrics.roc_auc); // threshold-free
      expect(fold.metrics.tp + fold.metrics.fp).toBeLessThanOrEqual(
        usual.perFold[k]!.metrics.tp + usual.perFold[k]!.metrics.fp,
      );
    }
  });

  it('is deterministic for a seed, and the seed matters', () => {
    const first = crossValidate('gbdt', { ...GBDT, subsample: 0.8 }, x, y, { folds: 3, seed: 9 });
    const second = crossValidate('gbdt', { ...GBDT, subsample: 0.8 }, x, y, { folds: 3, seed: 9 });
    expect(withoutTimes(second)).toEqual(withoutTimes(first));
    const other = crossValidate('gbdt', { ...GBDT, subsample: 0.8 }, x, y, { folds: 3, seed: 10 });
    expect(other.perFold.map((fold) => fold.metrics.log_loss)).not.toEqual(
      first.perFold.map((fold) => fold.metrics.log_loss),
    );
  });

  it('runs early stopping inside each fold on a holdout of that fold’s training rows', () => {
    const params = { n_estimators: 300, learning_rate: 0.3, max_depth: 3, early_stopping_rounds: 3, seed: 2 };
    const folds = 3;
    const seed = 4;
    const result = crossValidate('gbdt', params, x, y, { folds, seed });
    expect(result.perFold).toHaveLength(folds);
    const splits = stratifiedKFold(y, folds, seed);
    const full = crossValidate('gbdt', { ...params, early_stopping_rounds: null }, x, y, { folds, seed });
    splits.forEach((split, k) => {
      const trainY = Float64Array.from(split.train, (i) => y[i]!);
      const fit = fitWithHoldout('gbdt', params, selectMatrixRows(x, split.train), trainY);
      expect(fit.validationRows).toBe(Math.ceil(EARLY_STOPPING_HOLDOUT * split.train.length));
      const model = fit.model as GbdtModel;
      expect(model).toBeInstanceOf(GbdtModel);
      expect(model.bestIteration).not.toBeNull();
      expect(model.trees).toHaveLength(model.bestIteration! + 1);
      expect(model.bestIteration!).toBeLessThan(params.n_estimators - 1);
      const testY = Float64Array.from(split.test, (i) => y[i]!);
      const expected = evaluateBinary(testY, model.predictProba(selectMatrixRows(x, split.test)));
      expect(result.perFold[k]!.metrics).toEqual(expected);
      // And the stopped model is not the 300-round one.
      expect(result.perFold[k]!.metrics.log_loss).not.toBe(full.perFold[k]!.metrics.log_loss);
    });
  });

  it('refuses more folds than the smallest class allows', () => {
    const small = generateDataset({ rows: 12, seed: 1 });
    const smallX = createMatrix(toRowMajor(small), small.rowCount, FEATURE_NAMES.length);
    expect(() => crossValidate('logistic', {}, smallX, small.target!, { folds: 13, seed: 1 })).toThrow(
      /Cannot make 13 folds from 12 rows|smallest class/,
    );
    expect(() => crossValidate('logistic', {}, x, y, { folds: 1, seed: 1 })).toThrow(
      'The number of folds must be an integer of at least 2, got 1',
    );
  });
});
