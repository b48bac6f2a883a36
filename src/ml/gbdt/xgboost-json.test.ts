import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ONSET_EXPORT_CASES, scoringMatrix, withMissingValues } from '../../../test/support/xgboost-cases.js';
import { toRowMajor } from '../../data/dataset.js';
import { generateDataset } from '../../data/generator/generator.js';
import { FEATURE_NAMES } from '../../data/schema.js';
import { createMatrix } from '../../math/matrix.js';
import { gbdt } from './gbdt.js';
import { floatText, fromXgboostJson, isXgboostJson, toXgboostJson } from './xgboost-json.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/xgboost/', import.meta.url));
const read = (name: string) => readFileSync(`${FIXTURES}${name}`, 'utf8');
const recorded = JSON.parse(read('predictions.json')) as {
  xgboost_version: string;
  from_xgboost: Record<string, { margin: number[]; probability: number[] }>;
  from_onset: Record<string, { margin: number[]; probability: number[] }>;
};
const input = scoringMatrix();

function maxDifference(a: ArrayLike<number>, b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  let largest = 0;
  for (let i = 0; i < b.length; i++) largest = Math.max(largest, Math.abs(a[i]! - b[i]!));
  return largest;
}

describe('XGBoost JSON -> Onset (models saved by Python XGBoost 1.7)', () => {
  it('uses the scoring matrix the fixtures were made with', () => {
    const stored = JSON.parse(read('scoring-input.json')) as { data: (number | null)[] };
    expect(stored.data.map((v) => (v === null ? Number.NaN : v))).toEqual(Array.from(input.data));
    expect(recorded.xgboost_version).toMatch(/^1\.7\./);
  });

  for (const name of Object.keys(recorded.from_xgboost)) {
    it(`${name}: predicts what XGBoost predicts, to 1e-6`, () => {
      const json = JSON.parse(read(`xgboost-${name}.model.json`));
      expect(isXgboostJson(json)).toBe(true);
      const { model, featureNames } = fromXgboostJson(json);
      expect(featureNames).toEqual(FEATURE_NAMES);
      const expected = recorded.from_xgboost[name]!;
      expect(maxDifference(model.predictMargin(input), expected.margin)).toBeLessThanOrEqual(1e-6);
      expect(maxDifference(model.predictProba(input), expected.probability)).toBeLessThanOrEqual(1e-6);
    });
  }
});

describe('Onset -> XGBoost JSON (loaded by Python XGBoost 1.7 with Booster(model_file=...))', () => {
  for (const testCase of ONSET_EXPORT_CASES) {
    it(`${testCase.name}: exports the same bytes as the fixture and XGBoost predicts what Onset predicts, to 1e-6`, () => {
      const data = generateDataset({ rows: testCase.rows, seed: testCase.seed });
      const x = withMissingValues(
        createMatrix(toRowMajor(data), testCase.rows, FEATURE_NAMES.length),
        testCase.missingShare,
        testCase.seed,
      );
      const model = gbdt(testCase.params).fit(x, data.target!);
      const text = toXgboostJson(model, { featureNames: FEATURE_NAMES });
      expect(text).toBe(read(`onset-${testCase.name}.model.json`));
      const expected = recorded.from_onset[testCase.name]!;
      expect(maxDifference(model.predictMargin(input), expected.margin)).toBeLessThanOrEqual(1e-6);
      expect(maxDifference(model.predictProba(input), expected.probability)).toBeLessThanOrEqual(1e-6);

      // Reading the export back gives the same model: same predictions, same export.
      const back = fromXgboostJson(JSON.parse(text)).model;
      expect(Array.from(back.predictMargin(input))).toEqual(Array.from(model.predictMargin(input)));
      expect(toXgboostJson(back, { featureNames: FEATURE_NAMES })).toBe(text);
    });
  }
});

describe('XGBoost JSON errors and format details', () => {
  const base = () => JSON.parse(read('xgboost-missing-shallow.model.json'));

  it('writes every float with a decimal point or an exponent', () => {
    expect(floatText(1)).toBe('1.0');
    expect(floatText(-3)).toBe('-3.0');
    expect(floatText(0.5)).toBe('0.5');
    expect(floatText(1e-7)).toBe('1e-7');
    // The shortest text that reads back as the same float32: 0.62 rather than 0.6200000047683716.
    expect(floatText(Math.fround(0.62))).toBe('0.62');
    expect(floatText(Math.fround(50.358547))).toBe('50.358547');
    expect(Math.fround(Number(floatText(Math.fround(Math.PI))))).toBe(Math.fround(Math.PI));
    expect(() => floatText(Number.NaN)).toThrow('Cannot write NaN');
  });

  it('refuses other objectives, boosters, categorical splits and non-models with a clear message', () => {
    const regression = base();
    regression.learner.objective.name = 'reg:squarederror';
    expect(() => fromXgboostJson(regression)).toThrow(
      'objective "reg:squarederror" is not supported; Onset reads binary:logistic models',
    );
    const dart = base();
    dart.learner.gradient_booster.name = 'dart';
    expect(() => fromXgboostJson(dart)).toThrow('booster "dart" is not supported');
    const categorical = base();
    categorical.learner.gradient_booster.model.trees[2].split_type[0] = 1;
    expect(() => fromXgboostJson(categorical)).toThrow('tree 2 has categorical splits');
    expect(() => fromXgboostJson({ format: 'something else' })).toThrow(
      'has no "learner"; is this an XGBoost JSON model',
    );
  });

  it('reads the intercept as XGBoost 3.1 writes it, a list with one value per target', () => {
    const plain = fromXgboostJson(base()).model;
    const listed = base();
    const value = listed.learner.learner_model_param.base_score;
    listed.learner.learner_model_param.base_score = `[${value}]`;
    expect(fromXgboostJson(listed).model.baseScore).toBe(plain.baseScore);
    listed.learner.learner_model_param.base_score = `[${value},${value}]`;
    expect(() => fromXgboostJson(listed)).toThrow(`base_score [${value},${value}] has several targets`);
    listed.learner.learner_model_param.base_score = '[]';
    expect(() => fromXgboostJson(listed)).toThrow('base_score [] must be a probability');
  });

  it('refuses a corrupt tree structure, naming the tree and node', () => {
    const broken = base();
    broken.learner.gradient_booster.model.trees[1].split_indices[0] = 99;
    expect(() => fromXgboostJson(broken)).toThrow('tree 1 node 0 splits on feature 99; the model has 32');
    const shuffled = base();
    shuffled.learner.gradient_booster.model.trees[0].right_children[0] = 5;
    expect(() => fromXgboostJson(shuffled)).toThrow('tree 0 node 0 has children 1 and 5');
  });
});
