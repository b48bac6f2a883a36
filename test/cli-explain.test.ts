import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerExplainCommand } from '../src/cli/explain.js';
import { toRowMajor } from '../src/data/dataset.js';
import { generateDataset, writeKaggleCsv } from '../src/data/generator/generator.js';
import { FEATURE_NAMES, ID_COLUMN } from '../src/data/schema.js';
import { OnsetError } from '../src/errors.js';
import { createMatrix } from '../src/math/matrix.js';
import { uncalibrated } from '../src/ml/calibration/calibrated-model.js';
import { explainModel } from '../src/ml/explain/explain.js';
import { loadModelPath } from '../src/ml/formats/mlflow-model.js';
import { saveModelDocument } from '../src/ml/model-document.js';
import { trainOnDataset } from '../src/ml/train-on-dataset.js';
import { csvText } from './support/fixtures.js';

/*
 * The command runs in-process through a commander program holding only `explain` (registered the way
 * src/cli/main.ts registers every command group), so these tests do not depend on main.ts.
 */

const XGBOOST_MODEL = fileURLToPath(
  new URL('./fixtures/xgboost/xgboost-defaults.model.json', import.meta.url),
);
const ROWS = 150;
const data = generateDataset({ rows: ROWS, seed: 8, firstPatientId: 7000 });

let directory: string;
let inputPath: string;
let gbdtPath: string;
let logisticPath: string;
const path = (name: string) => join(directory, name);

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'onset-cli-explain-'));
  inputPath = path('input.csv');
  gbdtPath = path('gbdt.model.json');
  logisticPath = path('logistic.model.json');
  await writeKaggleCsv(inputPath, data);
  const training = generateDataset({ rows: 300, seed: 9 });
  const gbdt = trainOnDataset(training, { estimator: 'gbdt', params: { n_estimators: 15, max_depth: 4 } });
  await saveModelDocument(gbdtPath, gbdt.document);
  const logistic = trainOnDataset(training, { estimator: 'logistic' });
  await saveModelDocument(logisticPath, logistic.document);
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs `onset explain ARGS` in-process and returns what it printed on stdout. */
async function explain(args: readonly string[]): Promise<string> {
  const program = new Command('onset').exitOverride().configureOutput({ writeErr: () => undefined });
  registerExplainCommand(program);
  const chunks: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(['explain', ...args], { from: 'user' });
  } finally {
    write.mockRestore();
  }
  return chunks.join('');
}

async function readCsv(file: string): Promise<{ header: string[]; rows: string[][] }> {
  const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
  return { header: lines[0]!.split(','), rows: lines.slice(1).map((line) => line.split(',')) };
}

