import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scoringMatrix } from '../../../test/support/xgboost-cases.js';
import { toRowMajor } from '../../data/dataset.js';
import { generateDataset } from '../../data/generator/generator.js';
import { FEATURE_NAMES } from '../../data/schema.js';
import { OnsetError } from '../../errors.js';
import { createMatrix, matrixFromRows } from '../../math/matrix.js';
import type { FittedModel } from '../estimator.js';
import { fromXgboostJson } from '../gbdt/xgboost-json.js';
import { linearRegression } from '../linear/linear-regression.js';
import { logisticRegression } from '../logistic/logistic-regression.js';
import { explainModel, globalImportance, meanAbsoluteContributions, rankFeatures } from './explain.js';
import { splitImportance } from './split-importance.js';
import { treeShap } from './tree-shap.js';
import type { Contributions } from './types.js';

const ROOT = new URL('../../../test/fixtures/', import.meta.url);
const readFixture = (path: string) => readFileSync(fileURLToPath(new URL(path, ROOT)), 'utf8');
const importanceFixture = JSON.parse(readFixture('shap/contribs.json')) as {
  models: Record<string, { importance: Record<string, Record<string, number>> }>;
};

const data = generateDataset({ rows: 400, seed: 31 });
const x = createMatrix(toRowMajor(data), data.rowCount, FEATURE_NAMES.length);
const y = data.target!;

describe('explainModel', () => {
  it('explains tree ensembles with TreeSHAP', () => {
    const { model } = fromXgboostJson(JSON.parse(readFixture('xgboost/xgboost-missing-shallow.model.json')));
    const input = scoringMatrix();
    const explained = explainModel(model, input);
    expect(explained).toEqual(treeShap(model, input));
  });

  it('explains linear and logistic models by their own contributions, centred on the training means', () => {
    for (const model of [linearRegression().fit(x, y), logisticRegression({ C: 0.5 }).fit(x, y)]) {
      const explained = explainModel(model, x);
      expect(explained).toEqual(model.contributions(x));
      // Centred: each feature's contributions average to zero over the training rows.
      const first = Array.from({ length: x.rows }, (_, i) => explained.values.data[i * x.cols]!);
      expect(Math.abs(first.reduce((a, b) => a + b, 0) / x.rows)).toBeLessThanOrEqual(1e-9);
    }
  });

  it('refuses a model family it cannot explain, saying which ones it can', () => {
    const other = {
      estimator: 'knn',
      params: {},
      featureCount: 32,
      predictProba: () => new Float64Array(0),
      toJSON: () => ({ name: 'gbdt' }),
    } as unknown as FittedModel;
    expect(() => explainModel(other, x)).toThrow(OnsetError);
    expect(() => explainModel(other, x)).toThrow(
      /Cannot explain a knn model: .*tree ensembles \(TreeSHAP\).*linear and logistic/,
    );
  });
});

describe('global importance', () => {
  it('averages absolute contributions per feature', () => {
    const contributions: Contributions = {
      bias: 1,
      values: matrixFromRows([
        [1, -2, 0],
        [-3, 2, 0.5],
      ]),
    };
    expect(Array.from(meanAbsoluteContributions(contributions))).toEqual([2, 2, 0.25]);
    expect(rankFeatures([2, 3, 0.25, 3], ['a', 'b', 'c', 'd'])).toEqual([
      { feature: 'b', index: 1, value: 3 },
      { feature: 'd', index: 3, value: 3 },
      { feature: 'a', index: 0, value: 2 },
      { feature: 'c', index: 2, value: 0.25 },
    ]);
  });

  it('has split importances for trees only, and checks the contributions fit the input', () => {
    const logistic = logisticRegression().fit(x, y);
    const importance = globalImportance(logistic, x);
    expect(importance.splits).toBeUndefined();
    expect(importance.rows).toBe(x.rows);
    expect(Array.from(importance.meanAbsContribution)).toEqual(
      Array.from(meanAbsoluteContributions(logistic.contributions(x))),
    );
    const { model } = fromXgboostJson(JSON.parse(readFixture('xgboost/xgboost-regularized.model.json')));
    const input = scoringMatrix();
    const trees = globalImportance(model, input);
    expect(trees.splits?.gain).toHaveLength(FEATURE_NAMES.length);
    expect(trees.meanAbsContribution.some((v) => v > 0.05)).toBe(true);
    expect(() => globalImportance(model, input, treeShap(model, x))).toThrow(/contributions are 400 x 32/);
  });

  for (const name of Object.keys(importanceFixture.models)) {
    it(`${name}: weight, gain, total_gain, cover and total_cover equal XGBoost's get_score (1e-4 relative)`, () => {
      const { model } = fromXgboostJson(JSON.parse(readFixture(`xgboost/${name}.model.json`)));
      const splits = splitImportance(model.trees, model.featureCount);
      const expected = importanceFixture.models[name]!.importance;
      const ours = {
        weight: splits.weight,
        gain: splits.gain,
        total_gain: splits.totalGain,
        cover: splits.cover,
        total_cover: splits.totalCover,
      };
      let worst = 0;
      for (const [kind, values] of Object.entries(ours)) {
        const scores = expected[kind]!;
        expect(Object.keys(scores).length).toBeGreaterThan(10);
        FEATURE_NAMES.forEach((feature, j) => {
          const want = scores[feature];
          if (want === undefined) {
            // XGBoost leaves out features that are never split on.
            expect(values[j]).toBe(0);
            return;
          }
          if (kind === 'weight') expect(values[j]).toBe(want);
          worst = Math.max(worst, Math.abs(values[j]! - want) / Math.abs(want));
        });
      }
      expect(worst).toBeLessThanOrEqual(1e-4);
    });
  }
});
