import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../../test/support/onset-error.js';
import { toRowMajor } from '../../data/dataset.js';
import { generateDataset } from '../../data/generator/generator.js';
import { FEATURE_NAMES } from '../../data/schema.js';
import { createMatrix, type Matrix, matrixFromRows, selectMatrixRows } from '../../math/matrix.js';
import {
  LOGISTIC_PARAM_SPECS,
  type LogisticModel,
  loadLogisticModel,
  logisticRegression,
  standardScaler,
} from './logistic-regression.js';

interface Solution {
  readonly standardizedIntercept: number;
  readonly standardizedCoefficients: readonly number[];
  readonly predictedProbabilities: readonly number[];
}

interface LogisticCase extends Solution {
  readonly name: string;
  readonly estimator: 'linear' | 'logistic';
  readonly rows: number;
  readonly seed: number;
  readonly params: { readonly C: number };
  readonly scalerMean: readonly number[];
  readonly scalerScale: readonly number[];
  /** scikit-learn's newton-cholesky solution: the optimum to ~1e-10 (lbfgs stops earlier). */
  readonly exact: Solution;
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/sklearn/linear-models.json', import.meta.url), 'utf8'),
) as { featureColumns: string[]; predictedRows: number; cases: LogisticCase[] };
const logisticCases = fixture.cases.filter((c) => c.estimator === 'logistic');

function design(rows: number, seed: number): { x: Matrix; y: Float64Array } {
  const dataset = generateDataset({ rows, seed });
  return { x: createMatrix(toRowMajor(dataset), rows, FEATURE_NAMES.length), y: dataset.target! };
}

function firstRows(x: Matrix, count: number): Matrix {
  return selectMatrixRows(
    x,
    Array.from({ length: count }, (_, i) => i),
  );
}

function maxAbsDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let k = 0; k < actual.length; k++) worst = Math.max(worst, Math.abs(actual[k]! - expected[k]!));
  return worst;
}

function maxRelativeDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let k = 0; k < actual.length; k++) {
    worst = Math.max(worst, Math.abs(actual[k]! - expected[k]!) / Math.abs(expected[k]!));
  }
  return worst;
}

describe('logistic against scikit-learn StandardScaler + LogisticRegression', () => {
  it('has the three cases', () => {
    expect(fixture.featureColumns).toEqual(FEATURE_NAMES);
    expect(logisticCases.map((c) => c.params.C)).toEqual([1, 0.1, 1]);
  });

  it.each(logisticCases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const { x, y } = design(c.rows, c.seed);
    const model = logisticRegression({ C: c.params.C }).fit(x, y);
    expect(model.converged).toBe(true);
    expect(maxRelativeDifference(model.scalerMean, c.scalerMean)).toBeLessThan(1e-12);
    expect(maxRelativeDifference(model.scalerScale, c.scalerScale)).toBeLessThan(1e-12);
    // The brief's reference, the default lbfgs solver (which stops short of the optimum), to 1e-4 ...
    expect(maxAbsDifference(model.standardizedCoefficients, c.standardizedCoefficients)).toBeLessThan(1e-4);
    expect(Math.abs(model.standardizedIntercept - c.standardizedIntercept)).toBeLessThan(1e-4);
    const probabilities = model.predictProba(firstRows(x, fixture.predictedRows));
    expect(maxAbsDifference(probabilities, c.predictedProbabilities)).toBeLessThan(1e-4);
    // ... and scikit-learn's own Newton solver, which reaches the optimum, far tighter.
    expect(maxAbsDifference(model.standardizedCoefficients, c.exact.standardizedCoefficients)).toBeLessThan(
      1e-9,
    );
    expect(Math.abs(model.standardizedIntercept - c.exact.standardizedIntercept)).toBeLessThan(1e-9);
    expect(maxAbsDifference(probabilities, c.exact.predictedProbabilities)).toBeLessThan(1e-9);
  });
});

describe('logisticRegression parameters', () => {
  it('has defaults and reports them', () => {
    expect(logisticRegression().getParams()).toEqual({ C: 1, max_iter: 100, tol: 1e-8 });
    expect(logisticRegression({ C: '0.5', max_iter: '20' }).getParams()).toEqual({
      C: 0.5,
      max_iter: 20,
      tol: 1e-8,
    });
    expect(Object.keys(LOGISTIC_PARAM_SPECS)).toEqual(['C', 'max_iter', 'tol']);
  });

  it('rejects out-of-range values with the allowed range', () => {
    expectRefusal(
      () => logisticRegression({ C: 0 }),
      /Invalid value 0 for parameter C of logistic: expected a number in \(0, inf\)/,
    );
    expectRefusal(
      () => logisticRegression({ max_iter: 2.5 }),
      /max_iter of logistic: expected an integer in \[1, inf\)/,
    );
    expectRefusal(() => logisticRegression({ tol: -1 }), /tol of logistic: expected a number in \(0, inf\)/);
  });
});

