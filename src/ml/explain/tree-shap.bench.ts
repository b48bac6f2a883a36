import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bench, describe } from 'vitest';
import { toRowMajor } from '../../data/dataset.js';
import { generateDataset } from '../../data/generator/generator.js';
import { FEATURE_NAMES } from '../../data/schema.js';
import { createMatrix } from '../../math/matrix.js';
import { fromXgboostJson } from '../gbdt/xgboost-json.js';
import { treeShap } from './tree-shap.js';

// XGBoost's defaults: 100 trees of depth up to 6, on the size of the Kaggle data set.
const { model } = fromXgboostJson(
  JSON.parse(
    readFileSync(
      fileURLToPath(new URL('../../../test/fixtures/xgboost/xgboost-defaults.model.json', import.meta.url)),
      'utf8',
    ),
  ),
);
const data = generateDataset({ rows: 2105, seed: 42 });
const x = createMatrix(toRowMajor(data), data.rowCount, FEATURE_NAMES.length);

describe('TreeSHAP', () => {
  bench('2,105 rows x 100 trees (depth 6)', () => {
    treeShap(model, x);
  });
});
