import { describe, expect, it } from 'vitest';
import { refusalOf } from '../../../test/support/onset-error.js';
import { createMatrix, type Matrix, matrixFromRows } from '../../math/matrix.js';
import { sigmoid } from '../../math/sigmoid.js';
import { Random } from '../../util/random.js';
import { logisticGradients, meanLogLoss } from '../gbdt/loss.js';
import { checkTreeStructure, type FlatTree } from '../gbdt/tree.js';
import { loadObliviousModel, type ObliviousState, oblivious } from './oblivious.js';
import { leafIndexOf, treeDepthOf } from './symmetric-tree.js';

const NaN_ = Number.NaN;

/**
 * y = 1[x0 + x1 > 1] flipped with probability `noise`; x2 is noise with some cells missing; x3 is a
 * categorical code 0..3 whose positive rate rises with the code.
 */
function synthetic(seed: number, rows: number, noise = 0.05): { x: Matrix; y: Float64Array } {
  const random = new Random(seed);
  const data = new Float64Array(rows * 4);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const x0 = random.next();
    const x1 = random.next();
    const code = random.int(4);
    data[i * 4] = x0;
    data[i * 4 + 1] = x1;
    data[i * 4 + 2] = random.next() < 0.1 ? NaN_ : random.normal();
    data[i * 4 + 3] = code;
    let label = x0 + x1 > 1 ? 1 : 0;
    if (random.next() < code * 0.1) label = 1;
    y[i] = random.next() < noise ? 1 - label : label;
  }
  return { x: createMatrix(data, rows, 4), y };
}

function row(x: Matrix, i: number): Float64Array {
  return x.data.subarray(i * x.cols, (i + 1) * x.cols);
}

/** The leaf a row reaches in a flat tree, following left/right as saved (float32 comparisons). */
function flatLeaf(tree: FlatTree, values: ArrayLike<number>): number {
  let node = 0;
  while (tree.left[node] !== -1) {
    const value = Math.fround(values[tree.feature[node]!]!);
    const left = Number.isNaN(value) ? tree.defaultLeft[node] === 1 : value < tree.condition[node]!;
    node = left ? tree.left[node]! : tree.right[node]!;
  }
  return node;
}

const CATEGORICAL = { categoricalFeatures: [3] };
const small = synthetic(1, 300);
const fast = { iterations: 20, depth: 3, learning_rate: 0.2 };
const fitted = oblivious(fast, CATEGORICAL).fit(small.x, small.y);

describe('oblivious parameters', () => {
  it('defaults to CatBoost’s values', () => {
    expect(oblivious().getParams()).toEqual({
      iterations: 1000,
      learning_rate: 0.03,
      depth: 6,
      l2_leaf_reg: 3,
      border_count: 254,
      random_strength: 1,
      rsm: 1,
      permutation_count: 4,
      scale_pos_weight: 1,
      boost_from_average: false,
      early_stopping_rounds: null,
      random_seed: 0,
    });
  });

  it('accepts CatBoost’s aliases and numbers given as strings', () => {
    expect(
      oblivious({ n_estimators: '50', eta: 0.1, max_depth: 4, reg_lambda: 2, random_state: 5 }).getParams(),
    ).toMatchObject({ iterations: 50, learning_rate: 0.1, depth: 4, l2_leaf_reg: 2, random_seed: 5 });
  });

  it.each([
    ['depth', 11, /depth of oblivious: expected an integer in \[1, 10\]/],
    ['depth', 0, /expected an integer in \[1, 10\]/],
    ['learning_rate', 0, /learning_rate of oblivious: expected a number in \(0, 1\]/],
    ['l2_leaf_reg', 0, /l2_leaf_reg of oblivious: expected a number in \(0, inf\)/],
    ['rsm', 0, /rsm of oblivious: expected a number in \(0, 1\]/],
    ['iterations', 1.5, /iterations of oblivious: expected an integer/],
    ['border_count', 0, /border_count of oblivious: expected an integer in \[1, 65533\]/],
  ])('rejects %s = %s', (name, value, pattern) => {
    expect(refusalOf(() => oblivious({ [name]: value })).message).toMatch(pattern);
  });

  it('rejects categorical features that are not distinct column indices', () => {
    expect(refusalOf(() => oblivious({}, { categoricalFeatures: [-1] })).message).toMatch(
      /not a column index/,
    );
    expect(refusalOf(() => oblivious({}, { categoricalFeatures: [2, 2] })).message).toMatch(/twice/);
    expect(
      refusalOf(() => oblivious(fast, { categoricalFeatures: [4] }).fit(small.x, small.y)).message,
    ).toMatch(/categorical feature 4 is not a column index below 4/);
  });
});

