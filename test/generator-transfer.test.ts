/**
 * The built-in data is only useful if what a model learns on it carries over to real patients: a model
 * trained on generated rows is scored on the real Kaggle file. (A test of the generator through ml, so it
 * lives here rather than beside the generator, which sits below ml.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readDatasetFile } from '../src/data/csv-reader.js';
import type { Dataset } from '../src/data/dataset.js';
import { generateDataset } from '../src/data/generator/generator.js';
import { gbdt } from '../src/ml/gbdt/gbdt.js';
import { evaluateBinary } from '../src/ml/metrics/index.js';
import { featureMatrix } from '../src/ml/train-on-dataset.js';
import { HAS_REAL_DATA, REAL_DATA_PATH } from './support/fixtures.js';

describe.skipIf(!HAS_REAL_DATA)('generated data against the real Kaggle file', () => {
  let real: Dataset;
  beforeAll(async () => {
    real = (await readDatasetFile(REAL_DATA_PATH, { target: 'required' })).dataset;
  });

  it('what a model learns on generated data carries over: gbdt on 2,105 generated rows scores >= 0.90 accuracy and >= 0.93 ROC AUC on the real file', () => {
    for (const seed of [42, 7]) {
      const generated = generateDataset({ rows: 2105, seed });
      const model = gbdt().fit(featureMatrix(generated), generated.target!);
      const metrics = evaluateBinary(real.target!, model.predictProba(featureMatrix(real)));
      expect(metrics.accuracy).toBeGreaterThanOrEqual(0.9);
      expect(metrics.roc_auc).toBeGreaterThanOrEqual(0.93);
    }
  });
});
