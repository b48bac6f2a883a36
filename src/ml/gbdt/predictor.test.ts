import { describe, expect, it } from 'vitest';
import { OnsetError } from '../../errors.js';
import { createMatrix, type Matrix } from '../../math/matrix.js';
import { sigmoid as marginToProbability } from '../../math/sigmoid.js';
import { Random } from '../../util/random.js';
import { gbdt } from './gbdt.js';
import { TreeEnsemblePredictor } from './predictor.js';
import { matrixRow, randomGridMatrix, referenceLeaf, referenceMargin } from './test-support.js';
import { type FlatTree, NO_PARENT } from './tree.js';

interface NodeSpec {
  readonly leaf?: number;
  readonly feature?: number;
  readonly threshold?: number;
  readonly defaultLeft?: boolean;
  readonly left?: number;
}

/** A FlatTree from node specs in breadth-first order (`left` given, right = left + 1). */
function flatTree(nodes: readonly NodeSpec[]): FlatTree {
  const n = nodes.length;
  const tree: FlatTree = {
    left: new Int32Array(n),
    right: new Int32Array(n),
    parent: new Int32Array(n).fill(NO_PARENT),
    feature: new Int32Array(n),
    condition: new Float32Array(n),
    defaultLeft: new Uint8Array(n),
    lossChange: new Float32Array(n),
    sumHessian: new Float32Array(n).fill(1),
    baseWeight: new Float32Array(n),
  };
  nodes.forEach((spec, id) => {
    if (spec.leaf !== undefined) {
      tree.left[id] = -1;
      tree.right[id] = -1;
      tree.condition[id] = spec.leaf;
      return;
    }
    const left = spec.left!;
    tree.left[id] = left;
    tree.right[id] = left + 1;
    tree.parent[left] = id;
    tree.parent[left + 1] = id;
    tree.feature[id] = spec.feature!;
    tree.condition[id] = spec.threshold!;
    tree.defaultLeft[id] = spec.defaultLeft ? 1 : 0;
  });
  return tree;
}

/** Random rows mixing NaN, infinities, exact thresholds of the trees and float64 values that round onto them. */
function awkwardRows(random: Random, trees: readonly FlatTree[], rows: number, cols: number): Matrix {
  const thresholds: number[] = [];
  for (const tree of trees)
    tree.left.forEach((left, node) => {
      if (left !== -1) thresholds.push(tree.condition[node]!);
    });
  const data = new Float64Array(rows * cols);
  for (let k = 0; k < data.length; k++) {
    const u = random.next();
    const t = thresholds[random.int(thresholds.length)]!;
    data[k] =
      u < 0.15
        ? Number.NaN
        : u < 0.2
          ? (random.next() < 0.5 ? 1 : -1) * Number.POSITIVE_INFINITY
          : u < 0.4
            ? t
            : u < 0.55
              ? t * (1 + (random.next() - 0.5) * 1e-9) // a float64 neighbour, mostly rounding to t
              : random.int(6) * 0.5 - 1 + (random.next() - 0.5) * 0.3;
  }
  return createMatrix(data, rows, cols);
}

