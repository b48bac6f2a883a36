import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { calibrationBinJson, modelReportJson } from '../src/cli/json-views.js';
import { toRowMajor } from '../src/data/dataset.js';
import { generateDataset, writeKaggleCsv } from '../src/data/generator/generator.js';
import { FEATURE_NAMES, KAGGLE_COLUMNS } from '../src/data/schema.js';
import { createMatrix } from '../src/math/matrix.js';
import { predictionSet, thresholdsFor } from '../src/ml/calibration/conformal.js';
import { loadModelPath } from '../src/ml/formats/mlflow-model.js';
import { BINARY_METRIC_NAMES, type BinaryMetrics, evaluateBinary } from '../src/ml/metrics/index.js';
import { type ModelDocument, saveModelDocument } from '../src/ml/model-document.js';
import { trainOnDataset } from '../src/ml/train-on-dataset.js';
import { type CliResult, runCli } from './support/cli.js';
import { jsonFieldProblems } from './support/field-names.js';
import { csvText } from './support/fixtures.js';

const XGBOOST_MODEL = fileURLToPath(
  new URL('./fixtures/xgboost/xgboost-defaults.model.json', import.meta.url),
);
const TRAIN_ROWS = 300;
const TEST_ROWS = 120;

let directory: string;
let trainPath: string;
let testPath: string;
/** The gbdt model trained by the first test (other tests use it). */
let gbdtPath: string;
let logisticPath: string;
const testData = generateDataset({ rows: TEST_ROWS, seed: 2, firstPatientId: 9000 });

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'onset-cli-ml-'));
  trainPath = join(directory, 'train.csv');
  testPath = join(directory, 'test.csv');
  gbdtPath = join(directory, 'gbdt.model.json');
  logisticPath = join(directory, 'logistic.model.json');
  await writeKaggleCsv(trainPath, generateDataset({ rows: TRAIN_ROWS, seed: 1 }));
  await writeKaggleCsv(testPath, testData);
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const path = (name: string) => join(directory, name);

let gbdtRun: CliResult | undefined;
/** Trains the gbdt model the other tests use (once, on first use, so any test can run alone). */
function trainedGbdt(): CliResult {
  gbdtRun ??= runCli([
    'train',
    '--data',
    trainPath,
    '--model',
    'gbdt',
    '--param',
    'n_estimators=20',
    '--param',
    'max_depth=4',
    '--cv',
    '3',
    '--output',
    gbdtPath,
    '--json',
  ]);
  return gbdtRun;
}
function gbdtModel(): string {
  expect(trainedGbdt().code).toBe(0);
  return gbdtPath;
}

let logisticRun: CliResult | undefined;
function trainedLogistic(): CliResult {
  logisticRun ??= runCli([
    'train',
    '-d',
    trainPath,
    '-m',
    'logistic',
    '--cv',
    '3',
    '--cv-seed',
    '5',
    '-o',
    logisticPath,
  ]);
  return logisticRun;
}
function logisticModel(): string {
  expect(trainedLogistic().code).toBe(0);
  return logisticPath;
}

let linearOnMissingRun: Promise<CliResult> | undefined;
/** Scores 1,100 rows, one with a missing BMI at row 1050 (past the first batch), with a linear model. */
function linearOnMissing(): Promise<CliResult> {
  linearOnMissingRun ??= (async () => {
    const data = generateDataset({ rows: 1100, seed: 3 });
    data.columns.BMI[1049] = Number.NaN;
    const input = path('big-missing.csv');
    await writeKaggleCsv(input, data);
    const model = path('linear.model.json');
    const { document } = trainOnDataset(generateDataset({ rows: 200, seed: 4 }), { estimator: 'linear' });
    await saveModelDocument(model, document);
    return runCli(['predict', '-m', model, '-i', input, '-o', path('big-missing-scores.csv')]);
  })();
  return linearOnMissingRun;
}

interface TrainJson {
  model: string;
  params: Record<string, unknown>;
  metrics: {
    training: BinaryMetrics;
    cross_validation?: {
      folds: number;
      seed: number;
      mean: Record<string, number>;
      std: Record<string, number>;
      per_fold: {
        fold: number;
        train_rows: number;
        test_rows: number;
        fit_seconds: number;
        metrics: BinaryMetrics;
      }[];
    };
  };
  fit_seconds: number;
  rows: number;
  output: string;
}

