import { describe, expect, it } from 'vitest';
import { matrixFromRows } from '../../math/matrix.js';
import { Random } from '../../util/random.js';
import {
  CategoryEncoder,
  categoryStatistics,
  indexCategories,
  orderedTargetStatistics,
  statisticsFromState,
  statisticsToState,
  targetStatistic,
} from './target-statistics.js';

describe('indexCategories', () => {
  it('lists distinct values ascending with NaN last and indexes every row', () => {
    const index = indexCategories([3, Number.NaN, 1, 3, -0, 0, Number.NaN]);
    expect(index.values).toEqual([0, 1, 3, Number.NaN]);
    expect(Array.from(index.ids)).toEqual([2, 3, 1, 2, 0, 0, 3]);
  });
});

describe('ordered target statistics', () => {
  it('encodes each row from the rows before it in the permutation only', () => {
    // One category; permutation visits rows 2, 0, 3, 1.
    const y = Float64Array.from([1, 0, 1, 1]);
    const index = indexCategories([7, 7, 7, 7]);
    const prior = 0.5;
    const encoded = orderedTargetStatistics(index, y, Int32Array.from([2, 0, 3, 1]), prior);
    expect(encoded[2]).toBe(targetStatistic(0, 0, prior)); // first: the prior
    expect(encoded[0]).toBe(targetStatistic(1, 1, prior)); // after row 2 (y = 1)
    expect(encoded[3]).toBe(targetStatistic(2, 2, prior)); // after rows 2, 0 (both y = 1)
    expect(encoded[1]).toBe(targetStatistic(3, 3, prior)); // after rows 2, 0, 3
  });

  it('never uses a row’s own target: a category unique per row encodes to the prior everywhere', () => {
    const random = new Random(3);
    const n = 200;
    const y = Float64Array.from({ length: n }, () => (random.next() < 0.4 ? 1 : 0));
    const ids = Array.from({ length: n }, (_, i) => i * 10);
    const index = indexCategories(ids);
    const prior = 0.4;
    for (let p = 0; p < 3; p++) {
      const encoded = orderedTargetStatistics(index, y, random.permutation(n), prior);
      // With a leak the encoding would separate the classes perfectly; without it, it is constant.
      expect(new Set(encoded)).toEqual(new Set([prior]));
    }
  });

  it('does not depend on the row’s own target (flipping it leaves its encoding unchanged)', () => {
    const random = new Random(9);
    const n = 300;
    const column = Array.from({ length: n }, () => random.int(4));
    const y = Float64Array.from({ length: n }, () => random.int(2));
    const index = indexCategories(column);
    const permutation = random.permutation(n);
    const encoded = orderedTargetStatistics(index, y, permutation, 0.5);
    for (const row of [0, 17, 150, 299]) {
      const flipped = Float64Array.from(y);
      flipped[row] = 1 - flipped[row]!;
      expect(orderedTargetStatistics(index, flipped, permutation, 0.5)[row]).toBe(encoded[row]);
    }
  });

  it('prediction-time statistics use every training row; unseen categories get the prior', () => {
    const column = [0, 0, 0, 1, 1, Number.NaN];
    const y = Float64Array.from([1, 1, 0, 0, 0, 1]);
    const stats = categoryStatistics(2, indexCategories(column), y);
    expect(stats).toEqual({
      feature: 2,
      values: [0, 1, Number.NaN],
      counts: [3, 2, 1],
      positives: [2, 0, 1],
    });
    const prior = 0.5;
    const encoder = new CategoryEncoder([stats], prior);
    const x = matrixFromRows([
      [9, 9, 0],
      [9, 9, 1],
      [9, 9, Number.NaN],
      [9, 9, 5],
    ]);
    const encoded = encoder.encode(x);
    expect(encoded[2]).toBe((2 + prior) / (3 + 1));
    expect(encoded[5]).toBe((0 + prior) / (2 + 1));
    expect(encoded[8]).toBe((1 + prior) / (1 + 1));
    expect(encoded[11]).toBe(prior);
    expect(encoded[0]).toBe(9); // other columns unchanged
  });

  it('round-trips through its saved form, NaN as null', () => {
    const stats = categoryStatistics(1, indexCategories([2, Number.NaN, 2]), Float64Array.from([1, 0, 0]));
    const state = statisticsToState(stats);
    expect(state.values).toEqual([2, null]);
    expect(statisticsFromState(JSON.parse(JSON.stringify(state)), 3, 'here')).toEqual(stats);
    expect(() => statisticsFromState({ ...state, positives: [5, 0] }, 3, 'here')).toThrow(/category 0/);
    expect(() => statisticsFromState({ ...state, feature: 3 }, 3, 'here')).toThrow(/below 3/);
  });
});
