import { describe, expect, it } from 'vitest';
import { refusalOf } from '../../../test/support/onset-error.js';
import { createMatrix, type Matrix, matrixFromRows } from '../../math/matrix.js';
import { Random } from '../../util/random.js';
import { baseMargin, type GbdtState, gbdt, loadGbdtModel } from './gbdt.js';
import { meanLogLoss } from './loss.js';
import { TreeEnsemblePredictor } from './predictor.js';

const NaN_ = Number.NaN;

/** y = 1[x0 + x1 > 1], flipped with probability `noise`; x2 is pure noise; some cells of x2 missing. */
function synthetic(seed: number, rows: number, noise = 0.05): { x: Matrix; y: Float64Array } {
  const random = new Random(seed);
  const data = new Float64Array(rows * 3);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const x0 = random.next();
    const x1 = random.next();
    data[i * 3] = x0;
    data[i * 3 + 1] = x1;
    data[i * 3 + 2] = random.next() < 0.1 ? NaN_ : random.normal();
    const label = x0 + x1 > 1 ? 1 : 0;
    y[i] = random.next() < noise ? 1 - label : label;
  }
  return { x: createMatrix(data, rows, 3), y };
}

function accuracy(p: Float64Array, y: Float64Array): number {
  let right = 0;
  for (let i = 0; i < y.length; i++) if ((p[i]! > 0.5 ? 1 : 0) === y[i]) right++;
  return right / y.length;
}

const small = synthetic(1, 200);
const fast = { n_estimators: 10, max_depth: 3 };

describe('gbdt parameters', () => {
  it('defaults to XGBoost’s values', () => {
    expect(gbdt().getParams()).toEqual({
      n_estimators: 100,
      learning_rate: 0.3,
      max_depth: 6,
      min_child_weight: 1,
      reg_lambda: 1,
      reg_alpha: 0,
      gamma: 0,
      subsample: 1,
      colsample_bytree: 1,
      colsample_bylevel: 1,
      max_delta_step: 0,
      scale_pos_weight: 1,
      max_bin: 256,
      base_score: 0.5,
      early_stopping_rounds: null,
      seed: 0,
    });
  });

  it('accepts XGBoost’s aliases', () => {
    const params = gbdt({
      eta: 0.1,
      lambda: 2,
      alpha: 0.5,
      min_split_loss: 1.5,
      random_state: 7,
      num_boost_round: 12,
    }).getParams();
    expect(params).toMatchObject({
      learning_rate: 0.1,
      reg_lambda: 2,
      reg_alpha: 0.5,
      gamma: 1.5,
      seed: 7,
      n_estimators: 12,
    });
    expect(params).not.toHaveProperty('eta');
  });

  it('accepts numbers given as strings (from --param key=value)', () => {
    expect(gbdt({ max_depth: '3', eta: '0.05', early_stopping_rounds: 'none' }).getParams()).toMatchObject({
      max_depth: 3,
      learning_rate: 0.05,
      early_stopping_rounds: null,
    });
  });

  it('rejects a parameter given under its name and an alias', () => {
    expect(refusalOf(() => gbdt({ eta: 0.1, learning_rate: 0.2 })).message).toMatch(
      /learning_rate of gbdt is given twice/,
    );
  });

  it.each([
    ['learning_rate', 0, /learning_rate of gbdt: expected a number in \(0, 1\]/],
    ['learning_rate', 1.5, /expected a number in \(0, 1\]/],
    ['max_depth', 0, /max_depth of gbdt: expected an integer in \[1, 16\]/],
    ['max_depth', 2.5, /expected an integer in \[1, 16\]/],
    ['n_estimators', 0, /n_estimators of gbdt: expected an integer in \[1, 100000\]/],
    ['subsample', 0, /subsample of gbdt: expected a number in \(0, 1\]/],
    ['reg_lambda', -1, /reg_lambda of gbdt: expected a number in \[0, inf\)/],
    ['min_child_weight', -0.5, /min_child_weight of gbdt: expected a number in \[0, inf\)/],
    ['base_score', 1, /base_score of gbdt: expected a number in \(0, 1\)/],
    ['max_bin', 1, /max_bin of gbdt: expected an integer in \[2, 65535\]/],
    ['scale_pos_weight', 0, /scale_pos_weight of gbdt: expected a number in \(0, inf\)/],
    ['early_stopping_rounds', 0, /expected an integer in \[1, inf\) or null/],
    ['gamma', 'lots', /Invalid value "lots" for parameter gamma/],
  ])('rejects %s = %s with the allowed range', (name, value, pattern) => {
    expect(refusalOf(() => gbdt({ [name]: value })).message).toMatch(pattern);
  });
});

