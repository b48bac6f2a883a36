import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../../test/support/onset-error.js';
import { toRowMajor } from '../../data/dataset.js';
import { generateDataset } from '../../data/generator/generator.js';
import { FEATURE_NAMES } from '../../data/schema.js';
import { createMatrix, type Matrix, matrixFromRows, selectMatrixRows } from '../../math/matrix.js';
import {
  LINEAR_PARAM_SPECS,
  type LinearModel,
  linearRegression,
  loadLinearModel,
} from './linear-regression.js';

interface LinearCase {
  readonly name: string;
  readonly estimator: 'linear' | 'logistic';
  readonly rows: number;
  readonly seed: number;
  readonly rankDeficient: boolean;
  readonly intercept: number;
  readonly coefficients: readonly number[];
  readonly rank: number;
  readonly predictedProbabilities: readonly number[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/sklearn/linear-models.json', import.meta.url), 'utf8'),
) as {
  featureColumns: string[];
  predictedRows: number;
  rankDeficientDesign: { duplicatedColumn: number; constantValue: number };
  cases: LinearCase[];
};
const linearCases = fixture.cases.filter((c) => c.estimator === 'linear');

/** The fixture's design: the generated features, plus a duplicated and a constant column if rank-deficient. */
function design(rows: number, seed: number, rankDeficient = false): { x: Matrix; y: Float64Array } {
  const dataset = generateDataset({ rows, seed });
  const p = FEATURE_NAMES.length;
  const x = createMatrix(toRowMajor(dataset), rows, p);
  if (!rankDeficient) return { x, y: dataset.target! };
  const { duplicatedColumn, constantValue } = fixture.rankDeficientDesign;
  const data = new Float64Array(rows * (p + 2));
  for (let i = 0; i < rows; i++) {
    data.set(x.data.subarray(i * p, (i + 1) * p), i * (p + 2));
    data[i * (p + 2) + p] = x.data[i * p + duplicatedColumn]!;
    data[i * (p + 2) + p + 1] = constantValue;
  }
  return { x: createMatrix(data, rows, p + 2), y: dataset.target! };
}

function firstRows(x: Matrix, count: number): Matrix {
  return selectMatrixRows(
    x,
    Array.from({ length: count }, (_, i) => i),
  );
}

function relativeDifference(actual: number, expected: number): number {
  return expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
}

describe('linear against scikit-learn LinearRegression', () => {
  it('uses the generator columns in schema order', () => {
    expect(fixture.featureColumns).toEqual(FEATURE_NAMES);
    expect(linearCases.length).toBe(3);
  });

  it.each(linearCases.map((c) => [c.name, c] as const))('%s: coefficients to 1e-8 relative', (_, c) => {
    const { x, y } = design(c.rows, c.seed, c.rankDeficient);
    const model = linearRegression().fit(x, y);
    expect(model.rank).toBe(c.rank);
    const coefficients = model.coefficients;
    expect(coefficients.length).toBe(c.coefficients.length);
    c.coefficients.forEach((expected, j) => {
      // sklearn's exact zero (the constant column) must be matched to rounding of the centred column.
      if (expected === 0) expect(Math.abs(coefficients[j]!)).toBeLessThan(1e-15);
      else expect(relativeDifference(coefficients[j]!, expected)).toBeLessThan(1e-8);
    });
    expect(relativeDifference(model.intercept, c.intercept)).toBeLessThan(1e-8);
    const probabilities = model.predictProba(firstRows(x, fixture.predictedRows));
    c.predictedProbabilities.forEach((expected, i) => {
      expect(Math.abs(probabilities[i]! - expected)).toBeLessThan(1e-10);
    });
  });

  it('splits the weight of a duplicated column in half (the minimum-norm solution)', () => {
    const full = linearRegression().fit(design(2105, 42).x, design(2105, 42).y);
    const deficient = linearRegression().fit(design(2105, 42, true).x, design(2105, 42, true).y);
    const j = fixture.rankDeficientDesign.duplicatedColumn;
    const half = full.coefficients[j]! / 2;
    expect(relativeDifference(deficient.coefficients[j]!, half)).toBeLessThan(1e-9);
    expect(relativeDifference(deficient.coefficients[32]!, half)).toBeLessThan(1e-9);
    expect(deficient.rank).toBe(32);
  });
});

describe('linearRegression parameters', () => {
  it('has defaults and reports them', () => {
    expect(linearRegression().getParams()).toEqual({ fit_intercept: true });
    expect(linearRegression({ fit_intercept: 'false' }).getParams()).toEqual({ fit_intercept: false });
    expect(LINEAR_PARAM_SPECS.fit_intercept.default).toBe(true);
  });

  it('rejects a bad value with the allowed values', () => {
    expectRefusal(
      () => linearRegression({ fit_intercept: 3 }),
      /Invalid value 3 for parameter fit_intercept of linear: expected true or false/,
    );
  });
});

describe('linear fit and predict', () => {
  const small = design(300, 7);

  it('fits without an intercept through the origin', () => {
    // y = x exactly for 0/1 targets: the coefficient is 1 and the intercept 0.
    const x = matrixFromRows([[0], [1], [0], [1]]);
    const model = linearRegression({ fit_intercept: false }).fit(x, Float64Array.of(0, 1, 0, 1));
    expect(model.intercept).toBe(0);
    expect(model.coefficients[0]).toBeCloseTo(1, 14);
  });

  it('clips probabilities to [0, 1] but keeps the raw score in predictMargin', () => {
    const x = matrixFromRows([[0], [1], [2], [3]]);
    const model = linearRegression().fit(x, Float64Array.of(0, 0, 1, 1));
    const wide = matrixFromRows([[-10], [1.5], [10]]);
    expect(Array.from(model.predictProba(wide))).toEqual([0, 0.5, 1]);
    const raw = model.predictMargin(wide);
    expect(raw[0]!).toBeLessThan(0);
    expect(raw[2]!).toBeGreaterThan(1);
  });

  it('hands out copies of its coefficients and means, so its state cannot be changed through them', () => {
    const model = linearRegression().fit(small.x, small.y);
    const before = JSON.stringify(model);
    model.coefficients.fill(0);
    model.featureMeans.fill(0);
    expect(JSON.stringify(model)).toBe(before);
  });

  it('explains from the mean patient: the bias is the mean target (OLS passes through the means)', () => {
    const model = linearRegression().fit(small.x, small.y);
    const meanY = small.y.reduce((a, b) => a + b, 0) / small.y.length;
    expect(model.contributions(small.x).bias).toBeCloseTo(meanY, 12);
  });
});

describe('linear model JSON', () => {
  const { x, y } = design(300, 7);
  const model: LinearModel = linearRegression().fit(x, y);

  it('writes a versioned state with its rank', () => {
    expect(model.toJSON()).toMatchObject({ name: 'linear', version: 1, featureCount: 32, rank: 32 });
  });

  it('rejects a state whose parts do not fit together, saying which', () => {
    const state = model.toJSON();
    expectRefusal(
      () => loadLinearModel({ ...state, coefficients: [1, 2] }),
      /coefficients has 2 values; expected 32 \(featureCount\)/,
    );
    expectRefusal(() => loadLinearModel({ ...state, rank: 40 }), /rank must be an integer from 0 to 32/);
    expectRefusal(
      () => loadLinearModel({ ...state, params: { ridge: 1 } }),
      /Unknown parameter "ridge" for linear/,
    );
  });
});
