import { describe, expect, it } from 'vitest';
import { createMatrix, type Matrix, matrixFromRows } from '../../math/matrix.js';
import { Random } from '../../util/random.js';
import { growTree } from './grower.js';
import { leafWeight, nodeGain } from './loss.js';
import {
  allSplits,
  bruteForceBestSplit,
  DEFAULT_GROW_PARAMS,
  expectedLeafValue,
  goesLeft,
  growOnAllRows,
  makeGrowContext,
  matrixRow,
  randomGradients,
  randomGridMatrix,
  referenceLeaf,
  rowsPerNode,
  sums,
} from './test-support.js';
import { type FlatTree, isLeaf, NO_PARENT, treeDepth } from './tree.js';

const NaN_ = Number.NaN;

/** Every distinct float32 value of a feature above its minimum: all thresholds that can separate rows. */
function distinctThresholds(x: Matrix): (feature: number) => number[] {
  return (f) => {
    const values = new Set<number>();
    for (let i = 0; i < x.rows; i++) {
      const v = Math.fround(x.data[i * x.cols + f]!);
      if (!Number.isNaN(v)) values.add(v);
    }
    return [...values].sort((a, b) => a - b).slice(1);
  };
}

function depths(tree: FlatTree): number[] {
  const out = [0];
  for (let node = 1; node < tree.left.length; node++) out.push(out[tree.parent[node]!]! + 1);
  return out;
}

/** Gradients of the log loss at margin 0 (the first round with base_score 0.5). */
function firstRoundGradients(y: readonly number[]): { grad: Float64Array; hess: Float64Array } {
  return {
    grad: Float64Array.from(y, (label) => 0.5 - label),
    hess: new Float64Array(y.length).fill(0.25),
  };
}

describe('growTree: splits equal a brute-force search', () => {
  const paramSets = [
    { name: 'defaults', params: {} },
    { name: 'L1 and small lambda', params: { reg_alpha: 0.3, reg_lambda: 0.5 } },
    { name: 'max_delta_step with L1', params: { max_delta_step: 0.2, reg_alpha: 0.1 } },
    { name: 'min_child_weight 3', params: { min_child_weight: 3 } },
    { name: 'gamma 0.4', params: { gamma: 0.4 } },
  ];
  for (const { name, params: overrides } of paramSets) {
    it(`at every node of depth-3 trees on random data with missing values (${name})`, () => {
      const params = { ...DEFAULT_GROW_PARAMS, max_depth: 3, learning_rate: 0.7, ...overrides };
      for (let seed = 1; seed <= 6; seed++) {
        const random = new Random(seed);
        const x = randomGridMatrix(random, 60, 3, { levels: 6, missing: 0.15 });
        const { grad, hess } = randomGradients(random, x.rows);
        const { tree } = growOnAllRows(x, grad, hess, params);
        const thresholds = distinctThresholds(x);
        const nodeRows = rowsPerNode(tree, x);
        const depth = depths(tree);
        let splits = 0;
        for (let node = 0; node < tree.left.length; node++) {
          const rows = nodeRows[node]!;
          const g = sums(rows, grad);
          const h = sums(rows, hess);
          expect(tree.sumHessian[node]).toBeCloseTo(h, 4);
          const best = bruteForceBestSplit(x, rows, grad, hess, thresholds, params);
          if (isLeaf(tree, node)) {
            if (depth[node]! < params.max_depth) expect(best).toBeUndefined();
            expect(tree.condition[node]).toBeCloseTo(expectedLeafValue(g, h, params), 6);
            expect(tree.baseWeight[node]).toBe(tree.condition[node]);
            continue;
          }
          splits++;
          expect(best).toBeDefined();
          // The chosen split is as good as the best one (ties between equivalent thresholds allowed).
          const f = tree.feature[node]!;
          let gl = 0;
          let hl = 0;
          for (const i of rows) {
            if (goesLeft(x.data[i * x.cols + f]!, tree.condition[node]!, tree.defaultLeft[node] === 1)) {
              gl += grad[i]!;
              hl += hess[i]!;
            }
          }
          const gain = nodeGain(gl, hl, params) + nodeGain(g - gl, h - hl, params) - nodeGain(g, h, params);
          expect(gain).toBeCloseTo(best!.gain, 9);
          expect(tree.lossChange[node]).toBeCloseTo(best!.gain, 5);
          expect(tree.baseWeight[node]).toBeCloseTo(leafWeight(g, h, params), 6);
        }
        expect(splits).toBeGreaterThan(0);
      }
    });
  }

  it('picks exactly the brute-force feature, threshold and default direction on a clean example', () => {
    const x = matrixFromRows([
      [0, 5],
      [1, 5],
      [2, NaN_],
      [3, 7],
      [4, 6],
      [5, NaN_],
      [6, 7],
      [7, 6],
    ]);
    const grad = Float64Array.from([0.4, 0.5, 0.3, -0.6, -0.2, 0.6, -0.5, -0.4]);
    const hess = Float64Array.from([0.3, 0.25, 0.2, 0.25, 0.2, 0.25, 0.3, 0.2]);
    const params = { ...DEFAULT_GROW_PARAMS, max_depth: 1, min_child_weight: 0.1 };
    const { tree } = growOnAllRows(x, grad, hess, params);
    const best = bruteForceBestSplit(x, [0, 1, 2, 3, 4, 5, 6, 7], grad, hess, distinctThresholds(x), params)!;
    expect(best).toMatchObject({ feature: 1, threshold: 6, defaultLeft: true });
    expect(tree.feature[0]).toBe(best.feature);
    expect(tree.condition[0]).toBe(best.threshold);
    expect(tree.defaultLeft[0] === 1).toBe(best.defaultLeft);
    // And it is strictly better than every other candidate.
    const others = allSplits(x, [0, 1, 2, 3, 4, 5, 6, 7], grad, hess, distinctThresholds(x), params).filter(
      (s) =>
        s.feature !== best.feature || s.threshold !== best.threshold || s.defaultLeft !== best.defaultLeft,
    );
    expect(others.length).toBeGreaterThan(5);
    for (const other of others) expect(other.gain).toBeLessThan(best.gain);
  });
});

