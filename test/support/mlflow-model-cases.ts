import { toRowMajor } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { createMatrix } from '../../src/math/matrix.js';
import type { FittedModel } from '../../src/ml/estimator.js';
import { mlflowModelFiles } from '../../src/ml/formats/mlflow-model.js';
import type { ModelDirectoryFile } from '../../src/ml/formats/model-flavor.js';
import { gbdt } from '../../src/ml/gbdt/gbdt.js';
import { logisticRegression } from '../../src/ml/logistic/logistic-regression.js';
import { createModelDocument, type ModelDocument } from '../../src/ml/model-document.js';
import { withMissingValues } from './xgboost-cases.js';

/**
 * The Onset models written as MLflow model directories for the MLflow client check
 * (scripts/fixtures/make-mlflow-model-fixtures.py): trained deterministically, with fixed run fields,
 * uuid, time and Onset version, so the test can write them again and compare the bytes with what the
 * script checked.
 */
export const ONSET_MLFLOW_CASES = [
  {
    name: 'onset-gbdt',
    fit: () => {
      const data = generateDataset({ rows: 900, seed: 31 });
      const x = withMissingValues(createMatrix(toRowMajor(data), 900, FEATURE_NAMES.length), 0.05, 31);
      return gbdt({ n_estimators: 20, max_depth: 3, learning_rate: 0.3, seed: 7 }).fit(x, data.target!);
    },
  },
  {
    name: 'onset-logistic',
    fit: () => {
      const data = generateDataset({ rows: 600, seed: 32 });
      return logisticRegression().fit(
        createMatrix(toRowMajor(data), 600, FEATURE_NAMES.length),
        data.target!,
      );
    },
  },
] as const;

/** A document with fixed training facts (no clock, no package version), for files that never change. */
export function fixedDocument(model: FittedModel): ModelDocument {
  const document = createModelDocument(model, {
    dataset_fingerprint: null,
    rows: null,
    fit_seconds: null,
    fitted_at: '2024-05-01T12:00:00.000Z',
  });
  return { ...document, training: { ...document.training, onset_version: '0.1.0' } };
}

/** The files of a case's MLflow model directory, as logged to a run at artifact path `model`. */
export function onsetMlflowCase(name: (typeof ONSET_MLFLOW_CASES)[number]['name']): {
  model: FittedModel;
  document: ModelDocument;
  files: ModelDirectoryFile[];
} {
  const model = ONSET_MLFLOW_CASES.find((c) => c.name === name)!.fit();
  const document = fixedDocument(model);
  const files = mlflowModelFiles(
    { document, model },
    {
      createdAt: new Date('2024-05-01T12:00:00.123Z'),
      modelUuid:
        name === 'onset-gbdt' ? '0123456789abcdef0123456789abcdef' : 'fedcba9876543210fedcba9876543210',
      runId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      artifactPath: 'model',
    },
  );
  return { model, document, files };
}
