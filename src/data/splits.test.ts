import { describe, expect, it } from 'vitest';
import { stratifiedKFold, trainTestSplit } from './splits.js';

// 62 positives and 38 negatives, interleaved irregularly.
const target = Float64Array.from({ length: 100 }, (_, i) => ((i * 7) % 100 < 62 ? 1 : 0));
const positives = (rows: Int32Array) => rows.reduce((sum, row) => sum + target[row]!, 0);

describe('stratifiedKFold', () => {
  const folds = stratifiedKFold(target, 5, 7);

  it('puts every row in exactly one test fold and the rest in train', () => {
    const seen = new Int32Array(target.length);
    for (const { train, test } of folds) {
      for (const row of test) seen[row]!++;
      expect(train.length + test.length).toBe(target.length);
      const inTest = new Set(test);
      expect(Array.from(train).some((row) => inTest.has(row))).toBe(false);
    }
    expect(Array.from(seen).every((count) => count === 1)).toBe(true);
  });

  it('keeps class proportions: counts per fold differ by at most one', () => {
    const counts = folds.map(({ test }) => [positives(test), test.length - positives(test)]);
    for (const k of [0, 1]) {
      const values = counts.map((c) => c[k]!);
      expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
    }
    expect(counts.map((c) => c[0]! + c[1]!)).toEqual([20, 20, 20, 20, 20]);
  });

  it('returns ascending indices and is deterministic for a seed', () => {
    for (const { train, test } of folds) {
      expect(Array.from(test)).toEqual(Array.from(test).sort((a, b) => a - b));
      expect(Array.from(train)).toEqual(Array.from(train).sort((a, b) => a - b));
    }
    expect(stratifiedKFold(target, 5, 7)).toEqual(folds);
    expect(stratifiedKFold(target, 5, 8)).not.toEqual(folds);
  });

  it('rejects impossible fold counts with the reason', () => {
    expect(() => stratifiedKFold(target, 1, 0)).toThrow('at least 2');
    expect(() => stratifiedKFold(Float64Array.from([0, 0, 1, 1, 1]), 3, 0)).toThrow(
      'the smallest class has 2 row(s) (0: 2, 1: 3); use at most 2 folds',
    );
    expect(() => stratifiedKFold(Float64Array.from([0, 1, Number.NaN]), 2, 0)).toThrow('row 3 is missing');
  });
});

describe('trainTestSplit', () => {
  it('holds out ceil(fraction * n) rows with class proportions kept', () => {
    const { train, test } = trainTestSplit(target, { testFraction: 0.25, seed: 3 });
    expect(test.length).toBe(25);
    expect(train.length).toBe(75);
    // 38 * 0.25 = 9.5 and 62 * 0.25 = 15.5: the tied remainder goes to class 0, first in label order.
    expect(positives(test)).toBe(15);
    expect(new Set([...train, ...test]).size).toBe(100);
  });

  it('is deterministic for a seed and different across seeds', () => {
    const a = trainTestSplit(target, { seed: 1 });
    expect(trainTestSplit(target, { seed: 1 })).toEqual(a);
    expect(trainTestSplit(target, { seed: 2 }).test).not.toEqual(a.test);
  });

  it('can split without stratification', () => {
    const { test } = trainTestSplit(target, { seed: 1, stratify: false, testFraction: 0.1 });
    expect(test.length).toBe(10);
  });

  it('rejects fractions outside (0, 1)', () => {
    expect(() => trainTestSplit(target, { seed: 1, testFraction: 1 })).toThrow('between 0 and 1');
    expect(() => trainTestSplit(target, { seed: 1, testFraction: 0 })).toThrow('between 0 and 1');
  });
});