describe('logistic fit and predict', () => {
  const small = design(300, 7);

  it('records non-convergence instead of failing', () => {
    const model = logisticRegression({ max_iter: 1 }).fit(small.x, small.y);
    expect(model.converged).toBe(false);
    expect(model.iterations).toBe(1);
    expect(model.toJSON()).toMatchObject({ converged: false, iterations: 1 });
    const full = logisticRegression().fit(small.x, small.y);
    expect(full.converged).toBe(true);
    expect(full.iterations).toBeLessThan(15);
  });

  it('reports progress once per Newton iteration', () => {
    const seen: number[] = [];
    const model = logisticRegression().fit(small.x, small.y, { onProgress: (p) => seen.push(p.iteration) });
    expect(seen).toEqual(Array.from({ length: model.iterations }, (_, i) => i + 1));
  });

  it('gives a constant column scale 1 and weight 0', () => {
    const x = matrixFromRows([
      [0, 5],
      [1, 5],
      [2, 5],
      [3, 5],
      [1, 5],
      [2, 5],
    ]);
    const y = Float64Array.of(0, 0, 1, 1, 1, 0);
    const { mean, scale } = standardScaler(x);
    expect(Array.from(mean)).toEqual([1.5, 5]);
    // Population variance (ddof 0): 5.5 / 6.
    expect(scale[0]!).toBeCloseTo(Math.sqrt(5.5 / 6), 15);
    expect(scale[1]).toBe(1);
    const model = logisticRegression().fit(x, y);
    expect(model.converged).toBe(true);
    expect(model.standardizedCoefficients[1]).toBe(0);
    expect(model.scalerScale[1]).toBe(1);
  });

  it('converges on perfectly separable data (the L2 penalty bounds the weights)', () => {
    const x = matrixFromRows([[-2], [-1], [1], [2]]);
    const model = logisticRegression({ C: 1000 }).fit(x, Float64Array.of(0, 0, 1, 1));
    expect(model.converged).toBe(true);
    const p = model.predictProba(x);
    expect(p[0]!).toBeLessThan(0.01);
    expect(p[3]!).toBeGreaterThan(0.99);
  });

  it('shrinks the weights as C decreases', () => {
    const norm = (m: LogisticModel) => Math.hypot(...m.standardizedCoefficients);
    const strong = logisticRegression({ C: 0.01 }).fit(small.x, small.y);
    const weak = logisticRegression({ C: 10 }).fit(small.x, small.y);
    expect(norm(strong)).toBeLessThan(norm(weak));
  });

  it('hands out copies of its coefficients and scaler, so its state cannot be changed through them', () => {
    const model = logisticRegression().fit(small.x, small.y);
    const before = JSON.stringify(model);
    model.coefficients.fill(0);
    model.standardizedCoefficients.fill(0);
    model.scalerMean.fill(0);
    model.scalerScale.fill(0);
    expect(JSON.stringify(model)).toBe(before);
  });

  it('explains from the mean patient: the bias is the standardized intercept, the margin the log-odds', () => {
    const model = logisticRegression().fit(small.x, small.y);
    expect(model.contributions(small.x).bias).toBe(model.standardizedIntercept);
    const logits = model.predictMargin(small.x);
    const probabilities = model.predictProba(small.x);
    for (let i = 0; i < small.x.rows; i++) {
      expect(Math.abs(1 / (1 + Math.exp(-logits[i]!)) - probabilities[i]!)).toBeLessThan(1e-15);
    }
  });

  it('gives the same log-odds through the original-scale coefficients', () => {
    const model = logisticRegression().fit(small.x, small.y);
    const logits = model.predictMargin(small.x);
    const coefficients = model.coefficients;
    for (let i = 0; i < 20; i++) {
      let z = model.intercept;
      for (let j = 0; j < 32; j++) z += coefficients[j]! * small.x.data[i * 32 + j]!;
      expect(Math.abs(z - logits[i]!)).toBeLessThan(1e-9);
    }
  });
});

describe('logistic model JSON', () => {
  const { x, y } = design(300, 7);
  const model = logisticRegression({ C: 0.5 }).fit(x, y);

  it('writes a versioned state with its parameters and convergence', () => {
    expect(model.toJSON()).toMatchObject({
      name: 'logistic',
      version: 1,
      params: { C: 0.5, max_iter: 100, tol: 1e-8 },
      featureCount: 32,
      converged: true,
    });
  });

  it('rejects a state whose parts do not fit together, saying which', () => {
    const state = model.toJSON();
    expectRefusal(
      () => loadLogisticModel({ ...state, scalerScale: state.scalerScale.map((s, j) => (j === 3 ? 0 : s)) }),
      /scalerScale\[3\] must be positive, got 0/,
    );
    expectRefusal(
      () => loadLogisticModel({ ...state, standardizedCoefficients: [] }),
      /standardizedCoefficients has 0 values; expected 32/,
    );
    expectRefusal(
      () => loadLogisticModel({ ...state, featureCount: 0 }),
      /featureCount must be a positive integer/,
    );
    expectRefusal(
      () =>
        loadLogisticModel({
          ...state,
          coefficients: state.coefficients.map((c, j) => (j === 0 ? c + 1 : c)),
        }),
      /coefficients\[0\] = .* disagrees with standardizedCoefficients\[0\] \/ scalerScale\[0\]/,
    );
    expectRefusal(
      () => loadLogisticModel({ ...state, intercept: state.intercept + 0.1 }),
      /intercept .* disagrees with the standardized solution/,
    );
    expectRefusal(
      () => loadLogisticModel({ ...state, params: { C: -1 } }),
      /Invalid value -1 for parameter C/,
    );
  });
});
