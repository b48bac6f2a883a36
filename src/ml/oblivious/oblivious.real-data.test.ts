import { describe, expect, it } from 'vitest';
import { HAS_REAL_DATA, REAL_DATA_PATH } from '../../../test/support/fixtures.js';
import { readDatasetFile } from '../../data/csv-reader.js';
import { requireTarget } from '../../data/dataset.js';
import { stratifiedKFold } from '../../data/splits.js';
import { selectMatrixRows } from '../../math/matrix.js';
import { evaluateBinary } from '../metrics/index.js';
import { featureMatrix } from '../train-on-dataset.js';
import { oblivious } from './oblivious.js';

/** Ethnicity and EducationLevel in the schema's 32-feature order. */
const CATEGORICAL = [2, 3];

describe.skipIf(!HAS_REAL_DATA)(
  'oblivious on the real Kaggle file (skipped, with a warning naming the path, when it is absent)',
  () => {
    it('reaches CV accuracy >= 0.93 and ROC AUC >= 0.96 with default parameters (5 stratified folds, seed 42)', async () => {
      const { dataset } = await readDatasetFile(REAL_DATA_PATH);
      const x = featureMatrix(dataset);
      const y = requireTarget(dataset);
      let accuracy = 0;
      let auc = 0;
      const folds = stratifiedKFold(y, 5, 42);
      for (const { train, test } of folds) {
        const model = oblivious({}, { categoricalFeatures: CATEGORICAL }).fit(
          selectMatrixRows(x, train),
          Float64Array.from(train, (i) => y[i]!),
        );
        const metrics = evaluateBinary(
          Float64Array.from(test, (i) => y[i]!),
          model.predictProba(selectMatrixRows(x, test)),
        );
        accuracy += metrics.accuracy / folds.length;
        auc += metrics.roc_auc / folds.length;
      }
      expect(accuracy).toBeGreaterThanOrEqual(0.93);
      expect(auc).toBeGreaterThanOrEqual(0.96);
    }, 60_000);
  },
);
