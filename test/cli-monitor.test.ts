/**
 * `onset monitor drift` as a user runs it: a model trained and promoted in a fresh home, then compared
 * with new generated patients and with the same patients ten years older, as a table, as JSON and as an
 * HTML page opened in Chromium; and every bad input a clear error with its documented exit code.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset } from '../src/data/dataset.js';
import { generateDataset, writeKaggleCsv } from '../src/data/generator/generator.js';
import { FEATURE_NAMES, type FeatureName } from '../src/data/schema.js';
import { type CliResult, runCliAsync } from './support/cli.js';
import { jsonFieldProblems } from './support/field-names.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

let directory: string;
let home: string;
let sameFile: string;
let olderFile: string;
let runId: string;
const modelFile = () => join(directory, 'model.json');
const trainFile = () => join(directory, 'train.csv');

function onset(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCliAsync(args, { cwd: directory, env: { ONSET_HOME: home, ...env } });
}

async function ok(args: readonly string[]): Promise<string> {
  const result = await onset(args);
  expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'onset-cli-monitor-'));
  home = join(directory, '.onset');
  sameFile = join(directory, 'same.csv');
  olderFile = join(directory, 'older.csv');
  const same = generateDataset({ rows: 500, seed: 32, firstPatientId: 900000 });
  const columns = {} as Record<FeatureName, Float64Array>;
  for (const name of FEATURE_NAMES) {
    columns[name] = name === 'Age' ? same.columns.Age.map((age) => age + 10) : same.columns[name];
  }
  await Promise.all([
    writeKaggleCsv(trainFile(), generateDataset({ rows: 1400, seed: 31 })),
    writeKaggleCsv(sameFile, same),
    writeKaggleCsv(olderFile, createDataset({ columns, target: same.target, patientIds: same.patientIds })),
  ]);
  const trained = JSON.parse(
    await ok([
      'train',
      '--data',
      trainFile(),
      '--model',
      'logistic',
      '--cv',
      '3',
      '--output',
      modelFile(),
      '--json',
    ]),
  ) as { run_id: string };
  runId = trained.run_id;
  await ok(['models', 'register', runId]);
  await ok(['models', 'promote', 'parkinson-disease-prediction', '1', '--stage', 'Production']);
}, 120_000);

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('onset monitor drift', () => {
  it('prints no drift for new patients of the Production model, and Age first and drifted for older ones', async () => {
    const [same, older] = await Promise.all([
      ok(['monitor', 'drift', '--current', sameFile]),
      ok(['monitor', 'drift', '--current', olderFile]),
    ]);
    expect(same).toMatch(
      /^Drift of parkinson-disease-prediction version 1 \(logistic\): .*same\.csv \(500 rows\) against its training data \(1400 rows; tests on a sample of 1400\)\n/,
    );
    expect(same).toContain(
      'Dataset drift: no, 0 of 32 features drifted (0.0%; the data set drifts from 50.0%)',
    );
    expect(same).toMatch(
      /Prediction drift: no, Wasserstein distance \(normed\) \d\.\d{4} \(drift >= 0\.1\), PSI \d\.\d{4}/,
    );
    const header = same.split('\n').find((line) => line.startsWith('feature'))!;
    expect(header.split(/\s{2,}/)).toEqual([
      'feature',
      'type',
      'test',
      'statistic',
      'threshold',
      'drift',
      'PSI',
    ]);
    expect(older).toContain('Dataset drift: no, 1 of 32 features drifted (3.1%;');
    const rows = older.split('\n');
    const firstRow = rows[rows.findIndex((line) => line.startsWith('───')) + 1]!;
    expect(firstRow.split(/\s{2,}/)).toEqual([
      'Age',
      'numerical',
      'Wasserstein distance (normed)',
      expect.stringMatching(/^0\.\d{4}$/),
      '>= 0.1',
      'yes',
      expect.stringMatching(/^\d\.\d{4}$/),
    ]);
  }, 60_000);

  it('prints JSON with snake_case fields, the model, both sources and every feature', async () => {
    const json = JSON.parse(await ok(['monitor', 'drift', '--current', olderFile, '--json'])) as {
      model: { uri: string; name: string; version: string; run_id: string; estimator: string };
      reference: { source: string; training_rows: number; sample_rows: number; probability_source: string };
      current: { source: string; rows: number };
      dataset_drift: { drifted: boolean; drifted_features: number; share: number; drift_share: number };
      prediction_drift: { column: string; test: string } | null;
      features: { column: string; test: string; drifted: boolean; psi: number; histogram: unknown[] }[];
    };
    expect(jsonFieldProblems(json)).toEqual([]);
    expect(json.model).toEqual({
      uri: 'models:/parkinson-disease-prediction/Production',
      name: 'parkinson-disease-prediction',
      version: '1',
      run_id: runId,
      estimator: 'logistic',
    });
    expect(json.reference).toMatchObject({
      source: `runs:/${runId}/data/reference-profile.json`,
      training_rows: 1400,
      sample_rows: 1400,
      probability_source: 'out_of_fold',
    });
    expect(json.current).toEqual({ source: olderFile, rows: 500 });
    expect(json.dataset_drift).toMatchObject({ drifted: false, drifted_features: 1, drift_share: 0.5 });
    expect(json.features.map((feature) => feature.column)).toEqual(FEATURE_NAMES);
    expect(json.features.filter((feature) => feature.drifted).map((feature) => feature.column)).toEqual([
      'Age',
    ]);
    expect(json.prediction_drift).toMatchObject({ column: 'probability', test: 'wasserstein' });
  }, 60_000);

  it('takes a test and a threshold per feature, and a run or a model file with --reference as the model', async () => {
    const [overridden, byRun, byFile] = await Promise.all([
      onset([
        'monitor',
        'drift',
        '--current',
        sameFile,
        '--json',
        '--test',
        'Age=ks',
        '--threshold',
        'BMI=0.0001',
        '--drift-share',
        '0.02',
      ]),
      onset(['monitor', 'drift', '--current', olderFile, '--json', '--model', `runs:/${runId}/model`]),
      onset([
        'monitor',
        'drift',
        '--current',
        olderFile,
        '--json',
        '--model',
        modelFile(),
        '--reference',
        trainFile(),
      ]),
    ]);
    for (const result of [overridden, byRun, byFile]) expect(result.code, result.stderr).toBe(0);
    const features = (result: CliResult) =>
      new Map(
        (
          JSON.parse(result.stdout) as {
            features: { column: string; test: string; threshold: number; drifted: boolean }[];
          }
        ).features.map((feature) => [feature.column, feature]),
      );
    expect(features(overridden).get('Age')).toMatchObject({ test: 'ks', threshold: 0.05, drifted: false });
    expect(features(overridden).get('BMI')).toMatchObject({
      test: 'wasserstein',
      threshold: 0.0001,
      drifted: true,
    });
    // One drifted feature of 32 is more than the share asked for.
    expect(JSON.parse(overridden.stdout).dataset_drift).toMatchObject({ drift_share: 0.02, drifted: true });
    expect(features(byRun).get('Age')).toMatchObject({ drifted: true });
    const fromFile = JSON.parse(byFile.stdout) as {
      reference: { source: string; probability_source: string };
    };
    expect(fromFile.reference).toEqual(
      expect.objectContaining({
        source: `${trainFile()}, scored by the model`,
        probability_source: 'scored',
      }),
    );
    expect(features(byFile).get('Age')).toMatchObject({ drifted: true });
  }, 60_000);

  it.skipIf(!hasChromium)(
    'writes a self-contained HTML report that opens in Chromium with no error and no request',
    async () => {
      const out = join(directory, 'drift.html');
      const printed = await ok(['monitor', 'drift', '--current', olderFile, '--html', out]);
      expect(printed).toContain(`wrote the HTML report to ${out}`);
      const html = await readFile(out, 'utf8');
      // Nothing is fetched from anywhere: no external URL at all, no script.
      expect(html).not.toMatch(/(?:src|href)=["'](?!#)/);
      expect(html).not.toMatch(/url\(|@import|<script|<link/);
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--no-first-run',
        ],
      });
      try {
        const page = await browser.newPage();
        const problems: string[] = [];
        const url = pathToFileURL(out).href;
        page.on('request', (request) => {
          if (request.url() !== url) problems.push(`request: ${request.url()}`);
        });
        page.on('console', (message) => {
          if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
        });
        page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
        await page.goto(url, { waitUntil: 'load' });
        expect(problems).toEqual([]);
        expect(await page.locator('h1').textContent()).toMatch(
          /parkinson-disease-prediction\s+version 1 · logistic/,
        );
        expect(await page.locator('.verdict .big').first().textContent()).toBe('No dataset drift');
        // One card per feature, drifted first, each with its histogram.
        const cards = page.locator('article.card');
        expect(await cards.count()).toBe(32);
        expect(await cards.first().locator('h3').textContent()).toBe('Age');
        expect(await cards.first().locator('.badge').textContent()).toBe('Drift');
        expect(await page.locator('#f-Age svg.chart rect.cur').count()).toBeGreaterThan(5);
        expect(await page.locator('#f-Gender svg.chart text', { hasText: 'Female' }).count()).toBe(1);
        expect(await page.locator('table tbody tr').count()).toBe(32);
      } finally {
        await browser.close();
      }
    },
    60_000,
  );
});

describe('onset monitor drift refuses bad input', () => {
  it('exits 2, before any work, for an unknown feature or test, a bad threshold and a missing or refused option', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--test', 'Agee=ks'],
        /^onset: Unknown feature "Agee" in --test Agee=ks; the features are Age, Gender, /,
      ],
      [
        ['--test', 'Age=kolmogorov'],
        /^onset: Unknown test "kolmogorov" in --test Age=kolmogorov; the tests are ks /,
      ],
      [
        ['--test', 'Gender=wasserstein'],
        /^onset: The test wasserstein applies to numerical columns, and Gender is categorical/,
      ],
      [
        ['--threshold', 'Age=lots'],
        /^onset: The threshold of Age must be a number of at least 0, got "lots"/,
      ],
      [
        ['--window', '24h'],
        /^onset: --current and --window are alternatives: compare a file, or the prediction log/,
      ],
      [['--json', '--html', 'x.html'], /^onset: --json and --html are alternatives/],
      [['--drift-share', '2'], /^onset: --drift-share takes a number from 0 to 1, got "2"/],
    ];
    const results = await Promise.all(
      cases.map(([args]) => onset(['monitor', 'drift', '--current', 'missing-file.csv', ...args])),
    );
    results.forEach((result, i) => {
      expect(result.code, cases[i]![0].join(' ')).toBe(2);
      expect(result.stderr).toMatch(cases[i]![1]);
      expect(result.stdout).toBe('');
    });
    const noCurrent = await onset(['monitor', 'drift']);
    expect(noCurrent.code).toBe(2);
    expect(noCurrent.stderr).toMatch(
      /^onset: give the current data with --current FILE, or read the prediction log with --window 24h/,
    );
  }, 60_000);

  it('exits 1 for an empty current file, naming it', async () => {
    const empty = join(directory, 'empty.csv');
    await writeFile(empty, `PatientID,${FEATURE_NAMES.join(',')},Diagnosis\n`);
    const result = await onset(['monitor', 'drift', '--current', empty]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `onset: The current data ${empty} has no rows: a drift check needs at least one patient to compare with the training data\n`,
    );
  }, 30_000);

  it('exits 1 for a model with no reference profile, saying how to get one', async () => {
    const file = await onset(['monitor', 'drift', '--current', sameFile, '--model', modelFile()]);
    expect(file.code).toBe(1);
    expect(file.stderr).toMatch(
      /^onset: the model .*model\.json has no reference profile: a model file does not carry one \(its training run stores it\); use --model runs:\/RUN_ID\/model for the run that trained it \(onset runs list\), or train the model with onset train or an Onset pipeline \(every training run stores one\), or give the data it was trained on with --reference FILE\n$/,
    );
    // A run logged before reference profiles were stored (its artifact removed here).
    const artifact = join(home, 'artifacts', '1', runId, 'artifacts', 'data', 'reference-profile.json');
    const sidecar = `${artifact}.onset-sha256`;
    const kept = await Promise.all([readFile(artifact), readFile(sidecar)]);
    await rm(artifact);
    await rm(sidecar);
    try {
      const result = await onset(['monitor', 'drift', '--current', sameFile]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `onset: parkinson-disease-prediction version 1 has no reference profile: its training run ${runId} has no data/reference-profile.json (it was logged before Onset stored reference profiles, or by another tool); train the model with onset train or an Onset pipeline (every training run stores one), or give the data it was trained on with --reference FILE\n`,
      );
    } finally {
      await writeFile(artifact, kept[0]);
      await writeFile(sidecar, kept[1]);
    }
  }, 30_000);
});
