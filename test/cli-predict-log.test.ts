/**
 * `onset predict --log`: batch scoring records each prediction in the home's prediction log (source
 * `cli`, the file model named by its path and checksum, patient ids keyed), adds a `prediction_id`
 * column to its output, and logs nothing when it writes no output; the same on one thread or several.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset, writeKaggleCsv } from '../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../src/data/schema.js';
import { serializeModelDocument } from '../src/ml/model-document.js';
import { trainOnDataset } from '../src/ml/train-on-dataset.js';
import { runCliAsync } from './support/cli.js';

const directory = mkdtempSync(join(tmpdir(), 'onset-predict-log-'));
const home = join(directory, '.onset');
const model = join(directory, 'model.json');
const input = join(directory, 'patients.csv');
const ROWS = 1_500;
afterAll(() => rmSync(directory, { recursive: true, force: true }));

beforeAll(async () => {
  const trained = trainOnDataset(generateDataset({ rows: 300, seed: 51 }), { estimator: 'logistic' });
  writeFileSync(model, serializeModelDocument(trained.document));
  await writeKaggleCsv(input, generateDataset({ rows: ROWS, seed: 52 }));
  // Patient ids that cannot turn up by chance in the database's bytes (a number could, in a hex key).
  const [header, ...lines] = readFileSync(input, 'utf8').trim().split('\n');
  const named = lines.map((line, i) => line.replace(/^[^,]*/, `SECRET-PATIENT-${i}`));
  writeFileSync(input, `${[header, ...named].join('\n')}\n`);
});

interface Row {
  readonly prediction_id: string;
  readonly source: string;
  readonly patient_key: string | null;
  readonly model_name: string | null;
  readonly model_uri: string;
  readonly model_checksum: string;
  readonly probability: number;
  readonly diagnosis: number;
  readonly [feature: string]: unknown;
}

function logged(): Row[] {
  const db = new Database(join(home, 'onset.db'), { readonly: true });
  try {
    return db
      .prepare(
        `SELECT p.*, m.name AS model_name, m.uri AS model_uri, m.checksum AS model_checksum
         FROM prediction_log p JOIN prediction_models m ON m.model_id = p.model_id`,
      )
      .all() as Row[];
  } finally {
    db.close();
  }
}

const csvRows = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => line.split(','));

describe('onset predict --log', () => {
  it("logs every scored row in the home's prediction log and adds a prediction_id column", async () => {
    const output = join(directory, 'scores.csv');
    const run = await runCliAsync(['predict', '-m', model, '-i', input, '-o', output, '--log', '--json'], {
      env: { ONSET_HOME: home },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ scored: ROWS, logged: ROWS });
    const [header, ...rows] = csvRows(readFileSync(output, 'utf8'));
    expect(header).toEqual(['PatientID', 'probability', 'prediction', 'prediction_set', 'prediction_id']);
    expect(rows).toHaveLength(ROWS);

    const log = new Map(logged().map((row) => [row.prediction_id, row]));
    expect(log.size).toBe(ROWS);
    const secret = readFileSync(join(home, 'log-secret'), 'utf8').trim();
    const checksum = createHash('sha256').update(readFileSync(model)).digest('hex');
    const inputLines = csvRows(readFileSync(input, 'utf8'));
    const columns = inputLines[0]!;
    for (const [i, [patientId, probability, prediction, , predictionId]] of rows.entries()) {
      const row = log.get(predictionId!);
      expect(row, `row ${i}`).toBeDefined();
      expect(row).toMatchObject({
        source: 'cli',
        model_name: null,
        model_uri: model,
        model_checksum: checksum,
        probability: Number(probability),
        diagnosis: Number(prediction),
        patient_key: createHmac('sha256', secret).update(patientId!).digest('hex'),
      });
      if (i % 250 === 0) {
        const values = inputLines[i + 1]!;
        for (const name of FEATURE_NAMES)
          expect(row![name], name).toBe(Number(values[columns.indexOf(name)]));
      }
    }
    // The log holds no patient id in clear.
    expect(rows[0]![0]).toBe('SECRET-PATIENT-0');
    expect(readFileSync(join(home, 'onset.db')).includes('SECRET-PATIENT')).toBe(false);
  }, 60_000);

  it('logs nothing when it writes no output (a row it refuses after a logged batch)', async () => {
    const before = logged().length;
    const lines = readFileSync(input, 'utf8').trim().split('\n');
    const columns = lines[0]!.split(',');
    // Row 1,300: after the first batch of 1,024 rows was scored and logged.
    const bad = lines[1_300]!.split(',');
    bad[columns.indexOf('Age')] = 'old';
    lines[1_300] = bad.join(',');
    const invalid = join(directory, 'invalid.csv');
    writeFileSync(invalid, `${lines.join('\n')}\n`);
    const output = join(directory, 'refused.csv');
    const run = await runCliAsync(['predict', '-m', model, '-i', invalid, '-o', output, '--log'], {
      env: { ONSET_HOME: home },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('nothing was written');
    expect(logged()).toHaveLength(before);
  }, 60_000);

  it('writes and logs the same with one thread or several (--threads), and refuses a bad count', async () => {
    const lines = readFileSync(input, 'utf8').trim().split('\n');
    const columns = lines[0]!.split(',');
    // Invalid rows in the first, a middle and the last batch, skipped under --policy skip.
    for (const at of [5, 1_100, 1_499]) {
      const bad = lines[at]!.split(',');
      bad[columns.indexOf('MoCA')] = '31';
      lines[at] = bad.join(',');
    }
    const skipping = join(directory, 'skipping.csv');
    writeFileSync(skipping, `${lines.join('\n')}\n`);
    const outputs: string[][][] = [];
    for (const threads of ['1', '3']) {
      const before = logged().length;
      const output = join(directory, `threads-${threads}.csv`);
      const run = await runCliAsync(
        [
          'predict',
          '-m',
          model,
          '-i',
          skipping,
          '-o',
          output,
          '--policy',
          'skip',
          '--log',
          '--json',
          '--threads',
          threads,
        ],
        { env: { ONSET_HOME: home } },
      );
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ scored: ROWS - 3, skipped: 3, logged: ROWS - 3 });
      expect(logged().length - before).toBe(ROWS - 3);
      // Each written row's prediction is the one logged under its prediction_id.
      const rows = csvRows(readFileSync(output, 'utf8')).slice(1);
      const log = new Map(logged().map((row) => [row.prediction_id, row]));
      for (const [, probability, , , predictionId] of rows) {
        expect(log.get(predictionId!)?.probability).toBe(Number(probability));
      }
      outputs.push(rows.map((row) => row.slice(0, 4)));
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[0]!.map((row) => row[0])).not.toContain('SECRET-PATIENT-1099');

    const refused = await runCliAsync([
      'predict',
      '-m',
      model,
      '-i',
      input,
      '-o',
      join(directory, 'x.csv'),
      '--threads',
      '0',
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('expected a number of threads from 1 to 64, or auto, got "0"');
  }, 60_000);

  it('adds no column and logs nothing without --log', async () => {
    const before = logged().length;
    const output = join(directory, 'plain.csv');
    const run = await runCliAsync(['predict', '-m', model, '-i', input, '-o', output], {
      env: { ONSET_HOME: home },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(csvRows(readFileSync(output, 'utf8'))[0]).toEqual([
      'PatientID',
      'probability',
      'prediction',
      'prediction_set',
    ]);
    expect(logged()).toHaveLength(before);
  }, 60_000);
});
