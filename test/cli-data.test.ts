import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { datasetProfileJson, ingestReportJson } from '../src/cli/json-views.js';
import { runCli } from './support/cli.js';
import { jsonFieldProblems } from './support/field-names.js';
import { csvText, HAS_REAL_DATA, REAL_DATA_PATH } from './support/fixtures.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'onset-cli-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('onset --help', () => {
  it('lists the command groups and exits 0', () => {
    const { code, stdout } = runCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: onset');
    expect(stdout).toContain('data');
  });

  it('exits 2 with usage help on unknown commands and bad arguments', () => {
    const unknown = runCli(['data', 'frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const badRows = runCli(['data', 'generate', '--rows', 'many', '--output', join(directory, 'x.csv')]);
    expect(badRows.code).toBe(2);
    expect(badRows.stderr).toContain('expected a positive integer, got "many"');
  });
});

describe('onset data generate', () => {
  it('writes a file in the Kaggle layout, the same for the same seed', async () => {
    const a = join(directory, 'a.csv');
    const b = join(directory, 'b.csv');
    const first = runCli(['data', 'generate', '--rows', '150', '--seed', '9', '--output', a]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /wrote 150 generated patients to .*a\.csv \(seed 9, Diagnosis rate \d+\.\d%\)/,
    );
    runCli(['data', 'generate', '--rows', '150', '--seed', '9', '--output', b]);
    expect((await readFile(a)).equals(await readFile(b))).toBe(true);
  });

  it('prints a JSON summary on request', () => {
    const { code, stdout } = runCli([
      'data',
      'generate',
      '-n',
      '20',
      '-o',
      join(directory, 'c.csv'),
      '--json',
    ]);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ rows: 20, seed: 42, positive_rate: expect.any(Number) });
    expect(jsonFieldProblems(summary)).toEqual([]);
  });
});

