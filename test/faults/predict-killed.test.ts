/**
 * Fault: batch scoring (`onset predict`, 200,000 rows) killed with SIGKILL mid-way. The output is written to
 * a temporary file and renamed into place only when complete (AtomicTextWriter), so the previous output
 * must be left as it was, never a part of the new one; and a rerun must succeed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset, writeKaggleCsv } from '../../src/data/generator/generator.js';
import { saveModelDocument } from '../../src/ml/model-document.js';
import { trainOnDataset } from '../../src/ml/train-on-dataset.js';
import { startCli, waitFor } from '../support/child-process.js';
import { runCli } from '../support/cli.js';

const ROWS = 200_000;
const dir = mkdtempSync(join(tmpdir(), 'onset-predict-killed-'));
const input = join(dir, 'big.csv');
const model = join(dir, 'model.json');
const output = join(dir, 'out.csv');

beforeAll(async () => {
  await writeKaggleCsv(input, generateDataset({ rows: ROWS, seed: 3 }));
  const small = generateDataset({ rows: 500, seed: 1 });
  await saveModelDocument(
    model,
    trainOnDataset(small, { estimator: 'gbdt', params: { n_estimators: 50 } }).document,
  );
}, 30_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The temporary files of `out.csv` writers (`out.csv.<random>.tmp`). */
function temporaries(): string[] {
  return readdirSync(dir).filter((name) => /^out\.csv\.[0-9a-f]+\.tmp$/.test(name));
}

describe('SIGKILL during batch scoring', () => {
  it('leaves the previous output as it was, never a partial one, and a rerun succeeds', async () => {
    const previous = 'PatientID,probability,prediction\n1,0.25,0\n';
    writeFileSync(output, previous);
    const predict = startCli(['predict', '-m', model, '-i', input, '-o', output]);
    await waitFor(
      () => /scoring: 25%/.test(predict.stderr()),
      25_000,
      'a quarter of the rows scored',
      predict,
    );
    // Mid-write: the new rows are going to a temporary file.
    const [partial] = temporaries();
    expect(partial).toBeDefined();
    expect(statSync(join(dir, partial!)).size).toBeGreaterThan(0);
    expect((await predict.kill()).signal).toBe('SIGKILL');

    expect(readFileSync(output, 'utf8')).toBe(previous);
    // What a killed process cannot remove: its temporary file, which never takes the output's name.
    expect(temporaries()).toEqual([partial]);

    const rerun = runCli(['predict', '-m', model, '-i', input, '-o', output, '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ scored: ROWS, rows_read: ROWS });
    const lines = readFileSync(output, 'utf8').split('\n');
    expect(lines[0]).toBe('PatientID,probability,prediction,prediction_set');
    expect(lines).toHaveLength(ROWS + 2); // the header, the rows, and '' after the last newline
    expect(lines.at(-2)).toMatch(/^\d+,[0-9.e-]+,[01],(0|1|0\|1)?$/);
    expect(temporaries()).toEqual([partial]);
  }, 45_000);
});
