import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scoringMatrix } from '../../../test/support/xgboost-cases.js';
import { FEATURE_NAMES } from '../../data/schema.js';
import { isOnsetError } from '../../errors.js';
import { createMatrix, type Matrix, matrixFromRows, selectMatrixRows } from '../../math/matrix.js';
import { Random } from '../../util/random.js';
import { gbdt } from '../gbdt/gbdt.js';
import { randomGridMatrix } from '../gbdt/test-support.js';
import type { FlatTree } from '../gbdt/tree.js';
import { fromXgboostJson } from '../gbdt/xgboost-json.js';
import { oblivious } from '../oblivious/oblivious.js';
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
      const cover = tree.sumHessian[node]!;
      // A node without cover weighs its children equally (TreeSHAP's convention).
      if (cover === 0) return (visit(left) + visit(left + 1)) / 2;
      return (tree.sumHessian[left]! * visit(left) + tree.sumHessian[left + 1]! * visit(left + 1)) / cover;
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

  it('handles splits no training row reached (cover 0): exact and additive, no NaN', () => {
    // Root on f0; its left child splits on f1 and again on f0; its right child is an empty branch (cover 0)
    // that splits on f2 and again on f0, as the empty branches of oblivious trees do.
    const tree: FlatTree = {
      left: Int32Array.from([1, 3, 5, 7, -1, -1, 9, -1, -1, -1, -1]),
      right: Int32Array.from([2, 4, 6, 8, -1, -1, 10, -1, -1, -1, -1]),
      parent: Int32Array.from([2147483647, 0, 0, 1, 1, 2, 2, 3, 3, 6, 6]),
      feature: Int32Array.from([0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0]),
      condition: Float32Array.from([0.5, 0.5, 0.5, 0.25, 1, 3, 0.9, -1, 0.5, 2, -2]),
      defaultLeft: Uint8Array.from([0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0]),
      lossChange: new Float32Array(11),
      sumHessian: Float32Array.from([4, 4, 0, 3, 1, 0, 0, 2, 1, 0, 0]),
      baseWeight: new Float32Array(11),
    };
    const rows: number[][] = [];
    for (const a of [0.1, 0.3, 0.7, 0.95, Number.NaN]) {
      for (const b of [0, 1, Number.NaN]) for (const c of [0, 1]) rows.push([a, b, c]);
    }
    const x = matrixFromRows(rows);
    const model: TreeEnsembleExplainable = {
      explainInputs: (m) => ({ trees: [tree], baseMargin: -0.5, routing: m }),
    };
    const { bias, values } = treeShap(model, x);
    // Expected value: -0.5 + (3 * (2/3 * -1 + 1/3 * 0.5) + 1 * 1) / 4 = -0.625; the empty branch weighs 0.
    expect(bias).toBeCloseTo(-0.625, 15);
    let worst = 0;
    rows.forEach((row, i) => {
      const expected = bruteForceShapley([tree], row);
      let sum = bias;
      for (let j = 0; j < 3; j++) {
        const value = values.data[i * 3 + j]!;
        expect(Number.isFinite(value)).toBe(true);
        worst = Math.max(worst, Math.abs(value - expected[j]!));
        sum += value;
      }
      worst = Math.max(worst, Math.abs(sum - (-0.5 + conditionalValue(tree, Float32Array.from(row), 0b111))));
    });
    expect(worst).toBeLessThanOrEqual(1e-12);
    // Row 13 (0.7, 0, 1) is routed into the empty branch, to its leaf 2: the margin is -0.5 + 2.
    const row13 = Array.from(values.data.subarray(13 * 3, 14 * 3));
    expect(rows[13]).toEqual([0.7, 0, 1]);
    expect(bias + row13.reduce((a, b) => a + b, 0)).toBeCloseTo(1.5, 12);
    expect(row13[0]).not.toBe(0);
  });

  it('memoizes level-symmetric (oblivious) trees by outcome pattern and stays exact in any row order', () => {
    const random = new Random(11);
    const x = randomGridMatrix(random, 300, 5, { levels: 6, missing: 0.1 });
    const y = Float64Array.from({ length: x.rows }, (_, i) => {
      const a = x.data[i * 5]!;
      return (Number.isNaN(a) ? 0.4 : a) + 0.5 * random.normal() > 0.5 ? 1 : 0;
    });
    const model = oblivious(
      { iterations: 12, depth: 4, learning_rate: 0.3, random_seed: 3 },
      { categoricalFeatures: [] },
    ).fit(x, y);
    const { trees } = model.explainInputs(x);
    // The memo is keyed by the 4 split outcomes: 200 probe rows reuse it many times over.
    const probe = randomGridMatrix(random, 200, 5, { levels: 8, missing: 0.2 });
    const { bias, values } = treeShap(model, probe);
    let worst = 0;
    for (let i = 0; i < probe.rows; i++) {
      const expected = bruteForceShapley(
        trees,
        model.explainInputs(probe).routing.data.subarray(i * 5, i * 5 + 5),
      );
      for (let j = 0; j < 5; j++) worst = Math.max(worst, Math.abs(values.data[i * 5 + j]! - expected[j]!));
    }
    expect(worst).toBeLessThanOrEqual(1e-12);
    // Explaining the rows backwards fills the memo in another order: same contributions.
    const reversed = Array.from({ length: probe.rows }, (_, i) => probe.rows - 1 - i);
    const backwards = treeShap(model, selectMatrixRows(probe, reversed));
    expect(backwards.bias).toBe(bias);
    for (let i = 0; i < probe.rows; i++) {
      for (let j = 0; j < 5; j++) {
        expect(backwards.values.data[(probe.rows - 1 - i) * 5 + j]).toBeCloseTo(values.data[i * 5 + j]!, 14);
      }
    }
  });

  it('adds up to the margin of every row (float64 leaf sum to 1e-9, the float32 predictMargin to 1e-5)', () => {
    const { model } = fromXgboostJson(JSON.parse(readFixture('xgboost/xgboost-defaults.model.json')));
    const x = scoringMatrix();
    const { bias, values } = treeShap(model, x);
    expect(additivityError(bias, values, exactMargin(model, x))).toBeLessThanOrEqual(1e-9);
    // predictMargin accumulates 100 leaves in float32 (as XGBoost does): its own rounding is ~1e-6.
    expect(additivityError(bias, values, model.predictMargin(x))).toBeLessThanOrEqual(1e-5);
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

  it('stays exact on a deep chain tree (depth 40: 16 distinct features, then each again)', () => {
    const depth = 40;
    const n = 2 * depth + 1;
    const random = new Random(17);
    // Node 2k splits on feature k % 16 with a leaf at 2k + 1 and the chain going on at 2k + 2, which
    // most rows take (thresholds near the bottom of the values).
    const tree: FlatTree = {
      left: Int32Array.from({ length: n }, (_, i) => (i % 2 === 0 && i < 2 * depth ? i + 1 : -1)),
      right: Int32Array.from({ length: n }, (_, i) => (i % 2 === 0 && i < 2 * depth ? i + 2 : -1)),
      parent: Int32Array.from({ length: n }, (_, i) => (i === 0 ? 2147483647 : 2 * Math.floor((i - 1) / 2))),
      feature: Int32Array.from({ length: n }, (_, i) => (i % 2 === 0 && i < 2 * depth ? (i / 2) % 16 : 0)),
      condition: Float32Array.from({ length: n }, (_, i) =>
        i % 2 === 0 && i < 2 * depth ? random.next() * 0.1 - 0.5 : random.next() * 2 - 1,
      ),
      defaultLeft: Uint8Array.from({ length: n }, (_, i) => i % 4),
      lossChange: new Float32Array(n),
      sumHessian: Float32Array.from({ length: n }, (_, i) => (i % 2 === 1 ? 1 : depth + 1 - i / 2)),
      baseWeight: new Float32Array(n),
    };
    const x = createMatrix(
      Float64Array.from({ length: 50 * 32 }, () => (random.next() < 0.05 ? Number.NaN : random.next() - 0.5)),
      50,
      32,
    );
    const model: TreeEnsembleExplainable = {
      explainInputs: (m) => ({ trees: [tree], baseMargin: 0, routing: m }),
    };
    const { bias, values } = treeShap(model, x);
    let worst = 0;
    let deepRows = 0;
    for (let i = 0; i < x.rows; i++) {
      const row = Float32Array.from(x.data.subarray(i * 32, (i + 1) * 32));
      let node = 0;
      while (tree.left[node] !== -1) {
        const v = row[tree.feature[node]!]!;
        const goesLeft = Number.isNaN(v) ? tree.defaultLeft[node] === 1 : v < tree.condition[node]!;
        node = goesLeft ? tree.left[node]! : tree.right[node]!;
      }
      if (node > 2 * 16) deepRows++;
      let sum = bias;
      for (let j = 0; j < 32; j++) sum += values.data[i * 32 + j]!;
      worst = Math.max(worst, Math.abs(sum - tree.condition[node]!));
    }
    // Unwinding loses precision as paths get long (about 1e-6 with 32 distinct features on one path).
    expect(worst).toBeLessThanOrEqual(1e-9);
    expect(deepRows).toBeGreaterThan(5);
  });

  it('explains 0 rows, and refuses a wrong width or a negative or missing cover', () => {
    const { model } = fromXgboostJson(JSON.parse(readFixture('xgboost/xgboost-regularized.model.json')));
    const none = treeShap(model, createMatrix(new Float64Array(0), 0, FEATURE_NAMES.length));
    expect(none.values.rows).toBe(0);
    expect(Number.isFinite(none.bias)).toBe(true);
    expect(() => treeShap(model, matrixFromRows([[1, 2, 3]]))).toThrow(/expects 32 features per row, got 3/);
    const tree = model.trees[0]!;
    for (const cover of [Number.NaN, -1]) {
      const broken: FlatTree = { ...tree, sumHessian: Float32Array.from(tree.sumHessian).fill(cover, 2, 3) };
      let error: unknown;
      try {
        new TreeShapExplainer([model.trees[1]!, broken], 0, FEATURE_NAMES.length);
      } catch (caught) {
        error = caught;
      }
      expect(isOnsetError(error) && error.message).toMatch(
        new RegExp(
          `node 2 of tree 1 has cover \\(sum_hessian\\) ${cover}; covers must be finite and not negative`,
        ),
      );
    }
  });
});
