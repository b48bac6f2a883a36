/**
 * The Estimator contract: every model family in the registry runs this suite (see `estimator.test.ts`,
 * which loops over `ESTIMATOR_NAMES`). A family is done when it passes. What is particular to a family
 * (its reference fixtures, its parameters' meaning, its model state's fields) is tested beside it.
 */
import { describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generator/generator.js';
import { createMatrix, type Matrix, selectMatrixRows } from '../../src/math/matrix.js';
import {
  type EstimatorName,
  type FittedModel,
  isMarginModel,
  isSingleRowModel,
} from '../../src/ml/estimator.js';
import { createEstimator, estimatorEntry, loadModelState } from '../../src/ml/estimator-registry.js';
import { explainModel, globalImportance, isExplainable } from '../../src/ml/explain/explain.js';
import { createModelDocument, parseModel, serializeModelDocument } from '../../src/ml/model-document.js';
import { describeSpec } from '../../src/ml/params.js';
import { featureMatrix } from '../../src/ml/train-on-dataset.js';
import { expectRefusal, refusalOf } from '../support/onset-error.js';

export interface EstimatorFixture {
  /**
   * Parameters for every fit of the suite: small enough to keep it quick and, for a family with a seed
   * parameter, such that the seed matters (e.g. row subsampling).
   */
  readonly params: Readonly<Record<string, unknown>>;
}

/** Training metadata for model documents (fixed, so documents of equal models have equal bytes). */
const TRAINING = {
  dataset_fingerprint: null,
  rows: 300,
  fit_seconds: null,
  fitted_at: null,
} as const;

/**
 * How far an explanation may be from the margin it adds up to, relative to max(1, |margin|): float64
 * rounding, or float32 rounding where the family's margins are float32 values (gbdt sums its margin in
 * float32, as XGBoost does; TreeSHAP sums in float64).
 */
function explanationTolerance(margin: Float64Array): number {
  return margin.every((value) => Math.fround(value) === value) ? 2 ** -19 : 1e-9;
}

function bytesOf(values: Float64Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** A copy of `x` with a missing value in every fifth row (at a column that moves along). */
function withMissingValues(x: Matrix): Matrix {
  const data = Float64Array.from(x.data);
  for (let i = 0; i < x.rows; i += 5) data[i * x.cols + ((i * 7) % x.cols)] = Number.NaN;
  return createMatrix(data, x.rows, x.cols);
}

function documentBytes(model: FittedModel): string {
  return serializeModelDocument(createModelDocument(model, TRAINING));
}

/** The first number inside a JSON value and the name of the field holding it, or undefined. */
function firstNumber(value: unknown, key: string): { path: (string | number)[]; key: string } | undefined {
  if (typeof value === 'number') return { path: [], key };
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [k, inner] of Object.entries(value)) {
    const found = firstNumber(inner, Array.isArray(value) ? key : k);
    if (found) return { path: [Array.isArray(value) ? Number(k) : k, ...found.path], key: found.key };
  }
  return undefined;
}

function setAt(target: unknown, path: readonly (string | number)[], replacement: unknown): void {
  let at = target as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) at = at[step] as Record<string | number, unknown>;
  at[path.at(-1)!] = replacement;
}