describe('gbdt.fit input checks', () => {
  it('rejects infinite feature values, naming the row and feature', () => {
    const inf = matrixFromRows([
      [1, 2],
      [3, Number.NEGATIVE_INFINITY],
    ]);
    expect(refusalOf(() => gbdt(fast).fit(inf, Float64Array.from([0, 1]))).message).toMatch(
      /feature 2 of training row 2 is infinite/,
    );
  });

  it('rejects early_stopping_rounds without a validation set', () => {
    expect(
      refusalOf(() => gbdt({ ...fast, early_stopping_rounds: 3 }).fit(small.x, small.y)).message,
    ).toMatch(/early_stopping_rounds needs a validation set/);
  });

  it('rejects a validation set with another feature count', () => {
    const validation = { x: matrixFromRows([[1, 2]]), y: Float64Array.from([1]) };
    expect(refusalOf(() => gbdt(fast).fit(small.x, small.y, { validation })).message).toMatch(
      /validation set has 2 features; training has 3/,
    );
  });
});

describe('gbdt fitting', () => {
  it('learns a synthetic problem: training accuracy > 0.9, held-out > 0.85, loss falling every round', () => {
    const train = synthetic(2, 500);
    const test = synthetic(3, 500);
    const model = gbdt({ n_estimators: 30, max_depth: 3 }).fit(train.x, train.y);
    expect(accuracy(model.predictProba(train.x), train.y)).toBeGreaterThan(0.9);
    expect(accuracy(model.predictProba(test.x), test.y)).toBeGreaterThan(0.85);
    const history = model.history.train_logloss;
    expect(history.length).toBe(30);
    for (let r = 1; r < history.length; r++) expect(history[r]!).toBeLessThan(history[r - 1]!);
    expect(history[0]!).toBeLessThan(Math.log(2));
    expect(model.history.valid_logloss).toBeUndefined();
  });

  it('records training loss that matches the fitted model’s own predictions', () => {
    for (const subsample of [1, 0.6]) {
      const model = gbdt({ ...fast, subsample, seed: 4 }).fit(small.x, small.y);
      const last = model.history.train_logloss.at(-1)!;
      expect(last).toBeCloseTo(meanLogLoss(model.predictMargin(small.x), small.y), 5);
    }
  });

  it('starts from base_score: the margin is logit(base_score) plus the trees', () => {
    const model = gbdt({ ...fast, base_score: 0.2 }).fit(small.x, small.y);
    const bare = new TreeEnsemblePredictor(model.trees, baseMargin(0.2), 3);
    expect(Array.from(model.predictMargin(small.x))).toEqual(Array.from(bare.predictMargin(small.x)));
    expect(baseMargin(0.2)).toBeCloseTo(Math.log(0.25), 6);
    expect(model.toJSON().base_score).toBe(0.2);
  });

  it('reports progress once per round', () => {
    const seen: number[] = [];
    gbdt({ ...fast, n_estimators: 4 }).fit(small.x, small.y, {
      onProgress: (p) => {
        expect(p.total).toBe(4);
        seen.push(p.iteration);
      },
    });
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('weights positives by scale_pos_weight (higher predicted probabilities)', () => {
    const plain = gbdt(fast).fit(small.x, small.y).predictProba(small.x);
    const weighted = gbdt({ ...fast, scale_pos_weight: 5 })
      .fit(small.x, small.y)
      .predictProba(small.x);
    const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(weighted)).toBeGreaterThan(mean(plain) + 0.05);
  });

  it('honours max_depth and colsample_bytree (one of three features per tree)', () => {
    const model = gbdt({ ...fast, max_depth: 2, colsample_bytree: 0.34, seed: 3 }).fit(small.x, small.y);
    for (const tree of model.trees) {
      expect(tree.left.length).toBeLessThanOrEqual(7);
      const used = new Set(Array.from(tree.feature).filter((_, node) => tree.left[node] !== -1));
      expect(used.size).toBeLessThanOrEqual(1);
    }
  });
});

describe('gbdt early stopping', () => {
  // Noisy labels and deep trees: the validation loss soon stops improving.
  const train = synthetic(5, 300, 0.3);
  const valid = synthetic(6, 200, 0.3);
  const params = { n_estimators: 60, max_depth: 6, learning_rate: 0.5, min_child_weight: 0 };

  it('stops after early_stopping_rounds rounds without improvement and keeps trees 0..best_iteration', () => {
    const model = gbdt({ ...params, early_stopping_rounds: 4 }).fit(train.x, train.y, { validation: valid });
    const { train_logloss, valid_logloss } = model.history;
    const best = model.bestIteration!;
    expect(best).not.toBeNull();
    expect(valid_logloss).toBeDefined();
    expect(train_logloss.length).toBe(valid_logloss!.length);
    expect(train_logloss.length).toBeLessThan(params.n_estimators);
    expect(train_logloss.length).toBe(best + 1 + 4);
    expect(model.trees.length).toBe(best + 1);
    expect(Math.min(...valid_logloss!)).toBe(valid_logloss![best]);
    for (let r = best + 1; r < valid_logloss!.length; r++)
      expect(valid_logloss![r]!).toBeGreaterThanOrEqual(valid_logloss![best]!);
    expect(model.toJSON().best_iteration).toBe(best);
  });

  it('keeps the same first trees a full fit grows, so predictions equal the full model truncated', () => {
    const stopped = gbdt({ ...params, early_stopping_rounds: 4 }).fit(train.x, train.y, {
      validation: valid,
    });
    const full = gbdt(params).fit(train.x, train.y, { validation: valid });
    expect(full.trees.length).toBe(params.n_estimators);
    expect(full.bestIteration).toBeNull();
    expect(full.history.valid_logloss!.slice(0, stopped.history.valid_logloss!.length)).toEqual(
      stopped.history.valid_logloss,
    );
    const truncated = new TreeEnsemblePredictor(full.trees.slice(0, stopped.trees.length), 0, 3);
    expect(Array.from(stopped.predictMargin(valid.x))).toEqual(Array.from(truncated.predictMargin(valid.x)));
  });
});

describe('gbdt save and load', () => {
  const validation = synthetic(8, 100);
  const model = gbdt({ ...fast, early_stopping_rounds: 3, n_estimators: 15 }).fit(small.x, small.y, {
    validation,
  });
  const text = JSON.stringify(model.toJSON());

  it('round-trips an early-stopped model (best_iteration, validation history) to identical JSON text', () => {
    expect(model.bestIteration).not.toBeNull();
    const loaded = loadGbdtModel(JSON.parse(text));
    expect(JSON.stringify(loaded.toJSON())).toBe(text);
    expect(loaded.bestIteration).toBe(model.bestIteration);
    expect(loaded.history.valid_logloss).toEqual(model.history.valid_logloss);
  });

  it('writes a name-tagged state with XGBoost-shaped tree arrays', () => {
    const state = JSON.parse(text) as GbdtState;
    expect(state.name).toBe('gbdt');
    expect(state.feature_count).toBe(3);
    const tree = state.trees[0]!;
    expect(tree.parents[0]).toBe(2147483647);
    expect(tree.left_children.length).toBe(tree.split_conditions.length);
  });

  const mutated = (
    change: (state: { trees: Record<string, number[]>[] } & Record<string, unknown>) => void,
  ) => {
    const state = JSON.parse(text);
    change(state);
    return () => loadGbdtModel(state);
  };

  it('rejects a right child not stored right after the left one', () => {
    const check = mutated((s) => {
      const tree = s.trees[0]!;
      const node = tree.left_children!.findIndex((l) => l !== -1);
      tree.right_children![node] = tree.left_children![node]! + 2;
    });
    expect(refusalOf(check).message).toMatch(
      /tree 0 node 0 has children 1 and 3; expected .* right child after it/,
    );
  });

  it('rejects a split on a feature the model does not have', () => {
    const check = mutated((s) => {
      s.trees[1]!.split_indices![0] = 3;
    });
    expect(refusalOf(check).message).toMatch(/tree 1 node 0 splits on feature 3; the model has 3/);
  });

  it('rejects children that do not name their parent, and arrays of different lengths', () => {
    expect(refusalOf(mutated((s) => (s.trees[0]!.parents![1] = 2))).message).toMatch(
      /do not name it as parent/,
    );
    expect(refusalOf(mutated((s) => s.trees[0]!.sum_hessian!.pop())).message).toMatch(/different lengths/);
  });

  it('rejects a feature count, base score or tree list out of range', () => {
    expect(refusalOf(mutated((s) => (s.feature_count = 0))).message).toMatch(
      /feature_count must be a positive integer, got 0/,
    );
    expect(refusalOf(mutated((s) => (s.base_score = 1))).message).toMatch(/base_score must be a probability/);
    expect(refusalOf(mutated((s) => (s.trees = []))).message).toMatch(/trees must be a non-empty array/);
  });
});

/**
 * XGBoost 1.7.4 (`python3-xgboost`): xgb.train({objective: binary:logistic, tree_method: hist, max_depth: 2,
 * eta: 0.3, base_score: 0.5, min_child_weight: 0.5, reg_lambda: 1}, 3 rounds) on the data below; the tree
 * arrays of the saved JSON model and `predict(output_margin=True)`.
 */
describe('gbdt against XGBoost 1.7.4', () => {
  const x = matrixFromRows([
    [0.5, 3],
    [1.5, 1],
    [2.5, NaN_],
    [3.5, 2],
    [0.25, 2],
    [1.25, 3],
    [2.25, 1],
    [3.25, NaN_],
    [0.75, 1],
    [1.75, 2],
    [2.75, 3],
    [3.75, 1],
    [0.1, NaN_],
    [1.1, 2],
    [2.1, 3],
    [3.1, 2],
  ]);
  const y = Float64Array.from([0, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1]);
  const xgboost = [
    {
      split_indices: [0, 1, 0, 0, 0],
      split_conditions: [2.5, 3.0, 0.36, -0.36, 0.15],
      loss_changes: [4.542857, 2.9571428, 0, 0, 0],
      sum_hessian: [4.0, 2.5, 1.5, 1.5, 1.0],
      base_weights: [0.2, -0.5714286, 0.36, -0.36, 0.15],
    },
    {
      split_indices: [0, 1, 0, 0, 0],
      split_conditions: [2.5, 3.0, 0.30163023, -0.30163023, 0.1279005],
      loss_changes: [3.0887375, 2.0845108, 0, 0, 0],
      sum_hessian: [3.8992577, 2.4468267, 1.4524307, 1.4524307, 0.99439603],
      base_weights: [0.17355299, -0.46868515, 0.30163023, -0.30163023, 0.1279005],
    },
    {
      split_indices: [0, 1, 0, 0, 0],
      split_conditions: [2.1, 3.0, 0.22714953, -0.24053566, 0.050625987],
      loss_changes: [2.197358, 0.7194325, 0, 0, 0],
      sum_hessian: [3.6751711, 1.8583009, 1.8168702, 1.1225969, 0.735704],
      base_weights: [0.15483372, -0.4929368, 0.22714953, -0.24053566, 0.050625987],
    },
  ];
  const margins = [
    0.3285265, -0.90216595, 0.8887798, 0.8887798, -0.90216595, 0.3285265, -0.43448073, 0.8887798, -0.90216595,
    -0.90216595, 0.8887798, 0.8887798, 0.3285265, -0.90216595, 0.50505006, 0.8887798,
  ];

  it('grows the same trees and predicts the same margins (to float32 precision)', () => {
    const model = gbdt({ n_estimators: 3, max_depth: 2, min_child_weight: 0.5 }).fit(x, y);
    const trees = model.toJSON().trees;
    expect(trees.length).toBe(3);
    trees.forEach((tree, t) => {
      const reference = xgboost[t]!;
      expect(tree.left_children).toEqual([1, 3, -1, -1, -1]);
      expect(tree.right_children).toEqual([2, 4, -1, -1, -1]);
      expect(tree.default_left).toEqual([0, 0, 0, 0, 0]);
      expect(tree.split_indices).toEqual(reference.split_indices);
      for (const key of ['split_conditions', 'loss_changes', 'sum_hessian', 'base_weights'] as const) {
        tree[key].forEach((value, node) => {
          expect(value).toBeCloseTo(reference[key][node]!, 5);
        });
      }
    });
    model.predictMargin(x).forEach((margin, i) => {
      expect(margin).toBeCloseTo(margins[i]!, 5);
    });
  });
});