describe('TreeEnsemblePredictor', () => {
  const random = new Random(2024);
  const train = randomGridMatrix(random, 300, 5, { levels: 12, missing: 0.2 });
  const y = Float64Array.from({ length: train.rows }, (_, i) =>
    (train.data[i * 5]! || 0) + (train.data[i * 5 + 1]! || 0) + random.normal() * 0.5 > 0 ? 1 : 0,
  );
  const model = gbdt({ n_estimators: 25, max_depth: 4, min_child_weight: 0.5, seed: 1 }).fit(train, y);
  const trees = model.trees;
  const base = 0.37;
  const predictor = new TreeEnsemblePredictor(trees, base, 5);
  const x = awkwardRows(random, trees, 400, 5);

  it('computes the same margins as a plain traversal of the FlatTree arrays (float32 sums)', () => {
    expect(trees.length).toBe(25);
    expect(trees.some((t) => t.defaultLeft.includes(1))).toBe(true);
    const margins = predictor.predictMargin(x);
    for (let i = 0; i < x.rows; i++) expect(margins[i]).toBe(referenceMargin(trees, base, matrixRow(x, i)));
  });

  it('uses only the first trees when given a tree limit', () => {
    const margins = predictor.predictMargin(x, 3);
    for (let i = 0; i < x.rows; i++) {
      expect(margins[i]).toBe(referenceMargin(trees.slice(0, 3), base, matrixRow(x, i)));
    }
    expect(Array.from(predictor.predictMargin(x, 0))).toEqual(new Array(x.rows).fill(Math.fround(base)));
  });

  it('gives predictMarginOne the margin predictMargin gives the same row', () => {
    const margins = predictor.predictMargin(x);
    for (let i = 0; i < x.rows; i++) {
      expect(predictor.predictMarginOne(Array.from(matrixRow(x, i)))).toBe(margins[i]);
    }
  });

  it('reports the leaf a traversal reaches in each tree', () => {
    for (let i = 0; i < 50; i++) {
      const row = matrixRow(x, i);
      trees.forEach((tree, t) => {
        expect(predictor.leafIndex(row, t)).toBe(referenceLeaf(tree, row));
      });
    }
  });

  it('rejects rows with the wrong number of features', () => {
    const wide = createMatrix(new Float64Array(12), 2, 6);
    expect(() => predictor.predictMargin(wide)).toThrow(/expects 5 features per row, got 6/);
    expect(() => predictor.predictMarginOne([1, 2, 3, 4])).toThrow(/expects 5 features per row, got 4/);
    try {
      predictor.predictMarginOne([]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(OnsetError);
      expect((error as OnsetError).code).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('does not change the model it predicts from', () => {
    const before = JSON.stringify(model.toJSON());
    model.predictMargin(x);
    model.predictProbaOne(Array.from(matrixRow(x, 0)));
    expect(JSON.stringify(model.toJSON())).toBe(before);
  });
});

describe('TreeEnsemblePredictor arithmetic', () => {
  it('accumulates the margin in float32, as XGBoost', () => {
    const tiny = Array.from({ length: 10 }, () => flatTree([{ leaf: 1e-8 }]));
    const predictor = new TreeEnsemblePredictor(tiny, 1, 1);
    // In float64 the sum would be 1 + 1e-7; in float32 each addition of 1e-8 to 1 rounds back to 1.
    expect(predictor.predictMarginOne([0])).toBe(1);
    const small = new TreeEnsemblePredictor([flatTree([{ leaf: 0.1 }]), flatTree([{ leaf: 0.2 }])], 0, 1);
    expect(small.predictMarginOne([0])).toBe(Math.fround(Math.fround(0.1) + Math.fround(0.2)));
  });

  it('rounds the base margin to float32', () => {
    const predictor = new TreeEnsemblePredictor([flatTree([{ leaf: 0 }])], 0.1, 1);
    expect(predictor.predictMarginOne([0])).toBe(Math.fround(0.1));
  });

  it('compares float32 feature values with x < threshold', () => {
    const threshold = Math.fround(0.1);
    const tree = flatTree([{ feature: 0, threshold, left: 1 }, { leaf: -1 }, { leaf: 1 }]);
    const predictor = new TreeEnsemblePredictor([tree], 0, 1);
    expect(predictor.predictMarginOne([threshold])).toBe(1); // equal: right
    expect(predictor.predictMarginOne([0.1])).toBe(1); // float64 0.1 < threshold, but float32(0.1) == threshold
    expect(predictor.predictMarginOne([0.0999999])).toBe(-1);
    expect(predictor.predictMarginOne([Number.NEGATIVE_INFINITY])).toBe(-1);
    expect(predictor.predictMarginOne([Number.POSITIVE_INFINITY])).toBe(1);
    expect(predictor.predictMarginOne([1e300])).toBe(1); // float32 overflow to +inf
  });

  it('sends missing values the learned default way at each node', () => {
    // Root on feature 1 (default right); node 2 on feature 0 (default left).
    const tree = flatTree([
      { feature: 1, threshold: 0, left: 1, defaultLeft: false },
      { leaf: 10 },
      { feature: 0, threshold: 5, left: 3, defaultLeft: true },
      { leaf: 20 },
      { leaf: 30 },
    ]);
    const predictor = new TreeEnsemblePredictor([tree], 0, 2);
    expect(predictor.predictMarginOne([Number.NaN, Number.NaN])).toBe(20);
    expect(predictor.predictMarginOne([7, Number.NaN])).toBe(30);
    expect(predictor.predictMarginOne([Number.NaN, -1])).toBe(10);
    expect(predictor.leafIndex([Number.NaN, Number.NaN], 0)).toBe(3);
  });

  it('turns margins into probabilities with the sigmoid', () => {
    expect(marginToProbability(0)).toBe(0.5);
    expect(marginToProbability(Math.log(3))).toBeCloseTo(0.75, 14);
  });
});
