import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scoringMatrix } from '../../../test/support/xgboost-cases.js';
import { FEATURE_NAMES } from '../../data/schema.js';
import { isOnsetError } from '../../errors.js';
import { Random } from '../../util/random.js';
import { gbdt } from '../gbdt/gbdt.js';
import { randomGridMatrix } from '../gbdt/test-support.js';
import type { FlatTree } from '../gbdt/tree.js';
import { fromXgboostJson } from '../gbdt/xgboost-json.js';
import { createMatrix, type Matrix, matrixFromRows, selectMatrixRows } from '../matrix.js';
import { TreeShapExplainer, treeShap } from './tree-shap.js';
import type { TreeEnsembleExplainable } from './types.js';

const ROOT = new URL('../../../test/fixtures/', import.meta.url);
const readFixture = (path: string) => readFileSync(fileURLToPath(new URL(path, ROOT)), 'utf8');

interface ShapFixture {
  readonly xgboost_version: string;
  readonly rows: number;
  readonly models: Record<string, { contribs: number[][]; margin: number[] }>;
}
const fixture = JSON.parse(readFixture('shap/contribs.json')) as ShapFixture;

/** The margin as a float64 sum of the leaves each row reaches (no float32 accumulation). */
function exactMargin(
  model: TreeEnsembleExplainable & { predictor: { leafIndex: (v: ArrayLike<number>, t: number) => number } },
  x: Matrix,
): Float64Array {
  const { trees, baseMargin } = model.explainInputs(x);
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    const row = x.data.subarray(i * x.cols, (i + 1) * x.cols);
    let margin = baseMargin;
    trees.forEach((tree, t) => {
      margin += tree.condition[model.predictor.leafIndex(row, t)]!;
    });
    out[i] = margin;
  }
  return out;
}

/** Largest |bias + row sum - margin| over the rows. */
function additivityError(bias: number, values: Matrix, margin: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < values.rows; i++) {
    let sum = bias;
    for (let j = 0; j < values.cols; j++) sum += values.data[i * values.cols + j]!;
    worst = Math.max(worst, Math.abs(sum - margin[i]!));
  }
  return worst;
}

describe('TreeSHAP against XGBoost pred_contribs (Python XGBoost 1.7)', () => {
  const rows = selectMatrixRows(
    scoringMatrix(),
    Array.from({ length: fixture.rows }, (_, i) => i),
  );

  it('covers every fixture model, on rows with missing values', () => {
    expect(fixture.xgboost_version).toMatch(/^1\.7\./);
    expect(Object.keys(fixture.models).sort()).toEqual([
      'onset-defaults',
      'onset-missing-regularized',
      'xgboost-defaults',
      'xgboost-missing-shallow',
      'xgboost-regularized',
    ]);
    let missing = 0;
    for (const value of rows.data) if (Number.isNaN(value)) missing++;
    expect(missing).toBeGreaterThan(50);
  });

  for (const name of Object.keys(fixture.models)) {
    it(`${name}: every feature and the bias equal XGBoost's to 1e-4`, () => {
      const { model, featureNames } = fromXgboostJson(JSON.parse(readFixture(`xgboost/${name}.model.json`)));
      expect(featureNames).toEqual(FEATURE_NAMES);
      const expected = fixture.models[name]!.contribs;
      const { bias, values } = treeShap(model, rows);
      expect(values.rows).toBe(expected.length);
      expect(values.cols).toBe(FEATURE_NAMES.length);
      let worst = 0;
      let nonZero = 0;
      expected.forEach((row, i) => {
        expect(row).toHaveLength(FEATURE_NAMES.length + 1);
        for (let j = 0; j < FEATURE_NAMES.length; j++) {
          worst = Math.max(worst, Math.abs(values.data[i * values.cols + j]! - row[j]!));
          if (Math.abs(row[j]!) > 1e-3) nonZero++;
        }
        worst = Math.max(worst, Math.abs(bias - row[FEATURE_NAMES.length]!));
      });
      expect(worst).toBeLessThanOrEqual(1e-4);
      // The comparison is not between two near-zero tables.
      expect(nonZero).toBeGreaterThan(expected.length * 5);
      // Onset's contributions add up to XGBoost's recorded margin, as XGBoost's own do.
      expect(additivityError(bias, values, fixture.models[name]!.margin)).toBeLessThanOrEqual(1e-4);
    });
  }
});

