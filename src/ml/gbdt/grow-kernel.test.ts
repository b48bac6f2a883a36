import { describe, expect, it } from 'vitest';
import { createMatrix, type Matrix } from '../../math/matrix.js';
import { Random } from '../../util/random.js';
import { binMatrix, fitBinMapper, MISSING_BIN } from './binning.js';
import { GrowKernel } from './grow-kernel.js';
import {
  bruteForceBestSplit,
  DEFAULT_GROW_PARAMS,
  growOnAllRows,
  mapperThresholds,
  randomGradients,
  randomGridMatrix,
  rowsPerNode,
} from './test-support.js';
import { isLeaf } from './tree.js';

/** Each cell's slot as the JavaScript binning gives it: its feature's first slot plus its bin, or the last. */
function expectedSlots(x: Matrix, maxBin: number): number[] {
  const mapper = fitBinMapper(x, maxBin);
  const bins = binMatrix(mapper, x);
  return Array.from(bins, (bin, k) =>
    bin === MISSING_BIN ? mapper.totalBins : mapper.binStart[k % x.cols]! + bin,
  );
}

/** A matrix of continuous values (each its own bin up to `maxBin`), a share `missing` of them NaN. */
function continuousMatrix(random: Random, rows: number, cols: number, missing: number): Matrix {
  const data = new Float64Array(rows * cols);
  for (let k = 0; k < data.length; k++)
    data[k] = random.next() < missing ? Number.NaN : random.next() * 100 - 50;
  return createMatrix(data, rows, cols);
}

describe('the grow kernel', () => {
  it('bins every cell as binMatrix does, over several chunks of rows, missing values in the last slot', () => {
    // 10,000 rows of 40 columns: 400,000 values, binned 131,072 at a time.
    const x = continuousMatrix(new Random(3), 10_000, 40, 0.1);
    const mapper = fitBinMapper(x, 256);
    const kernel = new GrowKernel(x, mapper, DEFAULT_GROW_PARAMS);
    expect(kernel.slots()).toBeInstanceOf(Uint16Array);
    expect(Array.from(kernel.slots())).toEqual(expectedSlots(x, 256));
  });

  it('uses 32-bit slots when a histogram has 65,535 slots or more, and grows the best splits on them', () => {
    // 300 continuous features of up to 256 bins each: about 77,000 slots.
    const random = new Random(8);
    const x = continuousMatrix(random, 600, 300, 0.05);
    const mapper = fitBinMapper(x, 256);
    expect(mapper.totalBins).toBeGreaterThanOrEqual(0xffff);
    const kernel = new GrowKernel(x, mapper, DEFAULT_GROW_PARAMS);
    expect(kernel.slots()).toBeInstanceOf(Uint32Array);
    expect(Array.from(kernel.slots())).toEqual(expectedSlots(x, 256));
    const { grad, hess } = randomGradients(random, x.rows);
    const params = { ...DEFAULT_GROW_PARAMS, max_depth: 2 };
    const { tree } = growOnAllRows(x, grad, hess, params);
    const nodeRows = rowsPerNode(tree, x);
    for (let node = 0; node < tree.left.length; node++) {
      if (isLeaf(tree, node)) continue;
      const best = bruteForceBestSplit(x, nodeRows[node]!, grad, hess, mapperThresholds(mapper), params);
      expect(tree.feature[node]).toBe(best!.feature);
      expect(tree.lossChange[node]).toBeCloseTo(best!.gain, 4);
    }
  });

  it('keeps the histograms it hands out apart as its memory grows', () => {
    // Deep trees hold many histograms at once: each new one past the free ones grows the memory.
    const random = new Random(5);
    const x = randomGridMatrix(random, 2_000, 6, { levels: 40, missing: 0.05 });
    const { grad, hess } = randomGradients(random, x.rows);
    const deep = growOnAllRows(x, grad, hess, { max_depth: 10, min_child_weight: 0 });
    // Every row reaches the leaf the grower says it is in, after all that growing.
    const leafOfRow = new Int32Array(x.rows);
    deep.rows.forEach((row, k) => {
      leafOfRow[row] = deep.leafOf[k]!;
    });
    const nodeRows = rowsPerNode(deep.tree, x);
    for (let node = 0; node < deep.tree.left.length; node++) {
      if (!isLeaf(deep.tree, node)) continue;
      for (const row of nodeRows[node]!) expect(leafOfRow[row]).toBe(node);
    }
    expect(deep.tree.left.length).toBeGreaterThan(500);
  });
});
