import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asyncErrorOf, errorOf } from '../../test/support/onset-error.js';
import { toRowMajor } from '../data/dataset.js';
import { generateDataset } from '../data/generator/generator.js';
import { FEATURE_NAMES, FEATURES, SCHEMA_TRAINING_RANGES, TARGET_COLUMN } from '../data/schema.js';
import { createMatrix, type Matrix } from '../math/matrix.js';
import type { EstimatorName, FittedModel } from './estimator.js';
import { createEstimator } from './estimator-registry.js';
import { loadModelPath } from './formats/mlflow-model.js';
import { GbdtModel } from './gbdt/gbdt.js';
import {
  createModelDocument,
  currentSchema,
  exportXgboost,
  MODEL_DOCUMENT_NAME,
  MODEL_FORMAT_VERSION,
  type ModelDocument,
  modelTrainingRanges,
  parseModel,
  saveModelDocument,
  serializeModelDocument,
} from './model-document.js';
import { trainOnDataset } from './train-on-dataset.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/xgboost/', import.meta.url));
const PACKAGE_VERSION = (
  JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const GBDT_PARAMS = { n_estimators: 20, max_depth: 4, subsample: 0.8, colsample_bytree: 0.7, seed: 5 };

const dataset = generateDataset({ rows: 300, seed: 7 });
const x: Matrix = createMatrix(toRowMajor(dataset), dataset.rowCount, FEATURE_NAMES.length);
const y = dataset.target!;
/** Unseen rows to compare predictions on. */
const probeData = generateDataset({ rows: 80, seed: 8 });
const probe = createMatrix(toRowMajor(probeData), probeData.rowCount, FEATURE_NAMES.length);

const fitted = new Map<EstimatorName, FittedModel>();
function model(name: EstimatorName): FittedModel {
  let m = fitted.get(name);
  if (!m) {
    m = createEstimator(name, name === 'gbdt' ? GBDT_PARAMS : {}).fit(x, y);
    fitted.set(name, m);
  }
  return m;
}

const TRAINING = {
  dataset_fingerprint: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  rows: 300,
  fit_seconds: 0.125,
  fitted_at: '2024-05-01T12:00:00.000Z',
} as const;

function documentOf(name: EstimatorName): ModelDocument {
  return createModelDocument(model(name), TRAINING, {});
}

/** A deep copy of a document's JSON, for editing. */
function jsonOf(document: ModelDocument): Record<string, unknown> {
  return JSON.parse(serializeModelDocument(document)) as Record<string, unknown>;
}

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'onset-model-document-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('a model document', () => {
  it('carries the format version, the schema the model was trained on and the training info', () => {
    const document = documentOf('gbdt');
    expect(document.name).toBe(MODEL_DOCUMENT_NAME);
    // Version 1: nothing in it needs a reader that knows calibration (a calibrated one is version 2).
    expect(document.format_version).toBe(1);

    expect(document.schema.target).toBe(TARGET_COLUMN);
    expect(document.schema.target).toBe('Diagnosis');
    expect(document.schema.features).toHaveLength(32);
    expect(document.schema.features.map((f) => f.name)).toEqual([...FEATURE_NAMES]);
    expect(document.schema.features.map((f) => f.kind)).toEqual(FEATURES.map((f) => f.kind));
    expect(document.schema.features.find((f) => f.name === 'BMI')?.kind).toBe('continuous');
    expect(document.schema.features.find((f) => f.name === 'Ethnicity')?.kind).toBe('categorical');
    expect(document.schema.features.find((f) => f.name === 'Tremor')?.kind).toBe('binary');

    expect(document.training).toEqual({ ...TRAINING, onset_version: PACKAGE_VERSION });
    const text = serializeModelDocument(document);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2); // compact: one line and the final newline
    const parsed = jsonOf(document);
    for (const key of ['format_version', 'estimator', 'params', 'schema', 'training', 'metrics', 'model']) {
      expect(parsed).toHaveProperty(key);
    }
  });
});