describe('TreeSHAP is exact', () => {
  /** Path-dependent expectation of a tree given the features in `known` (cover-weighted otherwise). */
  function conditionalValue(tree: FlatTree, row: Float32Array, known: number): number {
    const visit = (node: number): number => {
      const left = tree.left[node]!;
      if (left === -1) return tree.condition[node]!;
      const feature = tree.feature[node]!;
      if ((known >> feature) & 1) {
        const x = row[feature]!;
        const goesLeft = Number.isNaN(x) ? tree.defaultLeft[node] === 1 : x < tree.condition[node]!;
        return visit(goesLeft ? left : left + 1);
      }
      return (
        (tree.sumHessian[left]! * visit(left) + tree.sumHessian[left + 1]! * visit(left + 1)) /
        tree.sumHessian[node]!
      );
    };
    return visit(0);
  }

  /** Shapley values by enumerating all 2^M coalitions. */
  function bruteForceShapley(trees: readonly FlatTree[], values: ArrayLike<number>): Float64Array {
    const m = values.length;
    const row = Float32Array.from(values);
    const v = new Float64Array(1 << m);
    for (let set = 0; set < 1 << m; set++) {
      for (const tree of trees) v[set] = v[set]! + conditionalValue(tree, row, set);
    }
    const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
    const phi = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      for (let set = 0; set < 1 << m; set++) {
        if ((set >> j) & 1) continue;
        let size = 0;
        for (let b = 0; b < m; b++) size += (set >> b) & 1;
        const weight = (factorial(size) * factorial(m - size - 1)) / factorial(m);
        phi[j] = phi[j]! + weight * (v[set | (1 << j)]! - v[set]!);
      }
    }
    return phi;
  }

  /** Whether some root-to-leaf path splits twice on the same feature (the UNWIND case). */
  function hasRepeatedFeature(tree: FlatTree): boolean {
    const walk = (node: number, seen: number): boolean => {
      const left = tree.left[node]!;
      if (left === -1) return false;
      const bit = 1 << tree.feature[node]!;
      if (seen & bit) return true;
      return walk(left, seen | bit) || walk(left + 1, seen | bit);
    };
    return walk(0, 0);
  }

  it('equals brute-force Shapley values of the path-dependent expectation (repeated features, missing values)', () => {
    const random = new Random(5);
    const x = randomGridMatrix(random, 400, 5, { levels: 7, missing: 0.1 });
    const y = Float64Array.from({ length: x.rows }, (_, i) => {
      const a = x.data[i * 5]!;
      const b = x.data[i * 5 + 1]!;
      return (Number.isNaN(a) ? 0.2 : a) * (Number.isNaN(b) ? -0.3 : b) + 0.3 * random.normal() > 0 ? 1 : 0;
    });
    const model = gbdt({ n_estimators: 8, max_depth: 5, learning_rate: 0.5, seed: 1 }).fit(x, y);
    expect(model.trees.some(hasRepeatedFeature)).toBe(true);
    const probe = randomGridMatrix(random, 40, 5, { levels: 9, missing: 0.2 });
    const { bias, values } = treeShap(model, probe);
    let worst = 0;
    for (let i = 0; i < probe.rows; i++) {
      const expected = bruteForceShapley(model.trees, probe.data.subarray(i * 5, i * 5 + 5));
      for (let j = 0; j < 5; j++) worst = Math.max(worst, Math.abs(values.data[i * 5 + j]! - expected[j]!));
    }
    expect(worst).toBeLessThanOrEqual(1e-12);
    // The bias is the expectation with no feature known.
    const empty = model.trees.reduce((sum, tree) => sum + conditionalValue(tree, new Float32Array(5), 0), 0);
    expect(bias).toBeCloseTo(model.explainInputs(probe).baseMargin + empty, 12);
  });

  it('adds up to the margin of every row (float64 leaf sum to 1e-9, the float32 predictMargin to 1e-5)', () => {
    const { model } = fromXgboostJson(JSON.parse(readFixture('xgboost/xgboost-defaults.model.json')));
    const x = scoringMatrix();
    const { bias, values } = treeShap(model, x);
    expect(additivityError(bias, values, exactMargin(model, x))).toBeLessThanOrEqual(1e-9);
    // predictMargin accumulates 100 leaves in float32 (as XGBoost does): its own rounding is ~1e-6.
    expect(additivityError(bias, values, model.predictMargin(x))).toBeLessThanOrEqual(1e-5);
  });

  it('adds up to an Onset-trained model with few trees to 1e-6 of predictMargin', () => {
    const random = new Random(9);
    const x = randomGridMatrix(random, 300, 6, { levels: 11, missing: 0.05 });
    const y = Float64Array.from(
      { length: x.rows },
      (_, i) => Number(x.data[i * 6 + 2]! > 0) ^ Number(random.next() < 0.2),
    );
    const model = gbdt({ n_estimators: 10, max_depth: 4, seed: 2 }).fit(x, y);
    const { bias, values } = treeShap(model, x);
    expect(additivityError(bias, values, model.predictMargin(x))).toBeLessThanOrEqual(1e-6);
  });
});