describe('oblivious fit checks', () => {
  const x = matrixFromRows([[0], [1], [2], [3]]);

  it('rejects infinite features and early stopping without a validation set', () => {
    const bad = matrixFromRows([[0], [Number.POSITIVE_INFINITY], [2], [3]]);
    expect(refusalOf(() => oblivious(fast).fit(bad, Float64Array.from([0, 1, 0, 1]))).message).toMatch(
      /feature 1 of training row 2 is infinite/,
    );
    expect(
      refusalOf(() =>
        oblivious({ ...fast, early_stopping_rounds: 3 }).fit(x, Float64Array.from([0, 1, 0, 1])),
      ).message,
    ).toMatch(/early_stopping_rounds needs a validation set/);
  });
});

describe('symmetric trees', () => {
  it('has one split per level and 2^depth leaves; the flat trees repeat each level’s split', () => {
    expect(fitted.trees).toHaveLength(20);
    for (const tree of fitted.trees) {
      expect(treeDepthOf(tree)).toBe(3);
      expect(tree.leafValues).toHaveLength(8);
    }
    for (const flat of fitted.toFlatTrees()) {
      expect(checkTreeStructure(flat, 4)).toBeUndefined();
      expect(flat.left).toHaveLength(15);
      for (let level = 0; level < 3; level++) {
        const nodes = Array.from({ length: 2 ** level }, (_, k) => 2 ** level - 1 + k);
        expect(new Set(nodes.map((node) => flat.feature[node]))).toHaveLength(1);
        expect(new Set(nodes.map((node) => flat.condition[node]))).toHaveLength(1);
        for (const node of nodes) expect(flat.defaultLeft[node]).toBe(1);
      }
    }
  });

  it('indexes leaves by the level bits, level 0 the lowest bit; missing values go left', () => {
    const tree = {
      features: Int32Array.from([0, 1, 0]),
      thresholds: Float32Array.from([0.5, 2, 0.8]),
      leafValues: new Float32Array(8),
      leafWeights: new Float64Array(8),
    };
    expect(leafIndexOf(tree, [0.1, 1])).toBe(0b000);
    expect(leafIndexOf(tree, [0.6, 1])).toBe(0b001);
    expect(leafIndexOf(tree, [0.1, 3])).toBe(0b010);
    expect(leafIndexOf(tree, [0.9, 3])).toBe(0b111);
    expect(leafIndexOf(tree, [0.6, 2])).toBe(0b011); // x >= threshold goes right
    expect(leafIndexOf(tree, [NaN_, 3])).toBe(0b010);
  });

  it('predicts what a straightforward evaluation of the trees gives, rows with missing values included', () => {
    const test = synthetic(2, 200);
    const margin = fitted.predictMargin(test.x);
    const proba = fitted.predictProba(test.x);
    const stats = fitted.categoryStatistics[0]!;
    for (let i = 0; i < test.x.rows; i++) {
      const values = Array.from(row(test.x, i));
      const id = stats.values.indexOf(values[3]!);
      values[3] =
        id < 0 ? fitted.targetPrior : (stats.positives[id]! + fitted.targetPrior) / (stats.counts[id]! + 1);
      let expected = fitted.baseMargin;
      for (const tree of fitted.trees) expected += tree.leafValues[leafIndexOf(tree, values)]!;
      expect(margin[i]).toBe(expected);
      expect(proba[i]).toBe(sigmoid(expected));
    }
  });

  it('predicts as the straightforward evaluation at depth 6 (its unrolled path) and with trees of several depths', () => {
    const train = synthetic(5, 400);
    const deep = oblivious({ iterations: 15, depth: 6, learning_rate: 0.2 }, CATEGORICAL).fit(
      train.x,
      train.y,
    );
    // A state whose second tree is cut to its first level: shallower trees share the arrays of deep ones.
    const state = JSON.parse(JSON.stringify(deep.toJSON())) as ObliviousState;
    const cut = state.trees[1]!;
    const shallow = {
      features: cut.features.slice(0, 1),
      thresholds: cut.thresholds.slice(0, 1),
      leaf_values: [0.25, -0.5],
      leaf_weights: [1, 1],
    };
    const mixed = loadObliviousModel({ ...state, trees: [state.trees[0], shallow, ...state.trees.slice(2)] });
    const test = synthetic(6, 200);
    for (const model of [deep, mixed]) {
      const margin = model.predictMargin(test.x);
      const encoded = model.routingMatrix(test.x);
      for (let i = 0; i < test.x.rows; i++) {
        const values = Array.from(row(encoded, i));
        let expected = model.baseMargin;
        for (const tree of model.trees) expected += tree.leafValues[leafIndexOf(tree, values)]!;
        expect(margin[i]).toBe(expected);
        expect(model.predictProbaOne(row(test.x, i))).toBe(sigmoid(expected));
      }
    }
    expect(mixed.trees.map((tree) => treeDepthOf(tree)).slice(0, 3)).toEqual([6, 1, 6]);
  });

  it('sends a missing value left, so a split at a feature’s minimum separates missing values', () => {
    const random = new Random(4);
    const rows = Array.from({ length: 200 }, () => [
      random.next() < 0.3 ? NaN_ : random.next(),
      random.next(),
    ]);
    const y = Float64Array.from(rows, (r) => (Number.isNaN(r[0]!) ? 1 : 0));
    const model = oblivious({ iterations: 30, depth: 1, learning_rate: 0.3, random_strength: 0 }).fit(
      matrixFromRows(rows),
      y,
    );
    expect(model.trees[0]!.features[0]).toBe(0);
    const p = model.predictProba(
      matrixFromRows([
        [NaN_, 0.5],
        [0.01, 0.5],
        [0.99, 0.5],
      ]),
    );
    expect(p[0]).toBeGreaterThan(0.9);
    expect(p[1]).toBeLessThan(0.1);
    expect(p[2]).toBeLessThan(0.1);
  });

  it('keeps training margins equal to the model’s predictions when no column is categorical', () => {
    const model = oblivious(fast).fit(small.x, small.y);
    const last = model.history.train_logloss.at(-1);
    expect(meanLogLoss(model.predictMargin(small.x), small.y)).toBe(last);
  });

  it('learns the signal, the categorical column included', () => {
    const train = synthetic(6, 600);
    const test = synthetic(5, 400);
    const model = oblivious({ iterations: 200, depth: 4, learning_rate: 0.1 }, CATEGORICAL).fit(
      train.x,
      train.y,
    );
    const p = model.predictProba(test.x);
    let right = 0;
    for (let i = 0; i < p.length; i++) if ((p[i]! > 0.5 ? 1 : 0) === test.y[i]) right++;
    expect(right / p.length).toBeGreaterThan(0.8);
    expect(model.trees.some((tree) => tree.features.includes(3))).toBe(true);
  });
});