describe('saveModelDocument and loadModelPath', () => {
  it('write a file that reads back to the same bytes', async () => {
    const path = join(directory, 'gbdt.model.json');
    const document = createModelDocument(model('gbdt'), TRAINING, {});
    await saveModelDocument(path, document);
    const first = await readFile(path, 'utf8');
    expect(first).toBe(serializeModelDocument(document));
    const loaded = await loadModelPath(path);
    const again = join(directory, 'gbdt-again.model.json');
    await saveModelDocument(again, loaded.document);
    expect(await readFile(again, 'utf8')).toBe(first);
  });

  it('names a missing file with RESOURCE_DOES_NOT_EXIST', async () => {
    const path = join(directory, 'no-such-model.json');
    const error = await asyncErrorOf(() => loadModelPath(path));
    expect(error.code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(error.httpStatus).toBe(404);
    expect(error.message).toContain(path);
  });

  it('says when a file is not valid JSON', async () => {
    const path = join(directory, 'broken.json');
    await writeFile(path, '{"name": "onset-model", "format_version": 1,');
    const error = await asyncErrorOf(() => loadModelPath(path));
    expect(error.code).toBe('INVALID_PARAMETER_VALUE');
    expect(error.message).toContain(path);
    expect(error.message).toContain('is not valid JSON');
  });
});

describe('parseModel refuses', () => {
  it('another format version, naming both versions', () => {
    const json = jsonOf(documentOf('logistic'));
    json.format_version = MODEL_FORMAT_VERSION + 1;
    const error = errorOf(() => parseModel(json, 'future.json'));
    expect(error.code).toBe('INVALID_PARAMETER_VALUE');
    expect(error.message).toContain('future.json');
    expect(error.message).toContain(`model format version ${MODEL_FORMAT_VERSION + 1}`);
    expect(error.message).toContain('reads versions 1 and 2');
  });

  it('a schema with a renamed feature, naming it', () => {
    const json = jsonOf(documentOf('logistic'));
    const schema = json.schema as { features: { name: string; kind: string }[] };
    schema.features[22]!.name = 'UPDRS_total';
    const error = errorOf(() => parseModel(json, 'renamed.json'));
    expect(error.message).toContain('renamed.json was trained on a different feature schema');
    expect(error.message).toContain('feature 23 is UPDRS_total, expected UPDRS');
  });

  it('a schema with reordered features, naming them', () => {
    const json = jsonOf(documentOf('linear'));
    const schema = json.schema as { features: { name: string; kind: string }[] };
    const [age, gender] = [schema.features[0]!, schema.features[1]!];
    schema.features[0] = gender;
    schema.features[1] = age;
    const error = errorOf(() => parseModel(json, 'reordered.json'));
    expect(error.message).toContain('feature 1 is Gender, expected Age');
    expect(error.message).toContain('feature 2 is Age, expected Gender');
  });

  it('a schema with another feature count, kind or target', () => {
    const json = jsonOf(documentOf('linear'));
    const schema = json.schema as { features: { name: string; kind: string }[]; target: string };
    schema.features.pop();
    expect(errorOf(() => parseModel(json, 'short.json')).message).toContain('31 features instead of 32');

    const kinds = jsonOf(documentOf('linear'));
    (kinds.schema as typeof schema).features[4]!.kind = 'categorical';
    expect(errorOf(() => parseModel(kinds, 'kind.json')).message).toContain(
      'BMI is categorical, expected continuous',
    );

    const target = jsonOf(documentOf('linear'));
    (target.schema as typeof schema).target = 'Outcome';
    expect(errorOf(() => parseModel(target, 'target.json')).message).toContain(
      'target Outcome, expected Diagnosis',
    );

    const none = jsonOf(documentOf('linear'));
    delete none.schema;
    expect(errorOf(() => parseModel(none, 'none.json')).message).toContain('none.json has no feature schema');
  });

  it('an estimator that does not match the model state', () => {
    const json = jsonOf(documentOf('linear'));
    json.estimator = 'logistic';
    const error = errorOf(() => parseModel(json, 'mismatch.json'));
    expect(error.message).toContain('mismatch.json');
    expect(error.message).toContain('estimator "logistic" does not match its model state "linear"');
  });

  it('prediction sets fitted on other subgroup columns than this Onset reads them by', () => {
    const json = jsonOf(documentOf('linear'));
    const columns = ['intercept', 'Gender=Female', 'Smoking=Yes'];
    json.conformal = {
      level: 0.9,
      thresholds: [0.5, 0.5],
      rows: [10, 10],
      held_out: { coverage: [0.9, 0.9], undecided: 0, empty: 0 },
      by_subgroup: {
        columns,
        coefficients: [
          [0.1, 0, 0],
          [0.1, 0, 0],
        ],
      },
    };
    const error = errorOf(() => parseModel(json, 'sets.json'));
    expect(error.code).toBe('INVALID_PARAMETER_VALUE');
    expect(error.message).toContain(
      "sets.json: its prediction sets are fitted on the subgroups intercept, Gender=Female, Smoking=Yes, not on this Onset's intercept, Gender=Female, ",
    );
  });

  it('an unknown model family, listing the known ones', () => {
    const json = jsonOf(documentOf('linear'));
    json.estimator = 'forest';
    (json.model as { name: string }).name = 'forest';
    const error = errorOf(() => parseModel(json, 'forest.json'));
    expect(error.code).toBe('INVALID_PARAMETER_VALUE');
    expect(error.message).toContain('Unknown model family "forest"');
    expect(error.message).toContain('known families: linear, logistic, gbdt');

    const unnamed = jsonOf(documentOf('linear'));
    delete (unnamed.model as { name?: string }).name;
    expect(errorOf(() => parseModel(unnamed, 'unnamed.json')).message).toContain('no "name"');
  });

  it('JSON that is neither an Onset document nor an XGBoost model', () => {
    for (const value of [{ hello: 'world' }, { name: 'other-model' }, [], null, 'onset-model', 42]) {
      const error = errorOf(() => parseModel(value, 'other.json'));
      expect(error.code).toBe('INVALID_PARAMETER_VALUE');
      expect(error.message).toBe('other.json is neither an Onset model document nor an XGBoost JSON model');
    }
  });
});

describe('XGBoost JSON models', () => {
  const fixtures = ['xgboost-defaults', 'xgboost-missing-shallow', 'xgboost-regularized'] as const;

  it.each(fixtures)('detects %s and reads it as an imported gbdt document', async (fixture) => {
    const path = join(FIXTURES, `${fixture}.model.json`);
    const loaded = await loadModelPath(path);
    expect(loaded.format).toBe('xgboost-json');
    expect(loaded.model).toBeInstanceOf(GbdtModel);
    expect(loaded.document.estimator).toBe('gbdt');
    expect(loaded.document.training).toMatchObject({
      dataset_fingerprint: null,
      rows: null,
      fit_seconds: null,
      fitted_at: null,
      imported_from: 'xgboost-json',
      onset_version: PACKAGE_VERSION,
    });
    expect(loaded.document.schema).toEqual(currentSchema());
    // The imported document is itself a valid Onset document that round-trips.
    const text = serializeModelDocument(loaded.document);
    const again = parseModel(JSON.parse(text), 'imported.json');
    expect(again.format).toBe('onset-model');
    expect(serializeModelDocument(again.document)).toBe(text);
    expect(Array.from(again.model.predictProba(probe))).toEqual(Array.from(loaded.model.predictProba(probe)));
  });

  it('refuses a model whose feature names differ from the schema, naming position and names', async () => {
    const json = JSON.parse(await readFile(join(FIXTURES, 'xgboost-defaults.model.json'), 'utf8')) as {
      learner: { feature_names: string[] };
    };
    const names = json.learner.feature_names;
    [names[23], names[24]] = [names[24]!, names[23]!]; // MoCA <-> FunctionalAssessment
    const error = errorOf(() => parseModel(json, 'swapped.json'));
    expect(error.code).toBe('INVALID_PARAMETER_VALUE');
    expect(error.message).toContain('swapped.json: feature 24 is named FunctionalAssessment');
    expect(error.message).toContain('the schema has MoCA there');
  });

  it('exports a gbdt model that reads back with the same predictions', () => {
    const text = exportXgboost(model('gbdt'), 'gbdt.json');
    const json = JSON.parse(text) as { learner: { feature_names: string[]; feature_types: string[] } };
    expect(json.learner.feature_names).toEqual([...FEATURE_NAMES]);
    expect(json.learner.feature_types[FEATURE_NAMES.indexOf('BMI')]).toBe('float');
    expect(json.learner.feature_types[FEATURE_NAMES.indexOf('Tremor')]).toBe('int');
    const loaded = parseModel(json, 'exported.json');
    expect(loaded.format).toBe('xgboost-json');
    // Exact: the export writes every threshold and leaf value the model uses.
    expect(Array.from(loaded.model.predictProba(probe))).toEqual(
      Array.from(model('gbdt').predictProba(probe)),
    );
  });

  it.each(['linear', 'logistic'] as const)('refuses to export a %s model', (name) => {
    const error = errorOf(() => exportXgboost(model(name), `${name}.json`));
    expect(error.code).toBe('INVALID_PARAMETER_VALUE');
    expect(error.message).toBe(
      `${name}.json is a ${name} model; only gbdt models can be exported as XGBoost JSON`,
    );
  });
});

describe('modelTrainingRanges', () => {
  it("takes a trained model's ranges from its report, and the schema's for a model without one", () => {
    const trained = trainOnDataset(dataset, { estimator: 'logistic' });
    const own = modelTrainingRanges(trained.document);
    expect(own.source).toBe('model');
    const age = FEATURE_NAMES.indexOf('Age');
    const ages = Array.from(dataset.columns.Age);
    expect(own.ranges[age]).toEqual({ min: Math.min(...ages), max: Math.max(...ages) });
    expect(own.ranges[FEATURE_NAMES.indexOf('Gender')]).toBeUndefined();
    const imported = createModelDocument(trained.model, {
      dataset_fingerprint: null,
      rows: null,
      fit_seconds: null,
      fitted_at: null,
    });
    expect(modelTrainingRanges(imported)).toEqual({ source: 'schema', ranges: SCHEMA_TRAINING_RANGES });
  });
});
