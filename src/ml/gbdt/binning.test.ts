import { describe, expect, it } from 'vitest';
import { createMatrix, matrixFromRows } from '../../math/matrix.js';
import { Random } from '../../util/random.js';
import { binMatrix, fitBinMapper, MISSING_BIN } from './binning.js';

const NaN_ = Number.NaN;

function column(values: readonly number[]) {
  return createMatrix(Float64Array.from(values), values.length, 1);
}

describe('fitBinMapper with few distinct values', () => {
  it('makes every distinct value above the minimum a threshold, per feature', () => {
    const x = matrixFromRows([
      [3, 10],
      [1, 10],
      [2, NaN_],
      [2, -5],
      [1, 10],
      [NaN_, 7],
    ]);
    const mapper = fitBinMapper(x, 256);
    expect(Array.from(mapper.cutStart)).toEqual([0, 2, 4]);
    expect(Array.from(mapper.cuts)).toEqual([2, 3, 7, 10]);
    expect(Array.from(mapper.binStart)).toEqual([0, 3, 6]);
    expect(mapper.totalBins).toBe(6);
  });

  it('keeps each value its own bin when distinct values equal max_bin', () => {
    const mapper = fitBinMapper(column([0, 1, 2, 3]), 4);
    expect(Array.from(mapper.cuts)).toEqual([1, 2, 3]);
  });

  it('gives a constant or all-missing feature no threshold and a single bin', () => {
    const mapper = fitBinMapper(
      matrixFromRows([
        [5, NaN_],
        [5, NaN_],
      ]),
      256,
    );
    expect(mapper.cuts.length).toBe(0);
    expect(Array.from(mapper.binStart)).toEqual([0, 1, 2]);
  });

  it('finds distinct values among float32 values: float64 values that round together share a bin', () => {
    const mapper = fitBinMapper(column([1, 1 + 1e-10, 2, 1 + 2e-10]), 256);
    expect(Array.from(mapper.cuts)).toEqual([2]);
  });
});

describe('fitBinMapper with more distinct values than max_bin', () => {
  const random = new Random(11);
  const values = Array.from({ length: 2000 }, () => random.normal() * 3 + 1);
  const x = column(values);

  it('chooses at most max_bin - 1 ascending float32 thresholds taken from the data, above the minimum', () => {
    const maxBin = 16;
    const mapper = fitBinMapper(x, maxBin);
    const cuts = Array.from(mapper.cuts);
    expect(cuts.length).toBeGreaterThan(maxBin / 2);
    expect(cuts.length).toBeLessThanOrEqual(maxBin - 1);
    for (let i = 1; i < cuts.length; i++) expect(cuts[i]!).toBeGreaterThan(cuts[i - 1]!);
    const asFloat32 = new Set(values.map((v) => Math.fround(v)));
    const min = Math.min(...asFloat32);
    for (const cut of cuts) {
      expect(asFloat32.has(cut)).toBe(true);
      expect(cut).toBeGreaterThan(min);
    }
  });

  it('places thresholds at quantiles: bins hold roughly equal numbers of rows', () => {
    const maxBin = 10;
    const mapper = fitBinMapper(x, maxBin);
    const counts = new Array<number>(mapper.totalBins).fill(0);
    for (const bin of binMatrix(mapper, x)) counts[bin] = counts[bin]! + 1;
    const expected = values.length / maxBin;
    for (const count of counts) {
      expect(count).toBeGreaterThan(expected * 0.8);
      expect(count).toBeLessThan(expected * 1.2);
    }
  });

  it('handles max_bin = 2 (one threshold, near the median)', () => {
    const mapper = fitBinMapper(x, 2);
    expect(mapper.cuts.length).toBe(1);
    const below = values.filter((v) => Math.fround(v) < mapper.cuts[0]!).length;
    expect(Math.abs(below - values.length / 2)).toBeLessThanOrEqual(1);
  });

  it('deduplicates quantile thresholds on heavily repeated values', () => {
    const repeated = column([
      ...new Array<number>(900).fill(0),
      ...Array.from({ length: 100 }, (_, i) => i + 1),
    ]);
    const mapper = fitBinMapper(repeated, 8);
    const cuts = Array.from(mapper.cuts);
    expect(new Set(cuts).size).toBe(cuts.length);
    expect(cuts.every((c) => c > 0)).toBe(true);
  });
});

describe('binMatrix', () => {
  const mapper = fitBinMapper(column([0, 1, 2, 3]), 256); // cuts 1, 2, 3

  it('puts a value equal to a threshold in the upper bin (a split x < t sends it right)', () => {
    const codes = binMatrix(mapper, column([0, 1, 2, 3]));
    expect(Array.from(codes)).toEqual([0, 1, 2, 3]);
  });

  it('bins a value by the number of thresholds not above it, including values outside the training range', () => {
    const codes = binMatrix(mapper, column([-100, 0.5, 1.5, 2.999, 1e9]));
    expect(Array.from(codes)).toEqual([0, 0, 1, 2, 3]);
  });

  it('codes NaN as MISSING_BIN', () => {
    const codes = binMatrix(
      fitBinMapper(
        matrixFromRows([
          [1, 2],
          [NaN_, 3],
        ]),
        256,
      ),
      matrixFromRows([
        [NaN_, 3],
        [1, NaN_],
      ]),
    );
    expect(Array.from(codes)).toEqual([MISSING_BIN, 1, 0, MISSING_BIN]);
  });

  it('compares float32 values: a float64 value just below a float32 threshold that rounds to it goes up', () => {
    const threshold = Math.fround(0.1); // 0.10000000149..., above the float64 0.1
    expect(0.1 < threshold).toBe(true);
    const m = fitBinMapper(column([0, threshold, 1]), 256);
    expect(m.cuts[0]).toBe(threshold);
    // float32 predecessor of the threshold: strictly below it in float32 too.
    const below = new Float32Array(
      new Int32Array([new Int32Array(Float32Array.of(threshold).buffer)[0]! - 1]).buffer,
    )[0]!;
    const codes = binMatrix(m, column([0.1, below, threshold]));
    expect(Array.from(codes)).toEqual([1, 0, 1]);
  });

  it('agrees with counting thresholds <= fround(x) on random multi-feature data', () => {
    const random = new Random(3);
    const data = Float64Array.from({ length: 300 * 3 }, () => (random.next() < 0.1 ? NaN_ : random.normal()));
    const x = createMatrix(data, 300, 3);
    const m = fitBinMapper(x, 20);
    const codes = binMatrix(m, x);
    for (let k = 0; k < data.length; k++) {
      const f = k % 3;
      const cuts = m.cuts.subarray(m.cutStart[f]!, m.cutStart[f + 1]!);
      const value = data[k]!;
      const expected = Number.isNaN(value) ? MISSING_BIN : cuts.filter((c) => c <= Math.fround(value)).length;
      expect(codes[k]).toBe(expected);
    }
  });
});