describe('onset data validate', () => {
  it('exits 0 with a summary for a valid file', async () => {
    const path = join(directory, 'valid.csv');
    runCli(['data', 'generate', '-n', '100', '-o', path]);
    const { code, stdout } = runCli(['data', 'validate', path, '--require-target']);
    expect(code).toBe(0);
    expect(stdout).toContain('is valid');
    expect(stdout).toContain('rows: 100 read, 100 valid, 0 invalid');
    expect(stdout).toContain('dropped confidential column(s): DoctorInCharge');
    expect(stdout).toMatch(/fingerprint: sha256:[0-9a-f]{64}/);
  });

  it('exits 1 listing the first 20 problems in text and all of them in JSON', async () => {
    const path = join(directory, 'broken.csv');
    const rows: Record<string, string>[] = [
      ...Array.from({ length: 25 }, () => ({ Age: '130' })),
      { Ethnicity: '9' },
      { BMI: 'heavy' },
      {},
    ];
    await writeFile(path, csvText(rows));
    const text = runCli(['data', 'validate', path]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('has 27 error(s) in 27 of 28 row(s)');
    expect(text.stdout).toContain(
      'row 1, line 2, column Age: value "130": Age must be between 0 and 125 years (what is possible) [out_of_range]',
    );
    expect(text.stdout.match(/\[out_of_range\]/g)).toHaveLength(20);
    expect(text.stdout).toContain('… and 7 more (use --json to see all)');
    expect(text.stdout).toContain('by rule: out_of_range 25, unknown_code 1, not_numeric 1');

    const json = runCli(['data', 'validate', path, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as ReturnType<typeof ingestReportJson>;
    expect(report).toMatchObject({
      valid: false,
      rows_read: 28,
      rows_invalid: 27,
      error_count: 27,
      errors_by_rule: { out_of_range: 25, unknown_code: 1, not_numeric: 1 },
      issues_truncated: false,
      has_target: true,
      has_patient_id: true,
    });
    expect(jsonFieldProblems(report)).toEqual([]);
    expect(report.issues).toHaveLength(27);
    expect(report.issues.find((issue) => issue.column === 'BMI')).toMatchObject({
      row: 27,
      line: 28,
      value: 'heavy',
      rule: 'not_numeric',
    });
  });

  it('reports skipped rows under the skip policy', async () => {
    const path = join(directory, 'skip.csv');
    await writeFile(path, csvText([{}, { Tremor: '4' }, {}]));
    const { code, stdout } = runCli(['data', 'validate', path, '--policy', 'skip']);
    expect(code).toBe(1);
    expect(stdout).toContain('rows: 3 read, 2 valid, 1 invalid, 1 skipped, 2 accepted');
  });

  it('names a missing file and exits 1', () => {
    const { code, stderr } = runCli(['data', 'validate', join(directory, 'nope.csv')]);
    expect(code).toBe(1);
    expect(stderr).toContain('onset: Data file not found:');
    expect(stderr).toContain('nope.csv');
  });
});

describe('onset data profile', () => {
  it('prints a table of every feature and the class balance', async () => {
    const path = join(directory, 'profile.csv');
    runCli(['data', 'generate', '-n', '200', '-o', path]);
    const { code, stdout } = runCli(['data', 'profile', path]);
    expect(code).toBe(0);
    expect(stdout).toContain('Continuous features');
    expect(stdout).toMatch(/UPDRS\s+0\s+[\d.]+/);
    expect(stdout).toContain('Ethnicity');
    expect(stdout).toMatch(/Class balance \(Diagnosis\): 0 No Parkinson's disease: \d+ \(\d+\.\d%\)/);
  });

  it('refuses an invalid file with the first problems', async () => {
    const path = join(directory, 'bad-profile.csv');
    await writeFile(path, csvText([{ MoCA: '31' }]));
    const { code, stderr } = runCli(['data', 'profile', path]);
    expect(code).toBe(1);
    expect(stderr).toContain('row 1, line 2, column MoCA: value "31": MoCA must be between 0 and 30 score');
  });

  it('profiles a file as JSON: snake_case fields, feature names as they are', async () => {
    const path = join(directory, 'profile-json.csv');
    runCli(['data', 'generate', '-n', '120', '-o', path]);
    const { code, stdout } = runCli(['data', 'profile', path, '--json']);
    expect(code).toBe(0);
    const profile = JSON.parse(stdout) as ReturnType<typeof datasetProfileJson>;
    expect(profile.row_count).toBe(120);
    expect(profile.features.map((feature) => feature.name)).toContain('FamilyHistoryParkinsons');
    expect(jsonFieldProblems(profile)).toEqual([]);
  });

  it.skipIf(!HAS_REAL_DATA)('profiles the real file as JSON', () => {
    const { code, stdout } = runCli(['data', 'profile', REAL_DATA_PATH, '--json']);
    expect(code).toBe(0);
    const profile = JSON.parse(stdout) as ReturnType<typeof datasetProfileJson>;
    expect(profile.row_count).toBe(2105);
    expect(profile.target!.classes[1]!.count).toBe(1304);
    const age = profile.features.find((feature) => feature.name === 'Age')!;
    expect(age.mean).toBeCloseTo(69.6019, 4);
  });
});

describe('onset data schema', () => {
  it('prints every feature with its valid values, from the schema module', () => {
    const { code, stdout } = runCli(['data', 'schema']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/SleepQuality\s+Lifestyle\s+continuous\s+0 to 10 score \(trained on 4 to 10\)/);
    expect(stdout).toContain('0 = Caucasian, 1 = African American, 2 = Asian, 3 = Other');
    expect(stdout).toContain('DoctorInCharge: confidential');
    const json = JSON.parse(runCli(['data', 'schema', '--json']).stdout) as { features: unknown[] };
    expect(json.features).toHaveLength(32);
    expect(jsonFieldProblems(json)).toEqual([]);
  });
});
