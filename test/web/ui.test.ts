/**
 * The web UI end to end, in Chromium (playwright-core driving Debian's chromium), against a real `onset up`
 * on a fresh home whose first model comes from a real `train-all` run: every page shows real data, deep
 * links load directly, a filter the server refuses shows its error, the prediction form round-trips and
 * its waterfall adds up to the margin, a batch file is scored and downloaded, a pipeline started from the
 * UI runs to the end, a promotion made in the UI changes the registry (checked through the API), the
 * pages fit a phone's width, and no page logs an error. Screenshots of every page go to
 * `test-artifacts/ui/` (not committed).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset, writeKaggleCsv } from '../../src/data/generator/generator.js';
import { KAGGLE_COLUMNS } from '../../src/data/schema.js';
import { CHROMIUM_MISSING, hasChromium, launchChromium, watchProblems } from '../support/browser.js';
import { type Child, startCli, waitFor } from '../support/child-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHOTS = join(ROOT, 'test-artifacts/ui');
const MODEL = 'parkinson-disease-prediction';
const home = mkdtempSync(join(tmpdir(), 'onset-ui-'));

let server: Child | undefined;
let base = '';
let browser: Browser | undefined;

interface RunJson {
  info: { run_id: string; experiment_id: string };
  data: { metrics?: { key: string }[] };
}

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...init?.headers },
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const searchRuns = () =>
  api<{ runs: RunJson[] }>('/api/2.0/mlflow/runs/search', {
    method: 'POST',
    body: JSON.stringify({ experiment_ids: ['1'], max_results: 100 }),
  }).then((answer) => answer.runs);

if (!hasChromium) console.warn(`web UI tests: ${CHROMIUM_MISSING}`);

beforeAll(async () => {
  if (!hasChromium) return;
  const data = join(home, 'patients.csv');
  await writeKaggleCsv(data, generateDataset({ rows: 600, seed: 21 }));
  server = startCli(['up', '--port', '0'], { env: { ONSET_HOME: home, ONSET_DATA: data } });
  await waitFor(
    () => /Onset is up on http:\/\/[\d.:]+\n[\s\S]*artifacts/.test(server!.stdout()),
    120_000,
    'onset up',
    server,
  );
  base = /Onset is up on (http:\/\/[\d.:]+)/.exec(server.stdout())![1]!;
  expect(server.stdout()).toContain(`web UI                     ${base}/`);
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (server && server.process.exitCode === null) {
    server.process.kill('SIGTERM');
    await server.exited;
  }
  rmSync(home, { recursive: true, force: true });
});

/** A page of the UI at a width, watched for problems; `expected` failures are let through. */
async function open(
  path: string,
  options: { width?: number; expected?: (url: string, status: number) => boolean } = {},
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser!.newPage({ viewport: { width: options.width ?? 1280, height: 900 } });
  const problems = watchProblems(page, base, options.expected);
  const response = await page.goto(`${base}${path}`);
  expect(response?.status(), path).toBe(200);
  return { page, problems };
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Finishes with a page: no problem may have happened, and it must not scroll sideways. */
async function close(page: Page, problems: readonly string[], name: string): Promise<void> {
  await page.waitForLoadState('networkidle');
  await shoot(page, name);
  const width = page.viewportSize()!.width;
  const overflow = (await page.evaluate('document.documentElement.scrollWidth')) as number;
  await page.close();
  expect(problems).toEqual([]);
  expect(overflow, `${name} is wider than the screen`).toBeLessThanOrEqual(width);
}

const text = (page: Page, selector: string) => page.locator(selector).first().textContent();

describe.skipIf(!hasChromium)(`the web UI on onset up${hasChromium ? '' : ` (${CHROMIUM_MISSING})`}`, () => {
  it('overview: the Production model, live traffic from /metrics, the first pipeline run', async () => {
    const { page, problems } = await open('/');
    await page.getByRole('link', { name: `${MODEL} version 1` }).waitFor();
    const production = await text(page, '#production');
    expect(production).toMatch(/Production/);
    expect(production).toMatch(/training rows\s*\d+/);
    expect(production).toMatch(/holdout_roc_auc/);
    await page.locator('#traffic').getByText(`${MODEL} version 1 (Production)`).waitFor();
    await page.locator('#pipeline-runs').getByRole('link', { name: 'train-all' }).waitFor();
    expect(await text(page, '#pipeline-runs')).toMatch(/SUCCEEDED/);
    await page.locator('#monitoring').getByText(/drift/).first().waitFor();
    await close(page, problems, 'overview');
  }, 60_000);

  it('experiments: the runs table sorts by a metric and pages; an invalid filter shows the server’s error', async () => {
    const { page, problems } = await open('/experiments', {
      // The filter the server refuses, on purpose.
      expected: (url, status) => status === 400 && url.endsWith('/runs/search'),
    });
    await page.getByRole('link', { name: MODEL }).click();
    await page.waitForURL(/\/experiments\/1$/);
    const rows = page.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(4);
    // Sorted by cv_roc_auc, highest first: the table's first run has the highest value.
    await page.getByRole('button', { name: /^cv_roc_auc/ }).click();
    await expect.poll(() => page.url()).toMatch(/order=metrics\.%60cv_roc_auc%60\+DESC/);
    await page.waitForLoadState('networkidle');
    const runs = await searchRuns();
    const auc = (run: RunJson) =>
      (run.data.metrics as { key: string; value: number }[]).find((m) => m.key === 'cv_roc_auc')!.value;
    const best = [...runs].sort((a, b) => auc(b) - auc(a))[0]!;
    expect(await page.locator('tbody tr').first().getByRole('link').getAttribute('href')).toBe(
      `/runs/${best.info.run_id}`,
    );
    expect(await page.getByRole('columnheader', { name: /cv_roc_auc/ }).getAttribute('aria-sort')).toBe(
      'descending',
    );

    // A filter typed and sent with the keyboard; the server's message is shown at the filter.
    await page.getByLabel('Filter runs (MLflow search syntax)').fill("metrics.cv_roc_auc > 'high'");
    await page.keyboard.press('Enter');
    const refused = page.getByRole('alert');
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(
      /The search was refused[\s\S]*400 INVALID_PARAMETER_VALUE[\s\S]*Expected a number for metric 'cv_roc_auc', found string 'high'/,
    );
    expect(await page.getByLabel('Filter runs (MLflow search syntax)').getAttribute('aria-invalid')).toBe(
      'true',
    );
    await shoot(page, 'experiments-invalid-filter');

    // A valid one narrows the table to the matching runs.
    await page.getByLabel('Filter runs (MLflow search syntax)').fill("tags.`onset.estimator` = 'gbdt'");
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toMatch(/gbdt/);
    // Paging: one run per page.
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Rows per page').selectOption('25');
    await expect.poll(() => rows.count()).toBe(4);
    await page.goto(`${base}/experiments/1`);
    await expect.poll(() => rows.count()).toBe(4);
    await close(page, problems, 'experiments');
  }, 60_000);

  it("a run's page: params, metrics, histories drawn as charts, tags, the artifacts viewed and downloaded", async () => {
    const [run] = await searchRuns();
    const { page, problems } = await open(`/runs/${run!.info.run_id}`);
    await page.locator('#metrics').getByText('cv_roc_auc', { exact: true }).waitFor();
    await page.locator('#params tbody tr').first().waitFor();
    // The charts are drawn one by one as their histories arrive.
    await expect
      .poll(() => page.locator('#histories canvas').count(), { timeout: 10_000 })
      .toBeGreaterThan(5);
    await page.locator('#tags').getByText('onset.estimator').waitFor();
    // Browse: open report/, view the model report as JSON, download it.
    await page.getByRole('button', { name: 'report/' }).click();
    await page.getByRole('button', { name: 'model-report.json' }).click();
    await page.locator('pre.viewer').getByText('"onset-model-report"').waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('model-report.json');
    const saved = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(saved.name).toBe('onset-model-report');
    // A CSV-less run still shows text files inline.
    await page.getByRole('button', { name: 'data/' }).click();
    await page.getByRole('button', { name: 'training-rows.txt' }).click();
    await page.locator('pre.viewer').waitFor();
    await close(page, problems, 'run');
  }, 60_000);

  it('compares runs: parameters side by side with differences marked, histories overlaid', async () => {
    const { page, problems } = await open('/experiments/1');
    const boxes = page.getByRole('checkbox', { name: /^Select / });
    await expect.poll(() => boxes.count()).toBe(4);
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.getByRole('button', { name: 'Compare selected (2)' }).click();
    await page.waitForURL(/\/compare\?runs=/);
    await page.locator('#params tr.different').first().waitFor();
    expect(await page.locator('#params tr.different').first().textContent()).toMatch(/differs/);
    await page.locator('#charts canvas').first().waitFor();
    expect(await page.locator('#charts .u-legend').textContent()).toMatch(/train-all/);
    await close(page, problems, 'compare');
  }, 60_000);

  it("predict: the form round-trips, and the waterfall adds up to the margin of the model's own probability", async () => {
    const { page, problems } = await open('/score', {
      // MoCA 45 is refused by the server, on purpose.
      expected: (url, status) => status === 400 && url.endsWith('/explain'),
    });
    const patient = generateDataset({ rows: 1, seed: 99 });
    const line = KAGGLE_COLUMNS.map((column) =>
      column === 'PatientID'
        ? 'P-77'
        : column === 'Diagnosis'
          ? String(patient.target![0])
          : column === 'DoctorInCharge'
            ? 'DrXXXConfid'
            : String(patient.columns[column as keyof typeof patient.columns][0]),
    ).join(',');
    await page.getByLabel('A line of the data file, with its header line or without').fill(line);
    await page.getByRole('button', { name: 'Load into the form' }).click();
    expect(await page.getByLabel('Patient id (optional, echoed back)').inputValue()).toBe('P-77');
    // Every field has a label a screen reader reads.
    const unlabelled =
      await page.evaluate(`[...document.querySelectorAll('main input, main select, main textarea')]
      .filter((element) => element.labels?.length === 0 && !element.getAttribute('aria-label'))
      .map((element) => element.id || element.outerHTML)`);
    expect(unlabelled).toEqual([]);
    await page.getByRole('button', { name: 'Predict and explain' }).click();
    await page.locator('.probability').waitFor();

    // The same record through the API gives the probability the page shows.
    const data = Object.fromEntries(
      Object.entries(patient.columns).map(([name, column]) => [name, String((column as Float64Array)[0])]),
    );
    const direct = await api<{
      probability: number;
      explanation: { bias: number; contributions: Record<string, number>; uncalibrated_probability: number };
      prediction_set: (0 | 1)[];
      diagnosis: 0 | 1;
      threshold: { value: number; policy: string; description: string };
    }>('/explain', { method: 'POST', body: JSON.stringify({ data, patient_id: 'P-77' }) });
    const shown = Number(await page.locator('.probability').getAttribute('data-probability'));
    expect(shown).toBeCloseTo(direct.probability, 12);
    expect(await page.locator('.probability').textContent()).toBe(
      `${(direct.probability * 100).toFixed(1)}%`,
    );
    // The diagnosis at the model's own threshold, which the page names with its policy.
    expect(Number(await page.locator('[data-threshold]').getAttribute('data-threshold'))).toBe(
      direct.threshold.value,
    );
    expect(await page.locator('.probability + div').textContent()).toContain(
      `(${direct.threshold.policy.includes(':') ? 'chosen for ' : ''}${direct.threshold.description})`,
    );
    // The prediction set the API answers, in words.
    expect(await page.locator('.prediction-set').getAttribute('data-prediction-set')).toBe(
      direct.prediction_set.join(','),
    );

    // Every contribution, summed with the bias, is the margin shown; the margin's logistic is the model's
    // own probability, which its calibration maps to the one shown.
    await page.getByRole('button', { name: /Show all 32 features/ }).click();
    const table = page.locator('table.waterfall');
    const rows = page.locator('table.waterfall tr[data-contribution]');
    const waterfall = {
      bias: Number(await table.getAttribute('data-bias')),
      margin: Number(await table.getAttribute('data-margin')),
      contributions: await Promise.all(
        (await rows.all()).map(async (row) => Number(await row.getAttribute('data-contribution'))),
      ),
      shownMargin: await page.locator('.margin').textContent(),
    };
    expect(waterfall.contributions).toHaveLength(32);
    const sum = waterfall.bias + waterfall.contributions.reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(waterfall.margin, 9);
    expect(waterfall.bias).toBeCloseTo(direct.explanation.bias, 12);
    expect(1 / (1 + Math.exp(-waterfall.margin))).toBeCloseTo(direct.explanation.uncalibrated_probability, 9);
    expect(Number(waterfall.shownMargin!.replace('−', '-'))).toBeCloseTo(waterfall.margin, 3);
    await shoot(page, 'predict');

    // An impossible value: the server's message, at its field.
    await page.getByLabel('MoCA').fill('45');
    expect(await page.locator('#feature-MoCA-error').textContent()).toBe(
      'MoCA must be between 0 and 30 score (what is possible)',
    );
    await page.getByRole('button', { name: 'Predict and explain' }).click();
    await page.getByText('The server did not score this record').waitFor();
    expect(await page.locator('#feature-MoCA-error').textContent()).toBe(
      'MoCA must be between 0 and 30 score (what is possible); got "45"',
    );
    await close(page, problems, 'predict-refused');
  }, 60_000);

  it('predict: a CSV file is scored in batches, with its invalid rows named, and the results download', async () => {
    const { page, problems } = await open('/score');
    const patients = join(home, 'to-score.csv');
    await writeKaggleCsv(patients, generateDataset({ rows: 700, seed: 5 }));
    // One impossible row: the others are still scored.
    const lines = readFileSync(patients, 'utf8').split('\n');
    const cells = lines[3]!.split(',');
    cells[KAGGLE_COLUMNS.indexOf('MoCA')] = '31';
    lines[3] = cells.join(',');
    await page.getByLabel('CSV file to score').setInputFiles({
      name: 'to-score.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(lines.join('\n')),
    });
    await page.getByText(/to-score\.csv: 699 of 700 rows scored, 1 refused/).waitFor({ timeout: 30_000 });
    expect(await page.locator('main').textContent()).toMatch(/agree with the file's diagnosis/);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the results (CSV)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('to-score-scores.csv');
    const rows = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n');
    expect(rows[0]).toBe('line,PatientID,probability,diagnosis,Diagnosis,model_version,errors');
    expect(rows).toHaveLength(701);
    expect(rows[3]).toMatch(/data\.MoCA must be between 0 and 30/);
    await close(page, problems, 'predict-batch');
  }, 60_000);

  it('monitoring: the predictions just made, from the prediction log, drawn over time', async () => {
    // The predict tests above logged their predictions; one more through the API, then the writer's flush.
    const patient = generateDataset({ rows: 1, seed: 98 });
    await api('/predict', {
      method: 'POST',
      body: JSON.stringify({
        data: Object.fromEntries(Object.entries(patient.columns).map(([name, column]) => [name, column[0]])),
      }),
    });
    await expect
      .poll(
        async () =>
          (await api<{ predictions: number }>('/api/onset/monitoring/traffic?window=1h')).predictions,
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0);
    const { predictions } = await api<{ predictions: number }>('/api/onset/monitoring/traffic?window=1h');
    const { page, problems } = await open('/monitoring?window=1h');
    const traffic = page.locator('#traffic');
    // As many as the API counted a moment ago, or more (the batch test's predictions may still be arriving).
    const shown = traffic.locator('.tile .value').first();
    await expect
      .poll(async () => Number((await shown.textContent())?.replaceAll(',', '')), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(predictions);
    await expect.poll(() => traffic.locator('canvas').count()).toBeGreaterThanOrEqual(4);
    await traffic.getByRole('img', { name: 'Latency of a prediction over time' }).waitFor();
    // Another window is another URL.
    await page.getByRole('combobox', { name: /Window/ }).selectOption('7d');
    await page.waitForURL(/window=7d/);
    await close(page, problems, 'monitoring-traffic');
  }, 60_000);

  it('monitoring: a drift check and a performance check run from the page, with their verdicts and tables', async () => {
    const { page, problems } = await open('/monitoring');
    const drift = page.locator('#drift');
    await drift.getByRole('button', { name: 'Check drift now' }).click();
    await drift.getByText(/features drifted/).waitFor();
    // What the page shows is the check the API stored.
    const [check] = (
      await api<{ checks: { check_id: string; summary: { drifted_features: number; features: number } }[] }>(
        '/api/onset/monitoring/checks?kind=drift&max_results=1',
      )
    ).checks;
    expect(await drift.textContent()).toContain(
      `${check!.summary.drifted_features} of ${check!.summary.features} features drifted`,
    );
    expect(await drift.locator('tbody tr').count()).toBe(check!.summary.features + 1);
    // A feature's histograms: reference and current shares, bin by bin.
    await drift.getByRole('button', { name: 'Age', exact: true }).click();
    await drift.locator('table.share-bars caption').filter({ hasText: /^Age:/ }).waitFor();
    expect(await drift.locator('table.share-bars tbody tr').count()).toBeGreaterThan(2);

    const performance = page.locator('#performance');
    await performance.getByRole('button', { name: 'Check performance now' }).click();
    await performance.getByRole('cell', { name: 'last 24h' }).waitFor();
    expect(await performance.textContent()).toMatch(/roc_auc \(estimated\)/);
    await close(page, problems, 'monitoring-checks');
  }, 60_000);

  it('pipelines: a run started from the UI with a parameter appears, is followed live and finishes', async () => {
    const { page, problems } = await open('/pipelines');
    await page.locator('#dag, main').first().waitFor();
    await page.getByRole('link', { name: 'train-logistic' }).click();
    await page.waitForURL(/\/pipelines\/train-logistic$/);
    await page.locator('svg.dag [data-block="register"]').waitFor();
    await page.getByLabel('cv', { exact: true }).fill('3');
    await page.getByRole('button', { name: 'Run train-logistic' }).click();
    await page.waitForURL(/\/pipeline-runs\/\w+$/);
    const id = page.url().split('/').at(-1)!;
    await page.locator('.page-head').getByText('SUCCEEDED').waitFor({ timeout: 60_000 });
    await page.locator('svg.dag [data-block="register"][data-status="SUCCEEDED"]').waitFor();
    expect(await page.locator('[role="log"]').textContent()).toMatch(
      /\[register\] registered parkinson-disease-prediction version 2/,
    );
    const run = await api<{ run: { params: Record<string, unknown>; trigger: string; status: string } }>(
      `/api/onset/pipeline-runs/${id}`,
    );
    expect(run.run).toMatchObject({ status: 'SUCCEEDED', trigger: 'ui', params: { cv: 3 } });
    await close(page, problems, 'pipeline-run');
  }, 90_000);

  it('models: a promotion made in the UI changes the registry, with who and why in the history', async () => {
    const { page, problems } = await open('/models');
    await page.getByRole('link', { name: MODEL }).click();
    await page.getByRole('link', { name: 'v2' }).click();
    await page.waitForURL(/\/versions\/2$/);
    // The model report of version 2.
    await page.locator('#curves canvas').nth(2).waitFor();
    const slider = page.getByLabel(/Threshold: predict/);
    const before = await page.locator('.confusion').textContent();
    await slider.focus();
    for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
    expect(await page.locator('.confusion').textContent()).not.toBe(before);
    await page.locator('#subgroups').getByText('African American').waitFor();
    // The decision curve is drawn beside the other curves, and each subgroup's figures carry intervals.
    await page
      .getByRole('img', { name: /^Decision curve: the net benefit/ })
      .locator('canvas')
      .waitFor();
    expect(await page.locator('#subgroups [title="95% bootstrap interval"]').count()).toBeGreaterThan(10);
    await page.locator('#importance .bars li').first().waitFor();
    // The model card the training run logged: every TRIPOD+AI section, the threshold with its reason.
    await page.locator('#card-limitations').waitFor();
    const sections = await page.locator('.model-card section h3').allTextContents();
    expect(sections).toEqual([
      'Model details',
      'Intended use and users',
      'Data',
      'Features',
      'How the model was built and validated',
      'Performance',
      'Calibration',
      'Decision threshold',
      'Prediction sets',
      'Subgroups',
      'Decision curve',
      'Limitations and out-of-distribution behaviour',
    ]);
    expect(await page.locator('#card-threshold').textContent()).toMatch(
      /A patient is diagnosed with Parkinson's disease at a probability of [\d.]+ or more\. Policy: /,
    );
    // Its reliability diagram and decision curve are drawn.
    await page.locator('#card-decision-curve canvas').first().waitFor();
    expect(await page.locator('.model-card figure.card-chart').count()).toBe(2);
    const markdown = await page.getByRole('link', { name: 'Markdown' }).getAttribute('href');
    const downloaded = await fetch(`${base}${markdown}`);
    expect(downloaded.status).toBe(200);
    expect(await downloaded.text()).toMatch(/^# Model card: gbdt model|^# Model card: \w+ model/);
    await shoot(page, 'model-version');

    await page.getByLabel('Move to stage').selectOption('Production');
    await page.getByLabel('Why (kept in the stage history)').fill('promoted from the UI test');
    await page.getByRole('button', { name: 'Promote' }).click();
    await page.getByText('Version 2 is now in Production.').waitFor();
    const version = await api<{ model_version: { current_stage: string; aliases: string[] } }>(
      `/api/2.0/mlflow/model-versions/get?name=${MODEL}&version=2`,
    );
    expect(version.model_version.current_stage).toBe('Production');
    expect(version.model_version.aliases).toContain('champion');
    const first = await api<{ model_version: { current_stage: string } }>(
      `/api/2.0/mlflow/model-versions/get?name=${MODEL}&version=1`,
    );
    expect(first.model_version.current_stage).toBe('Archived');
    const history = await api<{
      transitions: { version: string; to_stage: string; user: string; reason: string }[];
    }>(`/api/onset/registry/stage-history?name=${MODEL}&version=2`);
    expect(history.transitions.at(-1)).toMatchObject({
      to_stage: 'Production',
      user: 'anonymous',
      reason: 'promoted from the UI test',
    });
    await page.locator('#history').getByText('promoted from the UI test').waitFor();

    // An alias, set and removed.
    await page.getByLabel('Point an alias at this version').fill('reviewed');
    await page.getByRole('button', { name: 'Set alias' }).click();
    await page.getByText('@reviewed now points at version 2.').waitFor();
    expect(
      (
        await api<{ model_version: { version: string } }>(
          `/api/2.0/mlflow/registered-models/alias?name=${MODEL}&alias=reviewed`,
        )
      ).model_version.version,
    ).toBe('2');
    await page.getByRole('button', { name: 'Remove the alias reviewed' }).click();
    await page.getByText('@reviewed removed.').waitFor();
    await close(page, problems, 'model-version-promoted');

    const model = await open(`/models/${MODEL}`);
    await model.page.locator('#history').getByText('promoted from the UI test').waitFor();
    await close(model.page, model.problems, 'model');
  }, 60_000);

  it('deep links load directly, at a desktop and at a phone width, and unknown pages say so', async () => {
    const runs = await searchRuns();
    const pipelineRuns = await api<{ runs: { run_id: string }[] }>('/api/onset/pipeline-runs');
    const links: [string, string, string][] = [
      ['/', 'Overview', 'overview'],
      ['/experiments', 'Experiments', 'experiments-list'],
      ['/experiments/1', MODEL, 'experiment'],
      [`/runs/${runs[0]!.info.run_id}`, 'train', 'run'],
      [`/compare?runs=${runs.map((r) => r.info.run_id).join(',')}`, 'Compare runs', 'compare-all'],
      ['/models', 'Models', 'models'],
      [`/models/${MODEL}`, MODEL, 'model'],
      [`/models/${MODEL}/versions/1`, `${MODEL} version 1`, 'model-version-1'],
      ['/score', 'Predict', 'predict-empty'],
      ['/pipelines', 'Pipelines', 'pipelines'],
      ['/pipelines/train-all', 'train-all', 'pipeline'],
      [`/pipeline-runs/${pipelineRuns.runs.at(-1)!.run_id}`, 'train-all run', 'pipeline-run-first'],
      ['/monitoring', 'Monitoring', 'monitoring'],
    ];
    for (const width of [1280, 390]) {
      for (const [path, heading, name] of links) {
        const { page, problems } = await open(path, { width });
        await page.locator('main h1').filter({ hasText: heading }).first().waitFor();
        expect(await page.title(), path).toMatch(/· Onset$/);
        await close(page, problems, `${name}-${width}`);
      }
    }
    const page = await browser!.newPage();
    const answer = await page.goto(`${base}/no/such/page`);
    expect(answer?.status()).toBe(404);
    await page.getByRole('heading', { name: 'No such page' }).waitFor();
    await page.close();
  }, 120_000);

  it('works with the keyboard: a skip link first, then the sections', async () => {
    const { page, problems } = await open('/experiments/1');
    await page.locator('tbody tr').first().waitFor();
    await page.keyboard.press('Tab');
    const focused = () => page.evaluate('document.activeElement?.textContent');
    expect(await focused()).toBe('Skip to the content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Overview');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/`);
    await page.locator('#production').waitFor();
    await close(page, problems, 'keyboard');
  }, 60_000);
  it('monitoring: an alert from Alertmanager and the retraining run it started, linked; the overview says it fires', async () => {
    // What a real Alertmanager 0.25 delivered (test/fixtures/alertmanager/), as it is sent to the webhook.
    const payload = readFileSync(join(ROOT, 'test/fixtures/alertmanager/webhook-retrain.json'), 'utf8');
    const { alerts } = await api<{ alerts: { outcome: string; pipeline_run_id: string }[] }>(
      '/api/onset/alerts',
      {
        method: 'POST',
        body: payload,
      },
    );
    expect(alerts[0]!.outcome).toBe('started');
    const { page, problems } = await open('/monitoring');
    const history = page.locator('#alerts');
    await history.getByRole('cell', { name: 'OnsetDatasetDrift' }).waitFor();
    const link = history.getByRole('link', { name: /^retrain run / });
    expect(await link.getAttribute('href')).toBe(`/pipeline-runs/${alerts[0]!.pipeline_run_id}`);
    await close(page, problems, 'monitoring-alerts');
    const overview = await open('/');
    await overview.page
      .locator('#monitoring')
      .getByText(/OnsetDatasetDrift \(since/)
      .waitFor();
    await close(overview.page, overview.problems, 'overview-alert');
  }, 60_000);
});