describe('categorical features', () => {
  it('cannot learn from a category unique to each row (no target leakage in training)', () => {
    const random = new Random(8);
    const n = 300;
    const rows = Array.from({ length: n }, (_, i) => [i, random.next()]);
    const y = Float64Array.from({ length: n }, () => random.int(2));
    const model = oblivious({ iterations: 30, depth: 3 }, { categoricalFeatures: [0] }).fit(
      matrixFromRows(rows),
      y,
    );
    // The training-time encoding is the prior for every row: one bin, so column 0 can never split.
    for (const tree of model.trees) expect(Array.from(tree.features)).not.toContain(0);
    // Prediction-time statistics use every row: each id's own label.
    const routing = model.routingMatrix(matrixFromRows(rows));
    const prior = model.targetPrior;
    for (let i = 0; i < n; i++) expect(routing.data[i * 2]).toBe(Math.fround((y[i]! + prior) / 2));
  });

  it('replaces categorical columns by their full-data statistics in the routing matrix', () => {
    const routing = fitted.routingMatrix(small.x);
    const stats = fitted.categoryStatistics[0]!;
    for (let i = 0; i < small.x.rows; i++) {
      const code = small.x.data[i * 4 + 3]!;
      const id = stats.values.indexOf(code);
      const expected = (stats.positives[id]! + fitted.targetPrior) / (stats.counts[id]! + 1);
      expect(routing.data[i * 4 + 3]).toBe(Math.fround(expected));
      expect(routing.data[i * 4]).toBe(Math.fround(small.x.data[i * 4]!));
    }
    expect(stats.counts.reduce((a, b) => a + b, 0)).toBe(small.x.rows);
  });
});

