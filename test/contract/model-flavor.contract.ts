/**
 * The ModelFlavor contract: every flavor Onset writes and reads runs this suite against every estimator
 * family (see `model-flavor.test.ts`, which loops over `MODEL_FLAVORS` and `ESTIMATOR_NAMES`). A flavor
 * is done when it passes. What is particular to a flavor (MLflow's client loading it, models written by
 * MLflow) is tested beside it, in `src/ml/formats/`.
 */
import { describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generator/generator.js';
import type { EstimatorName, FittedModel } from '../../src/ml/estimator.js';
import { createEstimator } from '../../src/ml/estimator-registry.js';
import { explainModel, isExplainable } from '../../src/ml/explain/explain.js';
import { MLMODEL_FILE, type Mlmodel } from '../../src/ml/formats/mlmodel-file.js';
import type { ModelDirectory, ModelFlavor } from '../../src/ml/formats/model-flavor.js';
import { createModelDocument } from '../../src/ml/model-document.js';
import { featureMatrix } from '../../src/ml/train-on-dataset.js';
import { asyncErrorOf } from '../support/onset-error.js';

const QUICK_PARAMS: Partial<Record<EstimatorName, Readonly<Record<string, unknown>>>> = {
  gbdt: { n_estimators: 10, max_depth: 3 },
  oblivious: { iterations: 10, depth: 3 },
};

export function describeModelFlavorContract(flavor: ModelFlavor, families: readonly EstimatorName[]): void {
  const training = generateDataset({ rows: 300, seed: 17 });
  const x = featureMatrix(training);
  const probe = featureMatrix(generateDataset({ rows: 60, seed: 18 }));

  const fittedModels = new Map<EstimatorName, FittedModel>();

  describe(`the ${flavor.name} flavor contract`, () => {
    it('holds a model of at least one family', () => {
      const held = families.filter((family) => flavor.write(toWrite(family)) !== undefined);
      expect(held.length).toBeGreaterThan(0);
    });

    const toWrite = (family: EstimatorName) => {
      let fitted = fittedModels.get(family);
      if (fitted === undefined) {
        fitted = createEstimator(family, QUICK_PARAMS[family] ?? {}).fit(x, training.target!);
        fittedModels.set(family, fitted);
      }
      const document = createModelDocument(fitted, {
        dataset_fingerprint: null,
        rows: 300,
        fit_seconds: null,
        fitted_at: null,
      });
      return { document, model: fitted };
    };

    for (const family of families) {
      it(`${family}: writes its entry and files the same way every time, or declines the model`, () => {
        const written = flavor.write(toWrite(family));
        if (written === undefined) return;
        expect(flavor.write(toWrite(family))).toEqual(written);
        expect(Object.keys(written.flavors)).toContain(flavor.name);
        const paths = written.files.map((file) => file.path);
        expect(new Set(paths).size).toBe(paths.length);
        for (const path of paths) {
          expect(path).not.toBe(MLMODEL_FILE);
          expect(
            path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..'),
          ).toBe(true);
        }
        // Every file an entry names is written.
        for (const configuration of Object.values(written.flavors)) {
          if (typeof configuration.data === 'string') expect(paths).toContain(configuration.data);
        }
      });

      it(`${family}: reads back what it wrote as a model that predicts and explains the same`, async () => {
        const { document, model } = toWrite(family);
        const written = flavor.write({ document, model });
        if (written === undefined) return;
        const contents = new Map(written.files.map((file) => [file.path, Buffer.from(file.content)]));
        const read: string[] = [];
        const directory: ModelDirectory = {
          files: [...contents.keys()],
          read: async (path) => {
            read.push(path);
            const content = contents.get(path);
            if (content === undefined) throw new Error(`read outside the directory: ${path}`);
            return content;
          },
          where: `a ${flavor.name} directory`,
        };
        const mlmodel: Mlmodel = { flavors: written.flavors };
        const loaded = await flavor.read(written.flavors[flavor.name]!, directory, mlmodel);
        expect(loaded.model.estimator).toBe(family);
        expect(loaded.document.schema).toEqual(document.schema);
        expect(Array.from(loaded.model.predictProba(probe))).toEqual(Array.from(model.predictProba(probe)));
        if (isExplainable(model)) {
          const expected = explainModel(model, probe);
          const actual = explainModel(loaded.model, probe);
          expect(actual.bias).toBe(expected.bias);
          expect(Array.from(actual.values.data)).toEqual(Array.from(expected.values.data));
        }
        expect(read.every((path) => contents.has(path))).toBe(true);
      });

      it(`${family}: refuses a directory without the file its entry names, saying which`, async () => {
        const written = flavor.write(toWrite(family));
        if (written === undefined) return;
        const configuration = written.flavors[flavor.name]!;
        const directory: ModelDirectory = {
          files: ['unrelated.txt'],
          read: async () => Buffer.from(''),
          where: 'an empty directory',
        };
        const error = await asyncErrorOf(() =>
          flavor.read(configuration, directory, { flavors: written.flavors }),
        );
        expect(error.code).toBe('INVALID_PARAMETER_VALUE');
        expect(error.message).toMatch(
          /^an empty directory: the .* file .* is not in the directory \(its files: unrelated\.txt\)$/,
        );
      });
    }
  });
}