describe('onset explain', () => {
  it('writes PatientID, one column per feature and the bias; rows add up to the log-odds', async () => {
    const output = path('gbdt-contribs.csv');
    const stdout = await explain(['--model', gbdtPath, '--input', inputPath, '--output', output]);
    expect(stdout).toContain(`explained ${ROWS} of ${ROWS} rows -> ${output}`);
    expect(stdout).toContain('TreeSHAP');
    expect(stdout).toMatch(/Top 10 features by mean \|contribution\|/);

    const { header, rows } = await readCsv(output);
    expect(header).toEqual([ID_COLUMN, ...FEATURE_NAMES, 'bias']);
    expect(rows).toHaveLength(ROWS);
    expect(rows.map((row) => row[0])).toEqual(data.patientIds);

    const { model } = await loadModelPath(gbdtPath);
    const x = createMatrix(toRowMajor(data), ROWS, FEATURE_NAMES.length);
    const expected = explainModel(model, x);
    const probabilities = model.predictProba(x);
    rows.forEach((row, i) => {
      const values = row.slice(1).map(Number);
      expect(values.slice(0, -1)).toEqual(
        Array.from(expected.values.data.subarray(i * FEATURE_NAMES.length, (i + 1) * FEATURE_NAMES.length)),
      );
      expect(values.at(-1)).toBe(expected.bias);
      const margin = values.reduce((sum, value) => sum + value, 0);
      const p = probabilities[i]!;
      expect(margin).toBeCloseTo(Math.log(p / (1 - p)), 4);
    });

    // The table lists the ten largest mean |contribution| values, largest first.
    const means = FEATURE_NAMES.map(
      (_, j) => rows.reduce((sum, row) => sum + Math.abs(Number(row[j + 1])), 0) / ROWS,
    );
    const top = FEATURE_NAMES.map((name, j) => ({ name, mean: means[j]! }))
      .sort((a, b) => b.mean - a.mean)
      .slice(0, 10)
      .map((entry) => entry.name);
    const listed = stdout
      .split('\n')
      .map((line) => line.split(/\s+/)[0]!)
      .filter((word) => (FEATURE_NAMES as readonly string[]).includes(word));
    expect(listed).toEqual(top);
  });

  it('explains an XGBoost JSON model; --json gives sorted mean |SHAP| and gain/cover importance', async () => {
    const output = path('xgboost-contribs.csv');
    const summary = JSON.parse(
      await explain(['-m', XGBOOST_MODEL, '-i', inputPath, '-o', output, '--json']),
    ) as {
      model: { estimator: string; format: string };
      rows: number;
      method: string;
      units: string;
      bias: number;
      importance: { feature: string; mean_abs_contribution: number }[];
      split_importance: {
        feature: string;
        weight: number;
        gain: number;
        cover: number;
        total_gain: number;
      }[];
    };
    expect(summary.model).toMatchObject({ estimator: 'gbdt', format: 'xgboost-json' });
    expect(summary.rows).toBe(ROWS);
    expect(summary).toMatchObject({ method: 'tree-shap', units: 'log-odds' });
    expect(summary.importance.map((entry) => entry.feature).sort()).toEqual([...FEATURE_NAMES].sort());
    const means = summary.importance.map((entry) => entry.mean_abs_contribution);
    expect(means).toEqual([...means].sort((a, b) => b - a));
    expect(means[0]).toBeGreaterThan(0.1);

    const { header, rows } = await readCsv(output);
    const column = header.indexOf(summary.importance[0]!.feature);
    const mean = rows.reduce((sum, row) => sum + Math.abs(Number(row[column])), 0) / rows.length;
    expect(mean).toBeCloseTo(summary.importance[0]!.mean_abs_contribution, 12);
    expect(Number(rows[0]!.at(-1))).toBe(summary.bias);

    const gains = summary.split_importance.map((entry) => entry.gain);
    expect(gains).toEqual([...gains].sort((a, b) => b - a));
    for (const entry of summary.split_importance) {
      if (entry.weight > 0) expect(entry.total_gain / entry.weight).toBeCloseTo(entry.gain, 9);
    }
    expect(summary.split_importance.filter((entry) => entry.cover > 0).length).toBeGreaterThan(20);
  });

  it('explains a logistic model with its exact linear contributions, without split importance', async () => {
    const output = path('logistic-contribs.csv');
    const summary = JSON.parse(
      await explain(['--model', logisticPath, '--input', inputPath, '--output', output, '--json']),
    ) as Record<string, unknown>;
    expect(summary).toMatchObject({ method: 'linear', units: 'log-odds', rows: ROWS });
    expect(summary.split_importance).toBeUndefined();
    const { model } = await loadModelPath(logisticPath);
    // The model's own probabilities: a calibration maps them after the margin the contributions make.
    const probabilities = uncalibrated(model).predictProba(
      createMatrix(toRowMajor(data), ROWS, FEATURE_NAMES.length),
    );
    const { rows } = await readCsv(output);
    rows.forEach((row, i) => {
      const margin = row.slice(1).reduce((sum, value) => sum + Number(value), 0);
      expect(1 / (1 + Math.exp(-margin))).toBeCloseTo(probabilities[i]!, 12);
    });
  });

  it('leaves PatientID out when the input has none', async () => {
    const input = path('no-ids.csv');
    await writeFile(input, csvText([{}, { Age: '70' }], { columns: FEATURE_NAMES }));
    const output = path('no-ids-contribs.csv');
    await explain(['-m', XGBOOST_MODEL, '-i', input, '-o', output]);
    const { header, rows } = await readCsv(output);
    expect(header).toEqual([...FEATURE_NAMES, 'bias']);
    expect(rows).toHaveLength(2);
    expect(rows[0]![0]).not.toBe(rows[1]![0]); // Age differs, and the model splits on it.
  });

  it('refuses invalid rows under --policy fail (writing nothing) and skips them under --policy skip', async () => {
    const input = path('invalid.csv');
    await writeFile(input, csvText([{}, { Age: 'old' }, { UPDRS: '250' }, {}]));
    const refused = path('refused.csv');
    await expect(explain(['-m', XGBOOST_MODEL, '-i', input, '-o', refused])).rejects.toThrow(
      /is not a valid data set: row 2, .*column Age/,
    );
    expect(existsSync(refused)).toBe(false);

    const skipped = path('skipped.csv');
    const summary = JSON.parse(
      await explain(['-m', XGBOOST_MODEL, '-i', input, '-o', skipped, '--policy', 'skip', '--json']),
    ) as { rows: number; rows_read: number; skipped: number };
    expect(summary).toMatchObject({ rows: 2, rows_read: 4, skipped: 2 });
    const { rows } = await readCsv(skipped);
    expect(rows.map((row) => row[0])).toEqual(['3058', '3061']);

    const text = await explain(['-m', XGBOOST_MODEL, '-i', input, '-o', skipped, '--policy', 'skip']);
    expect(text).toContain('explained 2 of 4 rows');
    expect(text).toContain('2 invalid row(s) skipped');
  });

  it('fails clearly on a missing model or input file and on a missing option', async () => {
    await expect(
      explain(['-m', path('nope.json'), '-i', inputPath, '-o', path('x.csv')]),
    ).rejects.toMatchObject({
      code: 'RESOURCE_DOES_NOT_EXIST',
      message: expect.stringContaining('nope.json'),
    });
    await expect(
      explain(['-m', XGBOOST_MODEL, '-i', path('absent.csv'), '-o', path('x.csv')]),
    ).rejects.toThrow(OnsetError);
    await expect(explain(['-m', XGBOOST_MODEL, '-i', inputPath])).rejects.toMatchObject({
      code: 'commander.missingMandatoryOptionValue',
    });
    expect(existsSync(path('x.csv'))).toBe(false);
  });
});