describe('growTree: constraints', () => {
  // Only the first row differs, so every split isolates it with hessian 0.25.
  const x = matrixFromRows([[0], [1], [1], [1], [1], [1], [1], [1]]);
  const grad = Float64Array.from([-2, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]);
  const hess = new Float64Array(8).fill(0.25);

  it('min_child_weight prevents a split whose child has less hessian', () => {
    expect(growOnAllRows(x, grad, hess, { min_child_weight: 0.3 }).tree.left.length).toBe(1);
    expect(growOnAllRows(x, grad, hess, { min_child_weight: 0.25 }).tree.left.length).toBe(3);
  });

  it('gamma prevents a split whose gain is below it', () => {
    const params = { ...DEFAULT_GROW_PARAMS, min_child_weight: 0 };
    const gain = bruteForceBestSplit(x, [0, 1, 2, 3, 4, 5, 6, 7], grad, hess, () => [1], params)!.gain;
    expect(gain).toBeGreaterThan(1);
    expect(growOnAllRows(x, grad, hess, { ...params, gamma: gain + 1e-3 }).tree.left.length).toBe(1);
    const split = growOnAllRows(x, grad, hess, { ...params, gamma: gain - 1e-3 }).tree;
    expect(split.left.length).toBe(3);
    expect(split.lossChange[0]).toBeCloseTo(gain, 5);
  });

  it('makes no split when no split reduces the loss (all gradients equal)', () => {
    const { tree } = growOnAllRows(x, new Float64Array(8).fill(0.5), hess, { min_child_weight: 0 });
    expect(tree.left.length).toBe(1);
    expect(tree.condition[0]).toBeCloseTo((-4 / (2 + 1)) * 0.3, 6);
  });

  it('a leaf with less hessian than min_child_weight gets weight 0', () => {
    const { tree } = growOnAllRows(
      matrixFromRows([[0], [1]]),
      Float64Array.from([1, 1]),
      hess.subarray(0, 2),
      {
        min_child_weight: 1,
      },
    );
    expect(tree.left.length).toBe(1);
    expect(tree.condition[0]).toBe(0);
  });

  it('respects max_depth and reaches it when gains allow', () => {
    const random = new Random(5);
    const data = randomGridMatrix(random, 200, 4, { levels: 20 });
    const { grad: g, hess: h } = randomGradients(random, data.rows);
    for (const maxDepth of [1, 2, 4]) {
      const { tree } = growOnAllRows(data, g, h, { max_depth: maxDepth, min_child_weight: 0 });
      expect(treeDepth(tree)).toBe(maxDepth);
    }
  });
});