describe('TreeSHAP routing and details', () => {
  /** A stump on feature 1 with threshold float32(0.1): left leaf -1 (cover 3), right leaf 2 (cover 1). */
  function stump(defaultLeft: 0 | 1): TreeEnsembleExplainable {
    const tree: FlatTree = {
      left: Int32Array.from([1, -1, -1]),
      right: Int32Array.from([2, -1, -1]),
      parent: Int32Array.from([2147483647, 0, 0]),
      feature: Int32Array.from([1, 0, 0]),
      condition: Float32Array.from([0.1, -1, 2]),
      defaultLeft: Uint8Array.from([defaultLeft, 0, 0]),
      lossChange: Float32Array.from([1, 0, 0]),
      sumHessian: Float32Array.from([4, 3, 1]),
      baseWeight: Float32Array.from([0, -1, 2]),
    };
    return { explainInputs: (x) => ({ trees: [tree], baseMargin: 0.25, routing: x }) };
  }

  it('compares in float32 as the predictor does, and sends missing values the default way', () => {
    // Expected value: 0.25 + (3 * -1 + 1 * 2) / 4 = 0.
    const x = matrixFromRows([
      [7, 0.05, 7], // left: -1 - (-0.25) = -0.75
      [7, 0.1, 7], // float32(0.1) is not below the float32 threshold: right, 2 + 0.25 = 2.25
      [7, 0.10000000149, 7], // rounds to the same float32: right
      [7, 0.0999999, 7], // below: left
      [7, Number.NaN, 7], // missing, default right
    ]);
    const { bias, values } = treeShap(stump(0), x);
    expect(bias).toBe(0);
    expect(Array.from(values.data)).toEqual([0, -0.75, 0, 0, 2.25, 0, 0, 2.25, 0, 0, -0.75, 0, 0, 2.25, 0]);
    const missingLeft = treeShap(stump(1), matrixFromRows([[0, Number.NaN, 0]]));
    expect(Array.from(missingLeft.values.data)).toEqual([0, -0.75, 0]);
  });

  it('gives features the trees never split on exactly 0, and explainRow agrees with explain', () => {
    const { model } = fromXgboostJson(JSON.parse(readFixture('xgboost/xgboost-missing-shallow.model.json')));
    const used = new Set<number>();
    for (const tree of model.trees) {
      for (let node = 0; node < tree.left.length; node++)
        if (tree.left[node] !== -1) used.add(tree.feature[node]!);
    }
    expect(used.size).toBeLessThan(FEATURE_NAMES.length);
    const x = scoringMatrix();
    const { bias, values } = treeShap(model, x);
    for (let j = 0; j < x.cols; j++) {
      if (used.has(j)) continue;
      for (let i = 0; i < x.rows; i++) expect(values.data[i * x.cols + j]).toBe(0);
    }
    const explainer = new TreeShapExplainer(model.trees, model.explainInputs(x).baseMargin, x.cols);
    const out = new Float64Array(x.cols).fill(99);
    for (const i of [0, 17, 299]) {
      expect(explainer.explainRow(x.data.subarray(i * x.cols, (i + 1) * x.cols), out)).toBe(bias);
      expect(Array.from(out)).toEqual(Array.from(values.data.subarray(i * x.cols, (i + 1) * x.cols)));
    }
  });

  it('explains 0 rows, and refuses a wrong width or a split without cover', () => {
    const { model } = fromXgboostJson(JSON.parse(readFixture('xgboost/xgboost-regularized.model.json')));
    const none = treeShap(model, createMatrix(new Float64Array(0), 0, FEATURE_NAMES.length));
    expect(none.values.rows).toBe(0);
    expect(Number.isFinite(none.bias)).toBe(true);
    expect(() => treeShap(model, matrixFromRows([[1, 2, 3]]))).toThrow(/expects 32 features per row, got 3/);
    const tree = model.trees[0]!;
    const broken: FlatTree = { ...tree, sumHessian: Float32Array.from(tree.sumHessian).fill(0, 0, 1) };
    let error: unknown;
    try {
      new TreeShapExplainer([broken], 0, FEATURE_NAMES.length);
    } catch (caught) {
      error = caught;
    }
    expect(isOnsetError(error) && error.message).toMatch(/node 0 of tree 0 has cover .*0.*positive cover/);
  });
});
