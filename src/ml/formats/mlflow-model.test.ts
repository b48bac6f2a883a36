import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ONSET_MLFLOW_CASES, onsetMlflowCase } from '../../../test/support/mlflow-model-cases.js';
import { asyncErrorOf } from '../../../test/support/onset-error.js';
import { scoringMatrix } from '../../../test/support/xgboost-cases.js';
import { FEATURE_NAMES, FEATURES } from '../../data/schema.js';
import { selectMatrixRows } from '../../math/matrix.js';
import { explainModel } from '../explain/explain.js';
import { parseModel, serializeModelDocument } from '../model-document.js';
import {
  loadModelDirectory,
  loadModelPath,
  localModelDirectory,
  mlflowModelFiles,
  newModelUuid,
} from './mlflow-model.js';
import { parseMlmodel } from './mlmodel-file.js';
import type { ModelDirectoryFile } from './model-flavor.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/mlflow-models/', import.meta.url));
const checks = JSON.parse(readFileSync(`${FIXTURES}python-checks.json`, 'utf8')) as {
  python: string;
  mlflow_version: string;
  xgboost_version: string;
  onset: Record<
    string,
    { files: Record<string, string>; flavors: string[]; max_difference_to_onset?: Record<string, number> }
  >;
  servable: Record<
    string,
    {
      model_class: string;
      model_format: string;
      feature_order: string;
      trees: number;
      trees_predicted: number;
      probability: number[];
      margin: number[];
      contribs: number[][];
    }
  >;
  refused: Record<string, { flavors: string[]; files: string[] }>;
};
const input = scoringMatrix();

/** A model directory held in memory, as `loadModelDirectory` reads one from a store. */
function inMemory(files: readonly ModelDirectoryFile[]) {
  const byPath = new Map(files.map((file) => [file.path, Buffer.from(file.content)]));
  const read = async (path: string) => {
    const content = byPath.get(path);
    if (content === undefined) throw new Error(`read of a file not in the directory: ${path}`);
    return content;
  };
  return { files: [...byPath.keys()], read };
}

async function loadFixture(name: string) {
  const directory = await localModelDirectory(`${FIXTURES}${name}`);
  return loadModelDirectory(directory.files, directory.read, `mlflow-models/${name}`);
}

function largestDifference(actual: ArrayLike<number>, expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  expected.forEach((value, i) => {
    worst = Math.max(worst, Math.abs(actual[i]! - value));
  });
  return worst;
}