describe('early stopping and history', () => {
  it('stops when the validation loss stalls and keeps the best iteration', () => {
    const train = synthetic(11, 200, 0.3);
    const valid = synthetic(12, 200, 0.3);
    const model = oblivious({ iterations: 500, depth: 6, learning_rate: 0.3, early_stopping_rounds: 5 }).fit(
      train.x,
      train.y,
      { validation: valid },
    );
    const best = model.bestIteration!;
    expect(best).not.toBeNull();
    const losses = model.history.valid_logloss!;
    expect(losses).toHaveLength(best + 1 + 5);
    expect(model.history.train_logloss).toHaveLength(losses.length);
    expect(Math.min(...losses)).toBe(losses[best]);
    expect(model.trees).toHaveLength(best + 1);
    expect(meanLogLoss(model.predictMargin(valid.x), valid.y)).toBeCloseTo(losses[best]!, 12);
  });

  it('records per-iteration training and validation losses without early stopping', () => {
    const valid = synthetic(13, 100);
    const progress: number[] = [];
    const model = oblivious(fast).fit(small.x, small.y, {
      validation: valid,
      onProgress: ({ iteration }) => progress.push(iteration),
    });
    expect(model.bestIteration).toBeNull();
    expect(model.trees).toHaveLength(20);
    expect(model.history.train_logloss).toHaveLength(20);
    expect(model.history.valid_logloss).toHaveLength(20);
    expect(model.history.train_logloss[19]!).toBeLessThan(model.history.train_logloss[0]!);
    expect(progress).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});

describe('saving', () => {
  it('writes the full-data statistics of each categorical feature', () => {
    const state = JSON.parse(JSON.stringify(fitted.toJSON())) as ObliviousState;
    expect(state.categorical_features).toEqual([3]);
    expect(state.category_statistics).toHaveLength(1);
    expect(state.category_statistics[0]!.feature).toBe(3);
  });

  it('rejects a state whose parts do not fit together, saying which', () => {
    const state = JSON.parse(JSON.stringify(fitted.toJSON())) as Record<string, unknown>;
    expect(refusalOf(() => loadObliviousModel({ ...state, trees: [] })).message).toMatch(/non-empty/);
    const trees = state.trees as Record<string, unknown>[];
    const shortTree = { ...trees[0], leaf_values: [0] };
    expect(refusalOf(() => loadObliviousModel({ ...state, trees: [shortTree] })).message).toMatch(
      /tree 0: a tree of depth 3 needs 8 leaf values/,
    );
    expect(refusalOf(() => loadObliviousModel({ ...state, category_statistics: [] })).message).toMatch(
      /one entry per categorical feature/,
    );
  });
});

describe('explainInputs', () => {
  it('gives flat trees that route every row to the leaf value the model uses', () => {
    const test = synthetic(21, 150);
    const { trees, baseMargin, routing } = fitted.explainInputs(test.x);
    expect(baseMargin).toBe(fitted.baseMargin);
    const margin = fitted.predictMargin(test.x);
    for (let i = 0; i < test.x.rows; i++) {
      const values = row(routing, i);
      let sum = baseMargin;
      trees.forEach((tree, t) => {
        const value = tree.condition[flatLeaf(tree, values)]!;
        expect(value).toBe(fitted.trees[t]!.leafValues[leafIndexOf(fitted.trees[t]!, values)]);
        sum += value;
      });
      expect(Math.abs(sum - margin[i]!)).toBeLessThan(1e-9);
    }
  });

  it('gives covers that are training hessian sums, each node the sum of its children', () => {
    const model = oblivious({ ...fast, iterations: 5 }, CATEGORICAL).fit(small.x, small.y);
    const firstFour = oblivious({ ...fast, iterations: 4 }, CATEGORICAL).fit(small.x, small.y);
    const flat = model.toFlatTrees();
    // Tree 0 starts from margin 0: every hessian is 1/4.
    expect(flat[0]!.sumHessian[0]).toBeCloseTo(small.x.rows / 4, 4);
    // Tree 4's root cover: the sum of hessians at the margins after four trees (without categorical
    // columns, the training margins are the model's predictions).
    const numeric = oblivious({ ...fast, iterations: 5 }).fit(small.x, small.y);
    const numericFour = oblivious({ ...fast, iterations: 4 }).fit(small.x, small.y);
    const grad = new Float64Array(small.x.rows);
    const hess = new Float64Array(small.x.rows);
    logisticGradients(numericFour.predictMargin(small.x), small.y, 1, grad, hess);
    const expected = hess.reduce((a, b) => a + b, 0);
    expect(numeric.toFlatTrees()[4]!.sumHessian[0]).toBeCloseTo(expected, 3);
    expect(firstFour.toJSON().trees).toEqual(model.toJSON().trees.slice(0, 4));
    for (const tree of flat) {
      for (let node = 0; node < tree.left.length; node++) {
        if (tree.left[node] === -1) continue;
        const children = tree.sumHessian[tree.left[node]!]! + tree.sumHessian[tree.right[node]!]!;
        expect(tree.sumHessian[node]).toBeCloseTo(children, 3);
      }
    }
  });
});
