/**
 * `onset monitor drift --window` and `onset monitor performance` as a user runs them, without a server:
 * a home with a model trained (cross-validated) and promoted, predictions of generated patients in its
 * prediction log (the last hour's like the training data, older ones shifted) and feedback for some.
 * Tables, JSON and every refusal with its documented exit code.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { createDataset } from '../src/data/dataset.js';
import { generateDataset } from '../src/data/generator/generator.js';
import { FEATURE_NAMES, type FeatureName } from '../src/data/schema.js';
import { serializeModelDocument } from '../src/ml/model-document.js';
import { trainOnDataset } from '../src/ml/train-on-dataset.js';
import { openOnsetStores } from '../src/server/open-stores.js';
import { type CliResult, runCliAsync } from './support/cli.js';
import { jsonFieldProblems } from './support/field-names.js';
import { loggedVersion, logScored, recordTruth } from './support/monitoring.js';
import { trainAndPromote } from './support/registry.js';

const NAME = 'parkinson-disease-prediction';
let directory: string;
let home: string;
let runId: string;
const modelFile = () => join(directory, 'model.json');

function onset(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCliAsync(args, { cwd: directory, env: { ONSET_HOME: home, ...env } });
}

async function ok(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await onset(args, env);
  expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'onset-cli-monitor-log-'));
  home = join(directory, '.onset');
  const stores = await openOnsetStores(resolveConfig({ home }, {}));
  try {
    const trained = await trainAndPromote(
      stores,
      NAME,
      generateDataset({ rows: 800, seed: 101 }),
      {},
      {
        estimator: 'logistic',
        cvFolds: 3,
      },
    );
    runId = trained.runId;
    const as = loggedVersion(NAME, trained.version, trained.runId);
    const now = Date.now();
    // From 50 minutes ago, one every 8 s (the last 10 minutes ago; all still in the last hour when the
    // tests run): like the training data, 200 with feedback.
    const recent = generateDataset({ rows: 300, seed: 102 });
    const logged = await logScored(
      stores.predictionLog,
      as,
      trained.model,
      recent,
      (i) => now - 3_000_000 + i * 8_000,
    );
    await recordTruth(stores.predictionLog, logged, recent.target!, (i) => i < 200);
    // 30 hours ago: 300 patients 15 years older.
    const older = generateDataset({ rows: 300, seed: 103 });
    const columns = {} as Record<FeatureName, Float64Array>;
    for (const name of FEATURE_NAMES)
      columns[name] = name === 'Age' ? older.columns.Age.map((age) => age + 15) : older.columns[name];
    await logScored(
      stores.predictionLog,
      as,
      trained.model,
      createDataset({ columns, target: older.target }),
      (i) => now - 30 * 3_600_000 + i * 10_000,
    );
  } finally {
    await stores.close();
  }
  const file = trainOnDataset(generateDataset({ rows: 200, seed: 104 }), { estimator: 'logistic' });
  await writeFile(modelFile(), serializeModelDocument(file.document));
}, 120_000);

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('onset monitor drift --window', () => {
  it("compares the last window of the home's prediction log with the training data, as a table, JSON and HTML", async () => {
    const html = join(directory, 'drift.html');
    const [table, json, page] = await Promise.all([
      ok(['monitor', 'drift', '--window', '24h']),
      ok(['monitor', 'drift', '--window', '48h', '--json']),
      ok(['monitor', 'drift', '-w', '24h', '--html', html]),
    ]);
    expect(table).toMatch(
      /^Drift of parkinson-disease-prediction version 1 \(logistic\): the prediction log, last 24h \(to \d{4}-\d\d-\d\dT[\d:.]+Z\) \(300 rows\) against its training data \(800 rows; tests on a sample of 800\)\n/,
    );
    expect(table).toContain('Dataset drift: no, ');
    expect(table.split('\n').some((line) => line.startsWith('feature'))).toBe(true);
    const report = JSON.parse(json) as {
      model: Record<string, unknown>;
      current: { source: string; rows: number };
      features: { column: string; drifted: boolean }[];
      window: Record<string, unknown>;
    };
    expect(jsonFieldProblems(report)).toEqual([]);
    expect(report.model).toEqual({
      uri: `models:/${NAME}/Production`,
      name: NAME,
      version: '1',
      run_id: runId,
      estimator: 'logistic',
    });
    expect(report.current.rows).toBe(600);
    expect(report.current.source).toMatch(/^the prediction log, last 48h \(to /);
    expect(report.window).toMatchObject({
      label: '48h',
      rows: 600,
      window_rows: 600,
      truncated: false,
      min_rows: 30,
    });
    // Half of them are 15 years older.
    expect(report.features.find((feature) => feature.column === 'Age')!.drifted).toBe(true);
    expect(page).toContain(`wrote the HTML report to ${html}`);
    expect(await readFile(html, 'utf8')).toMatch(/^<!doctype html>/);
  }, 60_000);

  it('reads at most ONSET_DRIFT_MAX_ROWS, the latest, and says so', async () => {
    const out = await ok(['monitor', 'drift', '--window', '48h'], { ONSET_DRIFT_MAX_ROWS: '250' });
    expect(out).toMatch(
      /^WARN the window holds 600 predictions: the latest 250 were compared \(ONSET_DRIFT_MAX_ROWS\)\n/,
    );
    expect(out).toContain('(250 rows) against its training data');
  }, 30_000);

  it('exits 1 when the window holds too few predictions for a verdict, saying how many and what is needed', async () => {
    const [none, few] = await Promise.all([
      onset(['monitor', 'drift', '--window', '5m']),
      onset(['monitor', 'drift', '--window', '24h'], { ONSET_DRIFT_MIN_ROWS: '1000' }),
    ]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      `onset: No prediction of ${NAME} version 1 was logged in the last 5m: nothing to compare with its training data (serve it with onset up or onset serve with the prediction log on, or choose a longer --window)\n`,
    );
    expect(few.code).toBe(1);
    expect(few.stderr).toBe(
      `onset: Only 300 predictions of ${NAME} version 1 were logged in the last 24h; a drift check needs at least 1000 (ONSET_DRIFT_MIN_ROWS) for a verdict: choose a longer --window\n`,
    );
  }, 30_000);

  it('exits 2, before any work, for a bad window or a model the log does not name by version', async () => {
    const cases: [string[], RegExp][] = [
      [['--window', '1.5h'], /^onset: window '1\.5h' is not a duration; write a whole number and one unit/],
      [['--window', '24h', '--current', 'x.csv'], /^onset: --current and --window are alternatives/],
      [
        ['--window', '24h', '--model', 'model.json'],
        /^onset: --window reads the predictions logged for a registered model version, and model\.json is a model file: name one with --model models:\/NAME\/VERSION/,
      ],
      [['--window', '24h', '--model', `runs:/${'a'.repeat(32)}/model`], /is a run's model/],
    ];
    const results = await Promise.all(cases.map(([args]) => onset(['monitor', 'drift', ...args])));
    results.forEach((result, i) => {
      expect(result.code, cases[i]![0].join(' ')).toBe(2);
      expect(result.stderr).toMatch(cases[i]![1]);
      expect(result.stdout).toBe('');
    });
  }, 30_000);
});

describe('onset monitor performance', () => {
  it('prints per window the realized metrics from feedback beside the estimate and its band', async () => {
    const out = await ok(['monitor', 'performance']);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(
      /^Performance of parkinson-disease-prediction version 1 \(models:\/parkinson-disease-prediction\/Production\) from the prediction log, windows ending \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
    );
    expect(lines[1]).toMatch(
      /^Estimates: CBPE fitted on 800 reference predictions \(out-of-fold probabilities\), (calibrated with isotonic regression|probabilities taken as calibrated); bands ±3 sampling errors$/,
    );
    expect(out).toMatch(
      /\n1h: 300 predictions, 200 with feedback \(\d+ positive, \d+ negative\); estimated on 300\n/,
    );
    expect(out).toMatch(/\n24h: 300 predictions, 200 with feedback/);
    expect(out).toMatch(
      /\n7d: 600 predictions, 200 with feedback \(\d+ positive, \d+ negative\); estimated on 600\n/,
    );
    const header = lines.find((line) => line.startsWith('metric'))!;
    expect(header.split(/\s{2,}/)).toEqual(['metric', 'realized', 'estimated', 'band']);
    const auc = lines.find((line) => line.startsWith('roc_auc'))!.split(/\s{2,}/);
    expect(auc).toEqual([
      'roc_auc',
      expect.stringMatching(/^0\.\d{3}$/),
      expect.stringMatching(/^0\.\d{3}$/),
      expect.stringMatching(/^0\.\d{3} – (0\.\d{3}|1\.000)$/),
    ]);
    const ece = lines
      .find((line) => line.startsWith('ece'))!
      .trim()
      .split(/\s{2,}/);
    expect(ece).toEqual(['ece', expect.stringMatching(/^0\.\d{3}$/)]);
  }, 30_000);

  it('prints JSON with snake_case fields: the model, how the estimate was fitted, and every window', async () => {
    const printed = JSON.parse(await ok(['monitor', 'performance', '--window', '1h,7d', '--json'])) as {
      model: Record<string, unknown>;
      estimation: Record<string, unknown>;
      windows: {
        window: string;
        records: number;
        realized: { records: number; metrics: Record<string, { value: number | null }> };
        estimated: {
          records: number;
          metrics: Record<string, { estimate: number; lower: number; upper: number }>;
        };
      }[];
    };
    expect(jsonFieldProblems(printed)).toEqual([]);
    expect(printed.model).toEqual({
      uri: `models:/${NAME}/Production`,
      name: NAME,
      version: '1',
      run_id: runId,
    });
    expect(printed.estimation).toMatchObject({
      available: true,
      reference_records: 800,
      probability_source: 'out_of_fold',
    });
    expect(
      printed.windows.map((w) => [w.window, w.records, w.realized.records, w.estimated.records]),
    ).toEqual([
      ['1h', 300, 200, 300],
      ['7d', 600, 200, 600],
    ]);
    const auc = printed.windows[0]!.estimated.metrics.roc_auc!;
    expect(auc.lower).toBeLessThanOrEqual(auc.estimate);
    expect(auc.upper).toBeGreaterThanOrEqual(auc.estimate);
  }, 30_000);

  it('refuses bad windows and a model the log does not name by version (exit 2), an unknown model (exit 1)', async () => {
    const [twice, file, unknown] = await Promise.all([
      onset(['monitor', 'performance', '--window', '1h,1h']),
      onset(['monitor', 'performance', '--model', 'model.json']),
      onset(['monitor', 'performance', '--model', 'models:/nobody/Production']),
    ]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe('onset: --window names the window 1h twice (or another of the same length)\n');
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(
      /^onset: onset monitor performance reads the predictions logged for a registered model version, and model\.json is a model file/,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^onset: .*nobody.* in \.\/\.onset \(ONSET_HOME\)\n$/);
  }, 30_000);
});