describe('growTree: missing values', () => {
  const x = matrixFromRows([[1], [1], [2], [2], [NaN_], [NaN_]]);
  const hess = new Float64Array(6).fill(0.25);
  const params = { min_child_weight: 0, learning_rate: 1, max_depth: 1 };

  it('sends missing values left when they resemble the left rows', () => {
    const { tree } = growOnAllRows(x, Float64Array.from([-1, -1, 1, 1, -1, -1]), hess, params);
    expect(tree.condition[0]).toBe(2);
    expect(tree.defaultLeft[0]).toBe(1);
    expect(tree.sumHessian[1]).toBeCloseTo(1, 6);
    expect(referenceLeaf(tree, [NaN_])).toBe(referenceLeaf(tree, [1]));
  });

  it('sends missing values right when they resemble the right rows', () => {
    const { tree } = growOnAllRows(x, Float64Array.from([-1, -1, 1, 1, 1, 1]), hess, params);
    expect(tree.condition[0]).toBe(2);
    expect(tree.defaultLeft[0]).toBe(0);
    expect(tree.sumHessian[2]).toBeCloseTo(1, 6);
    expect(referenceLeaf(tree, [NaN_])).toBe(referenceLeaf(tree, [2]));
  });

  it('sends missing values right (the default) on features without missing values in training', () => {
    const random = new Random(9);
    const data = randomGridMatrix(random, 80, 3);
    const { grad, hess: h } = randomGradients(random, data.rows);
    const { tree } = growOnAllRows(data, grad, h, { max_depth: 3 });
    expect(tree.left.length).toBeGreaterThan(1);
    expect(Array.from(tree.defaultLeft).every((d) => d === 0)).toBe(true);
  });
});

describe('growTree: layout and bookkeeping', () => {
  const random = new Random(21);
  const x = randomGridMatrix(random, 120, 4, { levels: 10, missing: 0.1 });
  const { grad, hess } = randomGradients(random, x.rows);
  const params = { max_depth: 4, min_child_weight: 0.5, learning_rate: 0.3 };
  const { tree, leafOf, rows } = growOnAllRows(x, grad, hess, params);

  it('numbers nodes breadth-first with the right child right after the left one and consistent parents', () => {
    expect(tree.left.length).toBeGreaterThan(7);
    expect(tree.parent[0]).toBe(NO_PARENT);
    let expectedChild = 1;
    for (let node = 0; node < tree.left.length; node++) {
      if (isLeaf(tree, node)) {
        expect(tree.right[node]).toBe(-1);
        continue;
      }
      expect(tree.left[node]).toBe(expectedChild);
      expect(tree.right[node]).toBe(expectedChild + 1);
      expect(tree.parent[expectedChild]).toBe(node);
      expect(tree.parent[expectedChild + 1]).toBe(node);
      expectedChild += 2;
    }
    expect(expectedChild).toBe(tree.left.length);
    const d = depths(tree);
    for (let node = 1; node < d.length; node++) expect(d[node]!).toBeGreaterThanOrEqual(d[node - 1]!);
  });

  it('stores the root cover as the sum of all hessians and children covers that add up', () => {
    expect(tree.sumHessian[0]).toBeCloseTo(sums([...Array(x.rows).keys()], hess), 4);
    for (let node = 0; node < tree.left.length; node++) {
      if (isLeaf(tree, node)) continue;
      expect(tree.sumHessian[tree.left[node]!]! + tree.sumHessian[tree.right[node]!]!).toBeCloseTo(
        tree.sumHessian[node]!,
        4,
      );
    }
  });

  it('reports each grown row’s leaf, the one a traversal reaches', () => {
    expect(new Set(rows).size).toBe(x.rows);
    for (let k = 0; k < rows.length; k++) {
      expect(leafOf[k]).toBe(referenceLeaf(tree, matrixRow(x, rows[k]!)));
    }
  });

  it('gives leaves -G/(H+lambda) times the learning rate', () => {
    const nodeRows = rowsPerNode(tree, x);
    for (let node = 0; node < tree.left.length; node++) {
      if (!isLeaf(tree, node)) continue;
      const g = sums(nodeRows[node]!, grad);
      const h = sums(nodeRows[node]!, hess);
      expect(tree.condition[node]).toBeCloseTo((-g / (h + 1)) * 0.3, 6);
    }
  });
});