describe('Onset models as MLflow model directories (loaded by MLflow 2.12 in Python)', () => {
  it("the Python check ran with MLflow 2.12 and XGBoost 1.7 and found Onset's predictions to 1e-6", () => {
    expect(checks.mlflow_version).toMatch(/^2\.12\./);
    expect(checks.xgboost_version).toMatch(/^1\.7\./);
    const figures = checks.onset['onset-gbdt']!.max_difference_to_onset!;
    expect(Object.keys(figures).sort()).toEqual([
      'pyfunc_predict',
      'pyfunc_predict_csv',
      'xgboost_load_model',
    ]);
    for (const difference of Object.values(figures)) expect(difference).toBeLessThanOrEqual(1e-6);
  });

  for (const { name } of ONSET_MLFLOW_CASES) {
    it(`${name}: writes the same bytes the MLflow client accepted, and reads them back`, async () => {
      const { model, document, files } = onsetMlflowCase(name);
      const accepted = checks.onset[name]!.files;
      expect(files.map((file) => file.path)).toEqual(Object.keys(accepted).sort());
      for (const file of files) {
        expect(createHash('sha256').update(file.content).digest('hex'), file.path).toBe(accepted[file.path]);
        expect(file.content).toBe(readFileSync(`${FIXTURES}${name}/${file.path}`, 'utf8'));
      }
      const mlmodel = parseMlmodel(files.find((file) => file.path === 'MLmodel')!.content, 'MLmodel');
      expect(Object.keys(mlmodel.flavors).sort()).toEqual(checks.onset[name]!.flavors);
      expect(mlmodel.run_id).toBe('a1b2c3d4e5f60718293a4b5c6d7e8f90');
      expect(mlmodel.artifact_path).toBe('model');
      expect(mlmodel.utc_time_created).toBe('2024-05-01 12:00:00.123000');

      const { files: paths, read } = inMemory(files);
      const loaded = await loadModelDirectory(paths, read, name);
      expect(loaded.format).toBe('onset-model');
      expect(loaded.document).toEqual(document);
      expect(serializeModelDocument(loaded.document)).toBe(
        files.find((f) => f.path === 'model.json')!.content,
      );
      if (model.estimator === 'gbdt') {
        expect(Array.from(loaded.model.predictProba(input))).toEqual(Array.from(model.predictProba(input)));
      }
    });
  }

  it('declares the 32 schema features as MLflow infers them from the data file, and the probability', () => {
    const { files } = onsetMlflowCase('onset-gbdt');
    const mlmodel = parseMlmodel(files.find((file) => file.path === 'MLmodel')!.content, 'MLmodel');
    const inputs = JSON.parse(mlmodel.signature!.inputs) as {
      type: string;
      name: string;
      required: boolean;
    }[];
    expect(inputs.map((column) => column.name)).toEqual(FEATURE_NAMES);
    expect(inputs.every((column) => column.required)).toBe(true);
    const types = Object.fromEntries(inputs.map((column) => [column.name, column.type]));
    expect(types).toMatchObject({
      Age: 'long',
      Gender: 'long',
      EducationLevel: 'long',
      BMI: 'double',
      MoCA: 'double',
    });
    expect(inputs.filter((column) => column.type === 'long')).toHaveLength(
      FEATURES.filter((f) => f.kind !== 'continuous' || f.integer).length,
    );
    expect(JSON.parse(mlmodel.signature!.outputs)).toEqual([
      { type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1] } },
    ]);
    // The environment names XGBoost, which loads the xgboost flavor.
    const requirements = files.find((file) => file.path === 'requirements.txt')!.content;
    expect(requirements.split('\n')).toContain(`xgboost==${checks.xgboost_version}`);
    expect(parse(files.find((file) => file.path === 'conda.yaml')!.content).dependencies[2]).toEqual({
      pip: requirements.split('\n'),
    });
  });

  it('leaves out the run fields outside a run, and refuses a malformed uuid', () => {
    const { model, document } = onsetMlflowCase('onset-logistic');
    const files = mlflowModelFiles(
      { model, document },
      { createdAt: new Date(0), modelUuid: newModelUuid() },
    );
    const mlmodel = parseMlmodel(files.find((file) => file.path === 'MLmodel')!.content, 'MLmodel');
    expect(mlmodel).not.toHaveProperty('run_id');
    expect(mlmodel).not.toHaveProperty('artifact_path');
    expect(mlmodel.model_uuid).toMatch(/^[0-9a-f]{32}$/);
    expect(mlmodel.utc_time_created).toBe('1970-01-01 00:00:00.000000');
    expect(() => mlflowModelFiles({ model, document }, { createdAt: new Date(), modelUuid: 'x' })).toThrow(
      'Invalid model uuid "x"',
    );
  });

  it("reads an Onset directory's xgboost flavor alone as the same model", async () => {
    const { model, files } = onsetMlflowCase('onset-gbdt');
    const withoutOnset = files
      .filter((file) => file.path !== 'model.json')
      .map((file) => {
        if (file.path !== 'MLmodel') return file;
        const mlmodel = parse(file.content);
        delete mlmodel.flavors.onset;
        return { path: file.path, content: stringify(mlmodel) };
      });
    const { files: paths, read } = inMemory(withoutOnset);
    const loaded = await loadModelDirectory(paths, read, 'runs:/abc/model');
    expect(loaded.format).toBe('mlflow-xgboost');
    expect(
      largestDifference(loaded.model.predictProba(input), Array.from(model.predictProba(input))),
    ).toBeLessThanOrEqual(1e-12);
  });
});