export function describeEstimatorContract(name: EstimatorName, fixture: EstimatorFixture): void {
  const entry = estimatorEntry(name);
  const estimator = (extra: Readonly<Record<string, unknown>> = {}) =>
    createEstimator(name, { ...fixture.params, ...extra });

  const training = generateDataset({ rows: 300, seed: 7 });
  const x = featureMatrix(training);
  const y = training.target!;
  const unseen = featureMatrix(generateDataset({ rows: 80, seed: 8 }));
  /** Rows to score: with missing values for the families that handle them. */
  const probe = entry.handlesMissingValues ? withMissingValues(unseen) : unseen;

  let fitted: FittedModel | undefined;
  const model = (): FittedModel => {
    fitted ??= estimator().fit(x, y);
    return fitted;
  };

  describe(`the ${name} estimator contract`, () => {
    it('fits a model of its family that scores each row with a probability in [0, 1]', () => {
      const m = model();
      expect(m.estimator).toBe(name);
      expect(m.featureCount).toBe(x.cols);
      expect(m.toJSON().name).toBe(name);
      const p = m.predictProba(probe);
      expect(p).toBeInstanceOf(Float64Array);
      expect(p).toHaveLength(probe.rows);
      for (const value of p) expect(value >= 0 && value <= 1).toBe(true);
      // Not a degenerate model: the probabilities vary.
      expect(new Set(p).size).toBeGreaterThan(10);
      expect(m.predictProba(selectMatrixRows(probe, []))).toEqual(new Float64Array(0));
    });

    it('resolves its parameters: every default filled in, and the fitted model carries them', () => {
      const defaults = Object.fromEntries(
        Object.entries(entry.params).map(([key, spec]) => [key, spec.default]),
      );
      expect(createEstimator(name).getParams()).toEqual(defaults);
      const resolved = estimator().getParams();
      expect(Object.keys(resolved).sort()).toEqual(Object.keys(entry.params).sort());
      for (const [key, value] of Object.entries(fixture.params)) expect(resolved[key]).toBe(value);
      expect(model().params).toEqual(resolved);
    });

    it('refuses an unknown parameter, listing the known ones with their aliases and allowed values', () => {
      const listed = refusalOf(() => createEstimator(name, { no_such_param: 1 })).message;
      expect(listed).toMatch(
        new RegExp(`^Unknown parameter "no_such_param" for ${name}; valid parameters of ${name}: `),
      );
      for (const [key, spec] of Object.entries(entry.params)) {
        expect(listed).toContain(
          `${key}${spec.aliases?.length ? ` (alias ${spec.aliases.join(', ')})` : ''}: `,
        );
        expect(listed).toContain(`${describeSpec(spec)}, default ${String(spec.default)}`);
      }
    });

    it('is deterministic: the same parameters and data give the same predictions and document bytes', () => {
      const again = estimator().fit(x, y);
      expect(bytesOf(again.predictProba(probe)).equals(bytesOf(model().predictProba(probe)))).toBe(true);
      expect(documentBytes(again)).toBe(documentBytes(model()));
    });

    if (entry.seedParam !== undefined) {
      const seedParam = entry.seedParam;
      it(`depends on its seed (${seedParam}): the same seed gives the same model, another seed another`, () => {
        expect(entry.params[seedParam]?.type).toBe('integer');
        const one = JSON.stringify(estimator({ [seedParam]: 1 }).fit(x, y));
        const two = JSON.stringify(estimator({ [seedParam]: 2 }).fit(x, y));
        expect(JSON.stringify(estimator({ [seedParam]: 1 }).fit(x, y))).toBe(one);
        expect(JSON.parse(one).params[seedParam]).toBe(1);
        // Beyond the parameter itself: the fitted model differs.
        expect(one.replace(`"${seedParam}":1`, `"${seedParam}":2`)).not.toBe(two);
      });
    }

    it('saves and loads: save -> load -> save gives the same bytes and the same predictions', () => {
      const m = model();
      const document = createModelDocument(m, TRAINING);
      expect(document.estimator).toBe(name);
      expect(document.model.name).toBe(name);
      expect(document.params).toEqual(m.params);
      const text = serializeModelDocument(document);
      const loaded = parseModel(JSON.parse(text), `${name}.json`);
      expect(loaded.format).toBe('onset-model');
      expect(serializeModelDocument(loaded.document)).toBe(text);
      expect(documentBytes(loaded.model)).toBe(text);
      const state = JSON.stringify(m.toJSON());
      expect(JSON.stringify(loaded.model.toJSON())).toBe(state);
      expect(JSON.stringify(loadModelState(JSON.parse(state)).toJSON())).toBe(state);

      expect(bytesOf(loaded.model.predictProba(probe)).equals(bytesOf(m.predictProba(probe)))).toBe(true);
      if (isExplainable(m)) expect(explainModel(loaded.model, probe)).toEqual(explainModel(m, probe));
    });

    it('never changes the model or its input: fitting, predicting and explaining leave both as they were', () => {
      const xBytes = Buffer.from(bytesOf(x.data));
      const yBytes = Buffer.from(bytesOf(y));
      const m = estimator().fit(x, y);
      expect(bytesOf(x.data).equals(xBytes)).toBe(true);
      expect(bytesOf(y).equals(yBytes)).toBe(true);

      const before = documentBytes(m);
      const probeBytes = Buffer.from(bytesOf(probe.data));
      const first = m.predictProba(probe);
      if (isSingleRowModel(m)) m.predictProbaOne(probe.data.subarray(0, probe.cols));
      if (isMarginModel(m)) m.predictMargin(probe);
      if (isExplainable(m)) globalImportance(m, probe);
      expect(documentBytes(m)).toBe(before);
      expect(bytesOf(probe.data).equals(probeBytes)).toBe(true);
      expect(bytesOf(m.predictProba(probe)).equals(bytesOf(first))).toBe(true);
    });

    it('scores a row alone exactly as in a batch, bit for bit', () => {
      const m = model();
      const batch = m.predictProba(probe);
      for (let i = 0; i < probe.rows; i++) {
        const alone = m.predictProba(selectMatrixRows(probe, [i]));
        expect(Object.is(alone[0], batch[i]), `row ${i}`).toBe(true);
        if (isSingleRowModel(m)) {
          const one = m.predictProbaOne(probe.data.slice(i * probe.cols, (i + 1) * probe.cols));
          expect(Object.is(one, batch[i]), `row ${i} (predictProbaOne)`).toBe(true);
        }
      }
    });

    if (isExplainable(model())) {
      it('explains each row exactly: bias + contributions = the margin (predictMargin)', () => {
        const m = model();
        if (!isMarginModel(m)) throw new Error(`${name} explains its scores but has no predictMargin`);
        const { bias, values } = explainModel(m, probe);
        expect(values.rows).toBe(probe.rows);
        expect(values.cols).toBe(probe.cols);
        const margin = m.predictMargin(probe);
        let worst = 0;
        for (let i = 0; i < probe.rows; i++) {
          let sum = bias;
          for (let j = 0; j < values.cols; j++) sum += values.data[i * values.cols + j]!;
          worst = Math.max(worst, Math.abs(sum - margin[i]!) / Math.max(1, Math.abs(margin[i]!)));
        }
        expect(worst).toBeLessThanOrEqual(explanationTolerance(margin));
      });
    } else {
      it('refuses to explain, naming the family', () => {
        expectRefusal(() => explainModel(model(), probe), `Cannot explain a ${name} model`);
      });
    }

    if (entry.handlesMissingValues) {
      it('learns from rows with missing values and scores them', () => {
        const m = estimator().fit(withMissingValues(x), y);
        for (const value of m.predictProba(probe)) expect(value >= 0 && value <= 1).toBe(true);
      });
    } else {
      it('refuses missing values in training and in scoring, naming the row and feature', () => {
        const missing = withMissingValues(x);
        expectRefusal(
          () => estimator().fit(missing, y),
          /missing or non-finite feature values \(row 1, feature 1\)/,
        );
        expectRefusal(
          () => model().predictProba(withMissingValues(unseen)),
          /missing or non-finite feature values \(row 1, feature 1\)/,
        );
      });
    }

    describe('refuses bad training data with INVALID_PARAMETER_VALUE, saying what is wrong', () => {
      const targets = (change: (copy: Float64Array) => void): Float64Array => {
        const copy = Float64Array.from(y);
        change(copy);
        return copy;
      };

      it('a target other than 0 or 1, or a missing one, naming the row', () => {
        const two = targets((t) => (t[5] = 2));
        expectRefusal(() => estimator().fit(x, two), 'training row 6 is 2; targets must be 0 or 1');
        const missing = targets((t) => (t[3] = Number.NaN));
        expectRefusal(() => estimator().fit(x, missing), 'training row 4 is missing (NaN)');
      });

      it('a single class', () => {
        const positives = targets((t) => t.fill(1));
        expectRefusal(() => estimator().fit(x, positives), 'only one class');
      });

      it('too few rows, and as many targets as rows', () => {
        const one = selectMatrixRows(x, [0]);
        expectRefusal(() => estimator().fit(one, y.slice(0, 1)), /at least \d+ training rows, got 1/);
        expectRefusal(() => estimator().fit(x, y.slice(0, 299)), '300 feature rows but 299 targets');
      });
    });

    it('refuses to score rows with another feature count, naming both counts', () => {
      const m = model();
      const narrow = createMatrix(probe.data.slice(0, 2 * (probe.cols - 1)), 2, probe.cols - 1);
      const counts = new RegExp(`${probe.cols}\\b.*\\b${probe.cols - 1}\\b`);
      expectRefusal(() => m.predictProba(narrow), counts);
      if (isSingleRowModel(m))
        expectRefusal(() => m.predictProbaOne(narrow.data.subarray(0, narrow.cols)), counts);
      if (isExplainable(m)) expectRefusal(() => explainModel(m, narrow), counts);
    });

    describe('refuses a corrupt saved state, naming the field', () => {
      const state = (): Record<string, unknown> => JSON.parse(JSON.stringify(model().toJSON()));

      it('a state that is not an object of the family', () => {
        for (const value of [null, [], 'text', 42]) {
          expectRefusal(() => entry.load(value), `${name} model state`);
        }
        const other = { ...state(), name: name === 'linear' ? 'logistic' : 'linear' };
        expectRefusal(() => entry.load(other), `name must be "${name}"`);
      });

      it('each field replaced by a string', () => {
        for (const key of Object.keys(state()).filter((k) => k !== 'name')) {
          const corrupt = { ...state(), [key]: 'corrupt' };
          expectRefusal(() => loadModelState(corrupt), key, key);
        }
      });

      it('the first number inside each field replaced by a string', () => {
        let tried = 0;
        for (const [key, value] of Object.entries(state())) {
          const found = typeof value === 'object' ? firstNumber(value, key) : undefined;
          if (!found) continue;
          const corrupt = state();
          setAt(corrupt, [key, ...found.path], 'corrupt');
          expectRefusal(() => loadModelState(corrupt), found.key, `${key}.${found.path.join('.')}`);
          tried++;
        }
        expect(tried).toBeGreaterThan(0);
      });
    });
  });
}