describe('growTree: row and feature subsets', () => {
  it('grows on the given rows only and splits only on allowed features per level', () => {
    const random = new Random(33);
    const x = randomGridMatrix(random, 100, 4, { levels: 8 });
    const { grad, hess } = randomGradients(random, x.rows);
    const context = makeGrowContext(x, { ...DEFAULT_GROW_PARAMS, max_depth: 3, min_child_weight: 0 });
    const subset = Uint32Array.from({ length: 50 }, (_, i) => i * 2);
    const treeFeatures = Int32Array.from([1, 2, 3]);
    const level = (depth: number) => (depth === 0 ? Int32Array.from([2]) : Int32Array.from([1, 3]));
    const { tree, leafOf } = growTree(context, subset, grad, hess, treeFeatures, level);
    expect(tree.sumHessian[0]).toBeCloseTo(
      sums(
        Array.from({ length: 50 }, (_, i) => i * 2),
        hess,
      ),
      4,
    );
    expect(tree.feature[0]).toBe(2);
    const d = depths(tree);
    for (let node = 1; node < tree.left.length; node++) {
      if (!isLeaf(tree, node)) expect([1, 3]).toContain(tree.feature[node]);
      expect(d[node]!).toBeLessThanOrEqual(3);
    }
    for (let k = 0; k < subset.length; k++) {
      expect(subset[k]! % 2).toBe(0);
      expect(leafOf[k]).toBe(referenceLeaf(tree, matrixRow(x, subset[k]!)));
    }
  });
});

/**
 * Reference values from XGBoost 1.7.4 (`python3-xgboost`, tree_method hist, objective binary:logistic,
 * base_score 0.5, eta 1, max_depth 1, one round), read from the saved JSON model.
 */
describe('growTree against XGBoost 1.7.4 reference cases', () => {
  const one = { learning_rate: 1, max_depth: 1, min_child_weight: 0 };

  // XGBoost's forward enumeration also tries the last bin (all present values left, missing right) and its
  // backward enumeration the first (all present right, missing left), so it can split on missingness alone.
  it('splits a constant-or-missing feature on missingness (XGBoost: loss_change 2.5714285)', () => {
    const x = matrixFromRows([[1], [1], [1], [NaN_], [NaN_], [NaN_]]);
    const { grad, hess } = firstRoundGradients([0, 0, 0, 1, 1, 1]);
    const { tree } = growOnAllRows(x, grad, hess, one);
    expect(tree.left.length).toBe(3);
    expect(tree.lossChange[0]).toBeCloseTo(2.5714285, 5);
    expect(tree.condition[referenceLeaf(tree, [1])]).toBeCloseTo(-0.85714287, 6);
    expect(tree.condition[referenceLeaf(tree, [NaN_])]).toBeCloseTo(0.85714287, 6);
  });

  it('splits present from missing values when that is best (XGBoost: loss_change 2.2666667)', () => {
    const x = matrixFromRows([[1], [2], [1], [2], [NaN_], [NaN_]]);
    const { grad, hess } = firstRoundGradients([0, 0, 0, 0, 1, 1]);
    const { tree } = growOnAllRows(x, grad, hess, one);
    // XGBoost: split_condition 4.00001 (above every value), default_left 0, leaves -1.0 and 0.6666667.
    expect(tree.lossChange[0]).toBeCloseTo(2.2666667, 5);
    expect(tree.condition[referenceLeaf(tree, [1])]).toBeCloseTo(-1, 6);
    expect(tree.condition[referenceLeaf(tree, [2])]).toBeCloseTo(-1, 6);
    expect(tree.condition[referenceLeaf(tree, [NaN_])]).toBeCloseTo(0.6666667, 6);
  });

  // XGBoost 1.7's hist evaluator (TreeEvaluator::CalcGainGivenWeight) uses -(2Gw + (H+lambda)w^2) when
  // max_delta_step != 0, with no L1 term; `nodeGain` subtracts 2*alpha*|w|. Same split here, other gain.
  it('reports XGBoost’s loss_change with reg_alpha and max_delta_step (XGBoost: 1.4850001)', () => {
    const x = createMatrix(Float64Array.from([1, 2, 3, 4, 5, 6]), 6, 1);
    const { grad, hess } = firstRoundGradients([0, 0, 0, 1, 1, 1]);
    const { tree } = growOnAllRows(x, grad, hess, { ...one, reg_alpha: 0.5, max_delta_step: 0.3 });
    expect(tree.condition[0]).toBe(4);
    expect(tree.condition[1]).toBeCloseTo(-0.3, 6);
    expect(tree.lossChange[0]).toBeCloseTo(1.4850001, 5);
  });
});