describe('MLflow models saved by mlflow.xgboost (Python), served by Onset', () => {
  it('covers Booster and XGBClassifier, json and ubj, shuffled features and early stopping', () => {
    const cases = Object.values(checks.servable);
    expect(cases.map((c) => `${c.model_class} ${c.model_format} ${c.feature_order}`).sort()).toEqual([
      'xgboost.core.Booster json schema',
      'xgboost.core.Booster ubj shuffled',
      'xgboost.sklearn.XGBClassifier json shuffled',
      'xgboost.sklearn.XGBClassifier ubj schema',
    ]);
    expect(cases.some((c) => c.trees_predicted < c.trees)).toBe(true);
  });

  for (const [name, expected] of Object.entries(checks.servable)) {
    it(`${name}: predicts what XGBoost predicts (1e-6) and explains as pred_contribs (1e-5)`, async () => {
      const loaded = await loadFixture(name);
      expect(loaded.format).toBe('mlflow-xgboost');
      const { training } = loaded.document;
      expect(training.imported_from).toBe('mlflow-xgboost');
      expect(training.imported_source).toBe(`mlflow-models/${name}`);
      expect(training.imported_details).toMatchObject({
        flavor: 'xgboost',
        model_class: expected.model_class,
        model_format: expected.model_format,
        xgb_version: checks.xgboost_version,
        feature_order: expected.feature_order === 'schema' ? 'schema order' : 'mapped to schema order',
      });
      expect(loaded.document.params.n_estimators).toBe(expected.trees_predicted);
      expect(largestDifference(loaded.model.predictProba(input), expected.probability)).toBeLessThanOrEqual(
        1e-6,
      );

      const rows = selectMatrixRows(
        input,
        expected.contribs.map((_, i) => i),
      );
      const { bias, values } = explainModel(loaded.model, rows);
      let worst = 0;
      expected.contribs.forEach((row, i) => {
        for (let j = 0; j < FEATURE_NAMES.length; j++) {
          worst = Math.max(worst, Math.abs(values.data[i * values.cols + j]! - row[j]!));
        }
        worst = Math.max(worst, Math.abs(bias - row[FEATURE_NAMES.length]!));
      });
      expect(worst).toBeLessThanOrEqual(1e-5);

      // The imported document is an Onset document: saved and read back, it is the same model.
      const again = parseModel(JSON.parse(serializeModelDocument(loaded.document)), 'saved');
      expect(Array.from(again.model.predictProba(input))).toEqual(
        Array.from(loaded.model.predictProba(input)),
      );
    });
  }

  it('predicts margins as XGBoost does, truncated at the best iteration for the scikit-learn wrapper', async () => {
    for (const [name, expected] of Object.entries(checks.servable)) {
      const loaded = await loadFixture(name);
      const margin = (
        loaded.model as unknown as { predictMargin: (x: typeof input) => Float64Array }
      ).predictMargin(input);
      expect(largestDifference(margin, expected.margin), name).toBeLessThanOrEqual(1e-6);
    }
    const early = await loadFixture('xgboost-classifier-ubj');
    expect(early.document.training.imported_details?.trees).toBe(
      'the first 4 of 7 trees (best_iteration 3, as xgboost.sklearn.XGBClassifier.predict_proba)',
    );
  });
});

describe('models Onset cannot serve are refused with what they are and why', () => {
  const reasons: Record<string, { message: RegExp; reason: string }> = {
    'xgboost-legacy-xgb': {
      message:
        /mlflow-models\/xgboost-legacy-xgb holds an XGBoost model in XGBoost's legacy binary format \(model_format xgb.*model_format="json"\) or "ubj"/,
      reason: 'unsupported model format',
    },
    'xgboost-unnamed': { message: /model\.json: the model has no feature names/, reason: 'unnamed features' },
    'xgboost-other-features': {
      message:
        /model\.json: its 31 features are not the 32 schema features: missing UPDRS, MoCA; not in the schema BloodType\. Onset serves models of exactly the schema features, in any order/,
      reason: 'features differ from the schema',
    },
    'sklearn-logistic': {
      message:
        /holds an MLflow model Onset cannot serve: a scikit-learn model pickled by Python \(sklearn flavor, model\.pkl\); Onset does not run Python pickles/,
      reason: 'unsupported flavors',
    },
    'pyfunc-custom': {
      message: /holds an MLflow model Onset cannot serve: a custom Python model .*Onset runs no Python code/,
      reason: 'unsupported flavors',
    },
  };

  it('has a fixture for each case', () => {
    expect(Object.keys(checks.refused).sort()).toEqual([...Object.keys(reasons), 'xgboost-regressor'].sort());
  });

  for (const [name, { message, reason }] of Object.entries(reasons)) {
    it(name, async () => {
      const error = await asyncErrorOf(() => loadFixture(name));
      expect(error.code).toBe('INVALID_PARAMETER_VALUE');
      expect(error.message).toMatch(message);
      expect((error.details as { reason: string }).reason).toBe(reason);
    });
  }

  it('xgboost-regressor', async () => {
    const error = await asyncErrorOf(() => loadFixture('xgboost-regressor'));
    expect(error.message).toBe(
      'mlflow-models/xgboost-regressor/model.json: objective "reg:squarederror" is not supported; Onset reads binary:logistic models',
    );
  });

  it('names the flavors of a model of another kind', async () => {
    const mlmodel =
      'flavors:\n  python_function:\n    loader_module: mlflow.pytorch\n  pytorch:\n    model_data: data\n';
    const { files, read } = inMemory([{ path: 'MLmodel', content: mlmodel }]);
    const error = await asyncErrorOf(() => loadModelDirectory(files, read, 'Model m version 1'));
    expect(error.message).toMatch(
      /^Model m version 1 holds an MLflow model Onset cannot serve: a model of the flavors python_function \(loader mlflow\.pytorch\), pytorch, which Onset does not read\. Onset serves MLflow models with the onset flavor/,
    );
    expect(error.details).toEqual({ reason: 'unsupported flavors', flavors: ['python_function', 'pytorch'] });
  });

  it('refuses a broken MLmodel or a flavor whose file is not in the directory', async () => {
    const onset = onsetMlflowCase('onset-logistic').files.find((file) => file.path === 'model.json')!;
    const cases: [string, string, RegExp][] = [
      ['flavors: [unclosed', 'x', /d\/MLmodel is not valid YAML/],
      ['run_id: abc\n', 'x', /d\/MLmodel is not an MLmodel file: it has no flavors/],
      ['flavors:\n  onset: 3\n', 'x', /flavor onset has no configuration/],
      [
        'flavors:\n  onset:\n    data: ../../etc/passwd\n',
        'x',
        /onset flavor's data "..\/..\/etc\/passwd" is not a path inside/,
      ],
      [
        'flavors:\n  onset:\n    data: other.json\n',
        'x',
        /onset flavor's data file other\.json is not in the directory \(its files: MLmodel, model\.json\)/,
      ],
      ['flavors:\n  onset: {}\n', 'x', /the onset flavor in MLmodel names no data file/],
      [
        'flavors:\n  onset:\n    data: model.json\n    estimator: gbdt\n',
        'x',
        /MLmodel says the onset model is gbdt, its document says logistic/,
      ],
    ];
    for (const [mlmodel, , message] of cases) {
      const { files, read } = inMemory([{ path: 'MLmodel', content: mlmodel }, onset]);
      const error = await asyncErrorOf(() => loadModelDirectory(files, read, 'd'));
      expect(error.code).toBe('INVALID_PARAMETER_VALUE');
      expect(error.message).toMatch(message);
    }
    // ./model.json is the same file, as MLflow resolves it.
    const { files, read } = inMemory([
      { path: 'MLmodel', content: 'flavors:\n  onset:\n    data: ./model.json\n' },
      onset,
    ]);
    expect((await loadModelDirectory(files, read, 'd')).document.estimator).toBe('logistic');
  });
});