interface EvaluateJson {
  model: { path: string; estimator: string };
  data: { rows: number };
  metrics: BinaryMetrics;
  calibration: ReturnType<typeof calibrationBinJson>[];
}

function parseCsv(text: string): string[][] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => line.split(','));
}

function evaluateJson(model: string, data = testPath): EvaluateJson {
  const result = runCli(['evaluate', '--model', model, '--data', data, '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as EvaluateJson;
}

describe('onset train', () => {
  it('trains gbdt with cross-validation and prints one JSON object', async () => {
    const { code, stdout, stderr } = trainedGbdt();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as TrainJson; // the whole of stdout is one JSON value
    expect(out.model).toBe('gbdt');
    expect(out.params).toMatchObject({ n_estimators: 20, max_depth: 4, learning_rate: 0.3 });
    expect(out.rows).toBe(TRAIN_ROWS);
    expect(out.output).toBe(gbdtPath);
    expect(out.fit_seconds).toBeGreaterThan(0);
    expect(out.metrics.training.n).toBe(TRAIN_ROWS);
    expect(out.metrics.training.roc_auc).toBeGreaterThan(0.9);

    const cv = out.metrics.cross_validation!;
    expect(cv.folds).toBe(3);
    expect(cv.seed).toBe(42);
    expect(Object.keys(cv.mean).sort()).toEqual([...BINARY_METRIC_NAMES].sort());
    expect(Object.keys(cv.std).sort()).toEqual([...BINARY_METRIC_NAMES].sort());
    expect(cv.per_fold).toHaveLength(3);
    expect(cv.per_fold.reduce((sum, fold) => sum + fold.test_rows, 0)).toBe(TRAIN_ROWS);
    for (const fold of cv.per_fold) {
      expect(fold.train_rows + fold.test_rows).toBe(TRAIN_ROWS);
      expect(fold.fit_seconds).toBeGreaterThan(0);
    }
    expect(jsonFieldProblems(out)).toEqual([]);
    for (const name of BINARY_METRIC_NAMES) {
      const values = cv.per_fold.map((fold) => fold.metrics[name]);
      expect(cv.mean[name]).toBeCloseTo(values.reduce((a, b) => a + b, 0) / 3, 12);
      expect(cv.std[name]).toBeGreaterThanOrEqual(0);
    }

    // The saved document holds the same params and metrics.
    const document = JSON.parse(await readFile(gbdtPath, 'utf8')) as ModelDocument;
    expect(document.estimator).toBe('gbdt');
    expect(document.params).toEqual(out.params);
    expect(document.metrics.training).toEqual(out.metrics.training);
    expect(document.metrics.cross_validation?.per_fold).toEqual(cv.per_fold.map((fold) => fold.metrics));
    expect(document.training.fit_seconds).toBe(out.fit_seconds);
    expect(document.training.rows).toBe(TRAIN_ROWS);
  });

  it('prints a metrics table in text mode', () => {
    const { code, stdout } = trainedLogistic();
    expect(code).toBe(0);
    expect(stdout).toMatch(
      new RegExp(`trained logistic on ${TRAIN_ROWS} rows in \\d+\\.\\d{3} s -> .*logistic\\.model\\.json`),
    );
    expect(stdout).toContain('cross-validation: 3 stratified folds, seed 5');
    expect(stdout).toMatch(/metric\s+training \(final model\)\s+cross-validated \(mean ± std\)/);
    expect(stdout).toMatch(/ROC AUC\s+0\.\d{4}\s+0\.\d{4} ± 0\.\d{4}/);
    expect(stdout).toMatch(/accuracy\s+0\.\d{4}/);
    expect(stdout).toContain('log loss');
    expect(existsSync(logisticPath)).toBe(true);
  });

  it('exits 2 (a usage error) on an unknown --param, listing the valid parameters, and writes no model', () => {
    const output = path('typo.model.json');
    const { code, stdout, stderr } = runCli([
      'train',
      '-d',
      trainPath,
      '-m',
      'gbdt',
      '--param',
      'n_trees=20',
      '-o',
      output,
    ]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('onset: Unknown parameter "n_trees" for gbdt; valid parameters of gbdt:');
    expect(stderr).toContain('n_estimators (alias num_boost_round): an integer in [1, 100000], default 100');
    expect(stderr).toContain('learning_rate (alias eta)');
    expect(existsSync(output)).toBe(false);
  });

  it('exits 2 on an unknown model family', () => {
    const output = path('forest.model.json');
    const { code, stderr } = runCli(['train', '-d', trainPath, '--model', 'forest', '-o', output]);
    expect(code).toBe(2);
    expect(stderr).toContain("'forest' is invalid");
    expect(stderr).toContain('linear, logistic, gbdt');
    expect(existsSync(output)).toBe(false);
  });
});

describe('onset predict', () => {
  it('writes PatientID, probability, prediction and the prediction set for every row', async () => {
    const output = path('scores.csv');
    const { code, stdout } = runCli([
      'predict',
      '--model',
      gbdtModel(),
      '--input',
      testPath,
      '--output',
      output,
    ]);
    expect(code).toBe(0);
    const rows = parseCsv(await readFile(output, 'utf8'));
    expect(rows[0]).toEqual(['PatientID', 'probability', 'prediction', 'prediction_set']);
    expect(rows).toHaveLength(TEST_ROWS + 1);
    expect(rows.slice(1).map((row) => row[0])).toEqual(testData.patientIds);

    // The probabilities are the model's, and predictions apply the 0.5 threshold.
    const { model } = await loadModelPath(gbdtModel());
    const expected = model.predictProba(createMatrix(toRowMajor(testData), TEST_ROWS, FEATURE_NAMES.length));
    const probabilities = rows.slice(1).map((row) => Number(row[1]));
    expect(probabilities).toEqual(Array.from(expected));
    for (const row of rows.slice(1)) expect(row[2]).toBe(Number(row[1]) >= 0.5 ? '1' : '0');
    // Each row's set is the one its probability gets under the conformal thresholds of its subgroups.
    const { document } = await loadModelPath(gbdtModel());
    const features = toRowMajor(testData);
    rows.slice(1).forEach((row, i) => {
      const patient = features.subarray(i * FEATURE_NAMES.length, (i + 1) * FEATURE_NAMES.length);
      const thresholds = thresholdsFor(document.conformal!, patient);
      expect(row[3]).toBe(predictionSet(Number(row[1]), thresholds).join('|'));
    });
    expect(new Set(rows.slice(1).map((row) => row[3])).size).toBeGreaterThan(1);
    const positives = rows.slice(1).filter((row) => row[2] === '1').length;
    expect(stdout).toContain(`scored ${TEST_ROWS} of ${TEST_ROWS} rows`);
    expect(stdout).toContain(
      `(${positives} predicted positive at the model's threshold 0.5 (the default threshold 0.5))`,
    );
  });

  it('writes no PatientID column when the input has none', async () => {
    const text = await readFile(testPath, 'utf8');
    const withoutIds = text
      .split('\n')
      .map((line) => line.slice(line.indexOf(',') + 1))
      .join('\n');
    expect(withoutIds.startsWith('Age,')).toBe(true);
    const input = path('no-ids.csv');
    const output = path('no-ids-scores.csv');
    await writeFile(input, withoutIds);
    const { code } = runCli(['predict', '-m', gbdtModel(), '-i', input, '-o', output, '--threshold', '0.3']);
    expect(code).toBe(0);
    const rows = parseCsv(await readFile(output, 'utf8'));
    expect(rows[0]).toEqual(['probability', 'prediction', 'prediction_set']);
    expect(rows).toHaveLength(TEST_ROWS + 1);
    for (const row of rows.slice(1)) {
      expect(row).toHaveLength(3);
      expect(row[1]).toBe(Number(row[0]) >= 0.3 ? '1' : '0');
    }
  });

  it('scores with an XGBoost JSON model directly, agreeing with evaluate', async () => {
    const output = path('xgboost-scores.csv');
    const predicted = runCli(['predict', '-m', XGBOOST_MODEL, '-i', testPath, '-o', output, '--json']);
    expect(predicted.code).toBe(0);
    const summary = JSON.parse(predicted.stdout) as {
      model: { estimator: string; format: string };
      scored: number;
      skipped: number;
    };
    expect(summary.model).toEqual({ estimator: 'gbdt', format: 'xgboost-json' });
    expect(summary.scored).toBe(TEST_ROWS);
    expect(summary.skipped).toBe(0);
    // The validation report is printed as data validate prints it.
    expect(summary).toMatchObject({ report: { rows_read: TEST_ROWS, rows_skipped: 0, error_count: 0 } });
    expect(jsonFieldProblems(summary)).toEqual([]);

    const rows = parseCsv(await readFile(output, 'utf8')).slice(1);
    const probabilities = Float64Array.from(rows, (row) => Number(row[1]));
    const evaluated = evaluateJson(XGBOOST_MODEL);
    expect(evaluated.model.estimator).toBe('gbdt');
    expect(evaluated.metrics).toEqual(evaluateBinary(testData.target!, probabilities));
  });

  it('refuses an invalid row under the default policy, writing nothing', async () => {
    const input = path('invalid.csv');
    await writeFile(input, csvText([{}, { UPDRS: '250', Diagnosis: '1' }, { Age: 'old' }, {}]));
    const output = path('kept.csv');
    await writeFile(output, 'previous,content\n');
    const { code, stdout, stderr } = runCli(['predict', '-m', gbdtModel(), '-i', input, '-o', output]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('2 error(s) in 2 of 4 row(s); nothing was written');
    expect(stderr).toContain('use --policy skip');
    expect(stderr).toMatch(
      /row 2, line 3, column UPDRS: value "250": UPDRS must be between .* \[out_of_range\]/,
    );
    expect(stderr).toContain('row 3, line 4, column Age: value "old"');
    expect(await readFile(output, 'utf8')).toBe('previous,content\n');
    const files = await readdir(directory);
    expect(files.filter((name) => name.startsWith('kept.csv'))).toEqual(['kept.csv']); // no temporary left
  });

  it('writes a new output only for valid rows under --policy skip, reporting the rest', async () => {
    const input = path('skip.csv');
    await writeFile(input, csvText([{}, { Tremor: '4' }, { UPDRS: '90' }]));
    const output = path('skip-scores.csv');
    const { code, stdout } = runCli([
      'predict',
      '-m',
      gbdtModel(),
      '-i',
      input,
      '-o',
      output,
      '--policy',
      'skip',
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('scored 2 of 3 rows');
    expect(stdout).toContain('1 invalid row(s) skipped');
    expect(stdout).toContain('row 2, line 3, column Tremor: value "4"');
    const rows = parseCsv(await readFile(output, 'utf8'));
    expect(rows.map((row) => row[0])).toEqual(['PatientID', '3058', '3060']);
  });

  it('reports a row the model cannot score and writes nothing', async () => {
    const { code, stderr } = await linearOnMissing();
    expect(code).toBe(1);
    expect(stderr).toContain('row 1050, line 1051, column BMI: value "": is missing [missing_value]');
    expect(stderr).toContain('linear models cannot score missing values; fill them in or use gbdt');
    expect(existsSync(path('big-missing-scores.csv'))).toBe(false);
  });

  // The model scores batches of 1,024 rows; the error must still name the row in the file.
  it('names the file row (not the row within a batch) when the model cannot score it', async () => {
    const { stderr } = await linearOnMissing();
    expect(stderr).toContain('row 1050,');
  });

  // The output header follows the input's columns even when there is no data row.
  it('keeps the PatientID column for an input that has the column but no rows', async () => {
    const input = path('header-only.csv');
    await writeFile(input, `${KAGGLE_COLUMNS.join(',')}\n`);
    const output = path('header-only-scores.csv');
    const { code } = runCli(['predict', '-m', gbdtModel(), '-i', input, '-o', output]);
    expect(code).toBe(0);
    expect(await readFile(output, 'utf8')).toBe('PatientID,probability,prediction,prediction_set\n');
  });

  it('refuses a model trained on another schema, naming the difference', async () => {
    const document = JSON.parse(await readFile(gbdtModel(), 'utf8')) as {
      schema: { features: { name: string; kind: string }[] };
    };
    document.schema.features[24]!.name = 'FunctionalScore';
    const edited = path('other-schema.model.json');
    await writeFile(edited, JSON.stringify(document));
    const output = path('other-schema-scores.csv');
    const { code, stderr } = runCli(['predict', '-m', edited, '-i', testPath, '-o', output]);
    expect(code).toBe(1);
    expect(stderr).toContain('was trained on a different feature schema');
    expect(stderr).toContain('feature 25 is FunctionalScore, expected FunctionalAssessment');
    expect(existsSync(output)).toBe(false);
  });
});

describe('onset evaluate', () => {
  it('prints every metric, the confusion counts and calibration bins as JSON', () => {
    const out = evaluateJson(gbdtModel());
    expect(out.model).toEqual({ path: gbdtModel(), estimator: 'gbdt' });
    expect(out.data.rows).toBe(TEST_ROWS);
    for (const name of [...BINARY_METRIC_NAMES, 'tp', 'fp', 'tn', 'fn', 'threshold'] as const) {
      expect(typeof out.metrics[name]).toBe('number');
    }
    const { tp, fp, tn, fn } = out.metrics;
    expect(tp + fp + tn + fn).toBe(TEST_ROWS);
    expect(out.metrics.accuracy).toBeCloseTo((tp + tn) / TEST_ROWS, 12);
    expect(out.metrics.roc_auc).toBeGreaterThan(0.8);
    expect(out.calibration).toHaveLength(10);
    expect(out.calibration.reduce((sum, bin) => sum + bin.count, 0)).toBe(TEST_ROWS);
    expect(out.calibration[0]).toMatchObject({ lower: 0 });
    expect(out.calibration.at(-1)).toMatchObject({ upper: 1 });
    for (const bin of out.calibration) {
      if (bin.count === 0) expect(bin).toMatchObject({ mean_predicted: null, observed_rate: null });
      else expect(bin.mean_predicted!).toBeGreaterThanOrEqual(bin.lower);
    }
    expect(jsonFieldProblems(out)).toEqual([]);
  });
});

describe('onset model', () => {
  it('exports to XGBoost JSON and imports back with identical metrics', async () => {
    const exported = path('exported.xgb.json');
    const imported = path('imported.model.json');
    const exportRun = runCli(['model', 'export', gbdtModel(), '--format', 'xgboost', '--output', exported]);
    expect(exportRun.code).toBe(0);
    expect(exportRun.stdout).toContain('as XGBoost JSON');
    const xgb = JSON.parse(await readFile(exported, 'utf8')) as { learner: { feature_names: string[] } };
    expect(xgb.learner.feature_names).toEqual([...FEATURE_NAMES]);

    const importRun = runCli(['model', 'import', exported, '--output', imported]);
    expect(importRun.code).toBe(0);
    expect(importRun.stdout).toContain('(20 trees)');
    const document = JSON.parse(await readFile(imported, 'utf8')) as ModelDocument;
    expect(document.training.imported_from).toBe('xgboost-json');

    const original = evaluateJson(gbdtModel());
    const viaXgboost = evaluateJson(exported);
    const reimported = evaluateJson(imported);
    expect(viaXgboost.metrics).toEqual(original.metrics);
    expect(reimported.metrics).toEqual(original.metrics);
    expect(reimported.calibration).toEqual(original.calibration);
  });

  it('writes the model card as Markdown, HTML or JSON; refuses a model it cannot read', async () => {
    const markdown = runCli(['model', 'card', gbdtModel()]);
    expect(markdown.code).toBe(0);
    expect(markdown.stdout.startsWith('# Model card: gbdt model\n')).toBe(true);
    expect(markdown.stdout).toContain('## Decision threshold');
    expect(markdown.stdout).toContain('at a probability of 0.5 or more');
    const output = path('card.html');
    const html = runCli(['model', 'card', gbdtModel(), '--format', 'html', '-o', output]);
    expect(html.code).toBe(0);
    expect(html.stdout).toContain(`wrote the model card of ${gbdtModel()} -> ${output}`);
    const written = await readFile(output, 'utf8');
    expect(written.startsWith('<!doctype html>')).toBe(true);
    expect(written).toContain('<h2>Limitations and out-of-distribution behaviour</h2>');
    const json = JSON.parse(runCli(['model', 'card', gbdtModel(), '--format', 'json']).stdout);
    expect(json.sections).toHaveLength(12);
    const missing = runCli(['model', 'card', path('no-such-model.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no-such-model.json');
  });

  it('refuses to export a logistic model and to import an Onset document', () => {
    const output = path('logistic.xgb.json');
    const exportRun = runCli(['model', 'export', logisticModel(), '--format', 'xgboost', '-o', output]);
    expect(exportRun.code).toBe(1);
    expect(exportRun.stderr).toContain(
      'is a logistic model; only gbdt models can be exported as XGBoost JSON',
    );
    expect(existsSync(output)).toBe(false);

    const importRun = runCli(['model', 'import', gbdtModel(), '-o', path('again.model.json')]);
    expect(importRun.code).toBe(1);
    expect(importRun.stderr).toContain('is already an Onset model document');
  });

  it('imports an MLflow model directory saved by mlflow.xgboost (UBJ, features in another order)', async () => {
    const folder = fileURLToPath(new URL('./fixtures/mlflow-models/xgboost-booster-ubj', import.meta.url));
    const imported = path('from-mlflow.model.json');
    const importRun = runCli(['model', 'import', folder, '--output', imported]);
    expect(importRun.code).toBe(0);
    const document = JSON.parse(await readFile(imported, 'utf8')) as ModelDocument;
    expect(document.training).toMatchObject({ imported_from: 'mlflow-xgboost', imported_source: folder });
    expect(document.training.imported_details).toMatchObject({
      model_format: 'ubj',
      feature_order: 'mapped to schema order',
    });
    // The directory scores as the imported document does.
    expect(evaluateJson(folder).metrics).toEqual(evaluateJson(imported).metrics);
  });

  it('lists the parameters of a family with defaults and ranges', () => {
    const { code, stdout } = runCli(['model', 'params', 'gbdt']);
    expect(code).toBe(0);
    expect(stdout).toContain('gbdt: gradient-boosted trees');
    expect(stdout).toMatch(/n_estimators \(num_boost_round\)\s+100\s+an integer in \[1, 100000\]/);
    expect(stdout).toMatch(/early_stopping_rounds\s+null\s+an integer in \[1, inf\) or null/);
    expect(stdout).toMatch(/learning_rate \(eta\)\s+0\.3\s+a number in \(0, 1\]/);
  });

  it("prints a family's parameters as JSON: snake_case fields, parameter names as they are", () => {
    const gbdt = JSON.parse(runCli(['model', 'params', 'gbdt', '--json']).stdout);
    expect(gbdt.learning_rate).toMatchObject({
      type: 'number',
      default: 0.3,
      min: 0,
      max: 1,
      min_exclusive: true,
      aliases: ['eta'],
    });
    const logistic = JSON.parse(runCli(['model', 'params', 'logistic', '--json']).stdout);
    expect(logistic.C).toMatchObject({ type: 'number', default: 1, min_exclusive: true });
    expect(jsonFieldProblems([gbdt, logistic])).toEqual([]);
  });

  it('prints the model report as JSON with snake_case fields, as evaluate and data profile print theirs', async () => {
    const model = gbdtModel();
    const { code, stdout } = runCli(['model', 'report', model, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as ReturnType<typeof modelReportJson>;
    expect(report).toMatchObject({ name: 'onset-model-report', format_version: 1, estimator: 'gbdt' });
    expect(report.data.profile.row_count).toBe(TRAIN_ROWS);
    expect(report.evaluation.calibration[0]).toHaveProperty('mean_predicted');
    expect(jsonFieldProblems(report)).toEqual([]);
    // The same bins as the stored report, with the names every --json uses.
    const { document } = await loadModelPath(model);
    expect(report.evaluation.calibration.map((bin) => bin.observed_rate)).toEqual(
      document.report!.evaluation.calibration.map((bin) => bin.observedRate),
    );
  });
});