describe('directories and files from before MLflow model directories', () => {
  const document = onsetMlflowCase('onset-gbdt').files.find((file) => file.path === 'model.json')!;

  it('reads a folder with only model.json, as runs logged it before', async () => {
    const { files, read } = inMemory([document]);
    const loaded = await loadModelDirectory(files, read, 'runs:/abc/model');
    expect(loaded.format).toBe('onset-model');
    expect(serializeModelDocument(loaded.document)).toBe(document.content);
  });

  it('reads a single-file version: an Onset document, an XGBoost JSON or UBJ model', async () => {
    const single = (content: Uint8Array) =>
      loadModelDirectory([''], async () => content, 'Model m version 1');
    expect((await single(Buffer.from(document.content))).format).toBe('onset-model');
    const ubjFixtures = fileURLToPath(new URL('../../../test/fixtures/xgboost-ubj/', import.meta.url));
    const fromUbj = await single(readFileSync(`${ubjFixtures}booster-regularized.ubj`));
    const fromJson = await single(readFileSync(`${ubjFixtures}booster-regularized.json`));
    expect(fromUbj.format).toBe('xgboost-json');
    expect(Array.from(fromUbj.model.predictProba(input))).toEqual(
      Array.from(fromJson.model.predictProba(input)),
    );
  });

  it('refuses a folder without MLmodel or model.json, listing its files', async () => {
    const { files, read } = inMemory([
      { path: 'weights.bin', content: 'x' },
      { path: 'notes/readme.md', content: 'x' },
    ]);
    const error = await asyncErrorOf(() => loadModelDirectory(files, read, 'runs:/abc/model'));
    expect(error.message).toBe(
      'runs:/abc/model holds no model Onset can read: no MLmodel file (an MLflow model) and no model.json (its files: weights.bin, notes/readme.md)',
    );
  });
});

describe('loadModelPath: a local model directory or file', () => {
  it('reads an MLflow directory, a UBJ or JSON model file, and says when nothing is there', async () => {
    const directory = await loadModelPath(`${FIXTURES}xgboost-classifier-json`);
    expect(directory.format).toBe('mlflow-xgboost');
    expect(directory.document.training.imported_source).toBe(`${FIXTURES}xgboost-classifier-json`);
    const ubjFixtures = fileURLToPath(new URL('../../../test/fixtures/xgboost-ubj/', import.meta.url));
    const fromUbj = await loadModelPath(`${ubjFixtures}classifier-missing.ubj`);
    const fromJson = await loadModelPath(`${ubjFixtures}classifier-missing.json`);
    expect(Array.from(fromUbj.model.predictProba(input))).toEqual(
      Array.from(fromJson.model.predictProba(input)),
    );
    expect((await loadModelPath(`${FIXTURES}onset-gbdt/model.json`)).format).toBe('onset-model');
    const missing = await asyncErrorOf(() => loadModelPath(`${FIXTURES}no-such-model`));
    expect(missing.code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(missing.message).toBe(`Model file not found: ${FIXTURES}no-such-model`);
  });
});
