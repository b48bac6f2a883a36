import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Static } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset, writeKaggleCsv } from '../src/data/generator/generator.js';
import { loadModelDirectory, localModelDirectory } from '../src/ml/formats/mlflow-model.js';
import { parseMlmodel } from '../src/ml/formats/mlmodel-file.js';
import { openStore } from '../src/server/open-stores.js';
import type { Run } from '../src/tracking/entities.js';
import type { ModelVersionJson, RegisteredModelJson, RunJson } from '../src/tracking/rest/mlflow-schemas.js';
import { type CliResult, runCli, runCliAsync } from './support/cli.js';
import { jsonFieldProblems } from './support/field-names.js';

/** A tracking run and a model version as `--json` prints them: as MLflow's API answers. */
type RunAnswer = Static<typeof RunJson>;
type VersionAnswer = Static<typeof ModelVersionJson>;
interface TransitionAnswer {
  version: string;
  from_stage: string;
  to_stage: string;
  timestamp: number;
  user: string;
  reason: string;
}

const MODEL_NAME = 'parkinson-disease-prediction';
const EXPERIMENT = 'parkinson-disease-prediction';

const _ROOT = fileURLToPath(new URL('..', import.meta.url));

let directory: string;
/** ONSET_HOME of every tracked command here. */
let home: string;
/** ONSET_HOME of the `--no-track` training (it must stay empty). */
let untrackedHome: string;
let dataPath: string;

interface TrainJson {
  model: string;
  params: Record<string, unknown>;
  metrics: {
    training: Record<string, number>;
    cross_validation?: {
      mean: Record<string, number>;
      per_fold: { fold: number; metrics: Record<string, number> }[];
    };
  };
  run_id?: string;
  experiment_id?: string;
  model_source?: string;
  dataset_fingerprint: string;
  rows: number;
}

/** The trainings the tests read (trained once, up front, the independent ones in parallel). */
let lr: TrainJson;
let gb: TrainJson;
let tuned: TrainJson;
let untracked: TrainJson;

beforeAll(async () => {
  // These tests rely on ONSET_HOME alone choosing the stores.
  expect(process.env.ONSET_TRACKING_URI, 'unset ONSET_TRACKING_URI to run these tests').toBeUndefined();
  expect(process.env.ONSET_ARTIFACT_URI, 'unset ONSET_ARTIFACT_URI to run these tests').toBeUndefined();
  directory = await mkdtemp(join(tmpdir(), 'onset-cli-tracking-'));
  home = join(directory, 'home');
  untrackedHome = join(directory, 'untracked-home');
  dataPath = join(directory, 'train.csv');
  await writeKaggleCsv(dataPath, generateDataset({ rows: 200, seed: 7 }));
  const train = (args: readonly string[], onsetHome = home) =>
    onsetJsonAsync<TrainJson>(['train', '--data', dataPath, ...args], onsetHome);
  // Three trainings at once, each creating its own experiment (or none); two of them open (and migrate)
  // the fresh store together.
  [lr, tuned, untracked] = await Promise.all([
    train(['--model', 'logistic', '--cv', '3', '--run-name', 'lr', '--output', join(directory, 'lr.json')]),
    train([
      '--model',
      'logistic',
      '--tune',
      '3',
      '--cv',
      '3',
      '--experiment',
      'tuning',
      '--run-name',
      'tuned',
      '--output',
      join(directory, 'tuned.json'),
    ]),
    train(['--model', 'logistic', '--no-track', '--output', join(directory, 'nt.json')], untrackedHome),
  ]);
  // Then a second run in the default experiment, which now exists.
  gb = await train([
    '--model',
    'gbdt',
    '--param',
    'n_estimators=12',
    '--param',
    'max_depth=3',
    '--cv',
    '3',
    '--run-name',
    'gb',
    '--output',
    join(directory, 'gb.json'),
  ]);
}, 60_000);

afterAll(async () => {
  if (directory) await rm(directory, { recursive: true, force: true });
});

/** Runs the CLI with this file's ONSET_HOME (or another). */
function onset(args: readonly string[], onsetHome = home): CliResult {
  return runCli(args, { env: { ONSET_HOME: onsetHome } });
}

/** As `onset`, without blocking: runCli's spawn, asynchronous, so independent commands can overlap. */
function onsetAsync(args: readonly string[], onsetHome = home): Promise<CliResult> {
  return runCliAsync(args, { env: { ONSET_HOME: onsetHome } });
}

function parseJsonOutput<T>(args: readonly string[], result: CliResult): T {
  expect(result.code, `onset ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout) as T;
}

/** Runs the CLI with --json, expecting exit 0, and parses the output. */
function onsetJson<T>(args: readonly string[], onsetHome = home): T {
  return parseJsonOutput<T>(args, onset([...args, '--json'], onsetHome));
}

async function onsetJsonAsync<T>(args: readonly string[], onsetHome = home): Promise<T> {
  return parseJsonOutput<T>(args, await onsetAsync([...args, '--json'], onsetHome));
}

/** Opens the store `onset` wrote to, runs `use`, closes it. */
async function withStore<T>(use: (stores: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const stores = await openStore(`sqlite:${home}/onset.db`, {
    artifactRoot: pathToFileURL(join(home, 'artifacts')).href,
  });
  try {
    return await use(stores);
  } finally {
    await stores.close();
  }
}

/** A run as the store keeps it or as `--json` prints it. */
type AnyRun = Run | RunAnswer;
const tag = (run: AnyRun, key: string) => run.data.tags.find((t) => t.key === key)?.value;
const metric = (run: AnyRun, key: string) =>
  (run.data.metrics as readonly { key: string; value: unknown; step: number }[]).find((m) => m.key === key);

describe('onset train logs a run', () => {
  it('records params, metrics, lineage tags and checksummed artifacts', async () => {
    expect(lr.run_id).toMatch(/^[0-9a-f]{32}$/);
    expect(lr.model_source).toBe(`runs:/${lr.run_id}/model`);
    const runId = lr.run_id!;

    const shown = onsetJson<RunAnswer>(['runs', 'show', runId]);
    expect(shown.info).toMatchObject({ run_id: runId, run_name: 'lr', status: 'FINISHED' });
    expect(shown.info.end_time).toEqual(expect.any(Number));
    expect(shown.info.experiment_id).toBe(lr.experiment_id);
    // MLflow's run JSON (the artifact location as stored: see below).
    expect(Object.keys(shown).sort()).toEqual(['data', 'info', 'inputs', 'outputs']);
    expect(jsonFieldProblems(shown)).toEqual([]);

    // Parameters: the document's params, as strings.
    expect(shown.data.params.length).toBeGreaterThan(0);
    for (const [key, value] of Object.entries(lr.params)) {
      expect(shown.data.params, key).toContainEqual({ key, value: String(value) });
    }
    // Metrics: training, cross-validated mean and std (equal to what train --json printed), fit_seconds.
    const cv = lr.metrics.cross_validation!;
    expect(metric(shown, 'training_roc_auc')?.value).toBeCloseTo(lr.metrics.training.roc_auc!, 12);
    expect(metric(shown, 'cv_roc_auc')?.value).toBeCloseTo(cv.mean.roc_auc!, 12);
    expect(metric(shown, 'cv_accuracy_std')).toBeDefined();
    expect(metric(shown, 'fit_seconds')?.value).toBeGreaterThanOrEqual(0);
    expect(metric(shown, 'train_logloss')).toBeUndefined(); // not a boosted model
    // Per-fold values are the steps of cv_fold_<metric>; `runs show` has the latest (the last fold).
    const lastFold = cv.per_fold.at(-1)!;
    expect(metric(shown, 'cv_fold_roc_auc')).toMatchObject({
      step: lastFold.fold,
      value: lastFold.metrics.roc_auc,
    });
    const folds = await withStore(
      async ({ tracking }) => (await tracking.getMetricHistory(runId, 'cv_fold_roc_auc')).items,
    );
    expect(folds.map((m) => [m.step, m.value])).toEqual(cv.per_fold.map((f) => [f.fold, f.metrics.roc_auc]));

    // Lineage.
    expect(lr.dataset_fingerprint).toMatch(/\S/);
    expect(tag(shown, 'onset.dataset.fingerprint')).toBe(lr.dataset_fingerprint);
    expect(tag(shown, 'onset.dataset.path')).toBe(dataPath);
    expect(tag(shown, 'onset.dataset.rows')).toBe(String(lr.rows));
    expect(tag(shown, 'onset.estimator')).toBe('logistic');
    expect(tag(shown, 'onset.version')).toMatch(/^\d+\.\d+\.\d+/);
    expect(tag(shown, 'mlflow.runName')).toBe('lr');
    const commit = tag(shown, 'mlflow.source.git.commit');
    if (commit !== undefined) expect(commit).toMatch(/^[0-9a-f]{40}$/);

    // Artifacts, each with a sha256 sidecar that matches the content.
    const folder = join(home, 'artifacts', shown.info.experiment_id, runId, 'artifacts');
    expect(shown.info.artifact_uri).toBe(pathToFileURL(folder).href);
    for (const artifact of [
      'model/model.json',
      'report/model-report.json',
      'report/model-card.json',
      'data/profile.json',
      'data/reference-profile.json',
    ]) {
      const file = join(folder, artifact);
      expect(existsSync(file), artifact).toBe(true);
      const content = await readFile(file);
      const sidecar = await readFile(`${file}.onset-sha256`, 'utf8');
      const digest = createHash('sha256').update(content).digest('hex');
      expect(sidecar.split(/\s+/)[0], artifact).toBe(digest);
      expect(() => JSON.parse(content.toString('utf8')), artifact).not.toThrow();
    }
    // The logged model is the very document written to --output, in an MLflow model directory.
    expect(await readFile(join(folder, 'model/model.json'), 'utf8')).toBe(
      await readFile(join(directory, 'lr.json'), 'utf8'),
    );
    const mlmodel = parseMlmodel(await readFile(join(folder, 'model/MLmodel'), 'utf8'), 'MLmodel');
    expect(mlmodel).toMatchObject({ run_id: runId, artifact_path: 'model' });
    expect(Object.keys(mlmodel.flavors)).toEqual(['onset']);
  });

  it('logs a gbdt model as an MLflow model directory with the xgboost flavor, which loads as the same model', async () => {
    const folder = join(home, 'artifacts', gb.experiment_id!, gb.run_id!, 'artifacts', 'model');
    const directoryOnDisk = await localModelDirectory(folder);
    const files = directoryOnDisk.files.filter((file) => !file.endsWith('.onset-sha256'));
    expect(files).toEqual([
      'MLmodel',
      'conda.yaml',
      'model.json',
      'python_env.yaml',
      'requirements.txt',
      'xgboost.json',
    ]);
    const mlmodel = parseMlmodel(await readFile(join(folder, 'MLmodel'), 'utf8'), 'MLmodel');
    expect(mlmodel).toMatchObject({ run_id: gb.run_id, artifact_path: 'model' });
    expect(Object.keys(mlmodel.flavors).sort()).toEqual(['onset', 'python_function', 'xgboost']);
    const loaded = await loadModelDirectory(files, directoryOnDisk.read, gb.model_source!);
    expect(loaded.format).toBe('onset-model');
    expect(await readFile(join(folder, 'model.json'), 'utf8')).toBe(
      await readFile(join(directory, 'gb.json'), 'utf8'),
    );
  });

  it('logs the per-iteration train_logloss history of a boosted model', async () => {
    const history = await withStore(
      async ({ tracking }) => (await tracking.getMetricHistory(gb.run_id!, 'train_logloss')).items,
    );
    expect(history.map((m) => m.step)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    // Boosting lowers the training loss round after round.
    for (let i = 1; i < history.length; i++) expect(history[i]!.value).toBeLessThan(history[i - 1]!.value);
    const document = JSON.parse(await readFile(join(directory, 'gb.json'), 'utf8')) as {
      model: { history: { train_logloss: number[] } };
    };
    expect(history.map((m) => m.value)).toEqual(document.model.history.train_logloss);
  });

  it('logs nothing with --no-track', () => {
    expect(untracked).not.toHaveProperty('run_id');
    expect(existsSync(join(directory, 'nt.json'))).toBe(true);
    expect(existsSync(join(untrackedHome, 'onset.db'))).toBe(false);
    expect(existsSync(join(untrackedHome, 'artifacts'))).toBe(false);
  });

  it('logs tuning trials as child runs tagged mlflow.parentRunId', async () => {
    const parentId = tuned.run_id!;
    const runs = await withStore(async ({ tracking }) => {
      const experiment = await tracking.getExperimentByName('tuning');
      return (await tracking.searchRuns({ experimentIds: [experiment.experimentId] })).items;
    });
    expect(runs).toHaveLength(4);
    const children = runs.filter((run) => run.info.runId !== parentId);
    expect(children).toHaveLength(3);
    for (const child of children) {
      expect(tag(child, 'mlflow.parentRunId')).toBe(parentId);
      expect(child.info.status).toBe('FINISHED');
      expect(metric(child, 'cv_roc_auc')?.value).toEqual(expect.any(Number));
      expect(child.data.params.length).toBeGreaterThan(0);
    }
    expect(new Set(children.map((child) => tag(child, 'onset.tuning.trial'))).size).toBe(3);
    const parent = runs.find((run) => run.info.runId === parentId);
    expect(parent?.info.runName).toBe('tuned');
    expect(tag(parent!, 'mlflow.parentRunId')).toBeUndefined();
  });
});

describe('onset runs', () => {
  it("lists runs, newest first, with their latest metrics; --filter takes MLflow's grammar", async () => {
    const filterArgs = ['runs', 'list', '--filter', "tags.onset.estimator = 'gbdt'"];
    const [listed, filtered] = await Promise.all([
      onsetJsonAsync<{ experiment: string; runs: RunAnswer[] }>(['runs', 'list']),
      onsetJsonAsync<{ runs: RunAnswer[] }>(filterArgs),
    ]);
    expect(listed.experiment).toBe(EXPERIMENT);
    expect(listed.runs.map((run) => run.info.run_id)).toEqual([gb.run_id, lr.run_id]);
    expect(jsonFieldProblems(listed)).toEqual([]);
    for (const [run, trained] of [
      [listed.runs[0]!, gb],
      [listed.runs[1]!, lr],
    ] as const) {
      expect(metric(run, 'cv_roc_auc')?.value).toBeCloseTo(
        trained.metrics.cross_validation!.mean.roc_auc!,
        12,
      );
      expect(metric(run, 'cv_accuracy')?.value).toBeCloseTo(
        trained.metrics.cross_validation!.mean.accuracy!,
        12,
      );
    }
    // Histories are reported by their latest value: the last boosting round.
    expect(metric(listed.runs[0]!, 'train_logloss')?.step).toBe(11);
    expect(filtered.runs.map((run) => run.info.run_id)).toEqual([gb.run_id]);
  });

  it('lists top-level runs with a count of their child runs (tuning trials); --all and --children show them', async () => {
    interface Listed {
      experiment: string;
      parent_run_id?: string;
      runs: RunAnswer[];
      child_run_counts: Record<string, number>;
      next_page_token: string | null;
      more: number;
    }
    const parentId = tuned.run_id!;
    const [parents, all, children, text, allText] = await Promise.all([
      onsetJsonAsync<Listed>(['runs', 'list', '-e', 'tuning']),
      onsetJsonAsync<Listed>(['runs', 'list', '-e', 'tuning', '--all']),
      onsetJsonAsync<Listed>(['runs', 'list', '--children', parentId]),
      onsetAsync(['runs', 'list', '-e', 'tuning']),
      onsetAsync(['runs', 'list', '-e', 'tuning', '--all']),
    ]);
    expect(parents.runs.map((run) => run.info.run_id)).toEqual([parentId]);
    expect(parents.child_run_counts).toEqual({ [parentId]: 3 });
    expect(parents).toMatchObject({ experiment: 'tuning', next_page_token: null, more: 0 });
    expect(all.runs).toHaveLength(4);
    expect(children.parent_run_id).toBe(parentId);
    expect(children.experiment).toBe('tuning');
    expect(children.runs).toHaveLength(3);
    for (const child of children.runs) expect(tag(child, 'mlflow.parentRunId')).toBe(parentId);
    expect(new Set(all.runs.map((run) => run.info.run_id))).toEqual(
      new Set([parentId, ...children.runs.map((run) => run.info.run_id)]),
    );
    // The table: the parent with its 3 children, and how to see them.
    expect(text.code, text.stderr).toBe(0);
    const header = text.stdout
      .split('\n')[0]!
      .trim()
      .split(/\s{2,}/);
    const row = text.stdout
      .split('\n')
      .find((line) => line.startsWith(parentId))!
      .trim()
      .split(/\s{2,}/);
    expect(row[header.indexOf('children')]).toBe('3');
    expect(text.stdout).toContain(
      "1 top-level run(s) in tuning; 3 child run(s) not shown (--all lists every run, --children RUN one run's)\n",
    );
    expect(allText.stdout).toContain('4 run(s) in tuning\n');
    expect(allText.stdout).not.toMatch(/not shown|more:/);
  });

  it('says how many runs follow a page and how to see them, at the default of 50 too', async () => {
    const [first, firstJson] = await Promise.all([
      onsetAsync(['runs', 'list', '--max-results', '1']),
      onsetJsonAsync<{ runs: RunAnswer[]; next_page_token: string | null; more: number }>([
        'runs',
        'list',
        '-n',
        '1',
      ]),
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(firstJson.runs.map((run) => run.info.run_id)).toEqual([gb.run_id]);
    expect(firstJson.more).toBe(1);
    const token = firstJson.next_page_token!;
    expect(first.stdout).toContain(`1 more: use --max-results 2 or --page-token ${token}\n`);
    const second = onsetJson<{ runs: RunAnswer[]; next_page_token: string | null; more: number }>([
      'runs',
      'list',
      '-n',
      '1',
      '--page-token',
      token,
    ]);
    expect(second.runs.map((run) => run.info.run_id)).toEqual([lr.run_id]);
    expect(second).toMatchObject({ next_page_token: null, more: 0 });

    // 52 runs in an experiment of their own: a page of 50, and the footer says 2 more.
    await withStore(async ({ tracking }) => {
      const experimentId = await tracking.createExperiment({ name: 'many' });
      for (let i = 0; i < 52; i++) {
        await tracking.createRun({ experimentId, runName: `run-${i}`, startTime: 1_000 + i });
      }
    });
    const many = onset(['runs', 'list', '-e', 'many']);
    expect(many.code, many.stderr).toBe(0);
    expect(many.stdout.split('\n').filter((line) => /^[0-9a-f]{32} /.test(line))).toHaveLength(50);
    expect(many.stdout).toMatch(
      /\n50 top-level run\(s\) in many\n2 more: use --max-results 52 or --page-token \S+\n$/,
    );
  });

  it('compares runs, marking the best cv_roc_auc with *', () => {
    const result = onset(['runs', 'compare', lr.run_id!, gb.run_id!]);
    expect(result.code, result.stderr).toBe(0);
    const header = result.stdout.split('\n').find((line) => line.startsWith('metric'));
    expect(header?.trim().split(/\s{2,}/)).toEqual(['metric (* best)', 'lr', 'gb']);
    const row = (key: string) => {
      const line = result.stdout.split('\n').find((l) => l.startsWith(`${key} `));
      expect(line, key).toBeDefined();
      return line!.trim().split(/\s{2,}/);
    };
    const lrAuc = lr.metrics.cross_validation!.mean.roc_auc!;
    const gbAuc = gb.metrics.cross_validation!.mean.roc_auc!;
    expect(lrAuc).not.toBe(gbAuc);
    const [, lrCell, gbCell] = row('cv_roc_auc');
    expect(lrCell!.endsWith(' *')).toBe(lrAuc > gbAuc);
    expect(gbCell!.endsWith(' *')).toBe(gbAuc > lrAuc);
    // Lower is better for losses.
    const lrLoss = lr.metrics.cross_validation!.mean.log_loss!;
    const gbLoss = gb.metrics.cross_validation!.mean.log_loss!;
    const [, lrLossCell, gbLossCell] = row('cv_log_loss');
    expect(lrLossCell!.endsWith(' *')).toBe(lrLoss < gbLoss);
    expect(gbLossCell!.endsWith(' *')).toBe(gbLoss < lrLoss);
    // Parameters of one family only are shown as – for the other.
    expect(row('max_depth')).toEqual(['max_depth', '–', '3']);
  });

  it('exits 1 with a clear message for an unknown run', () => {
    const missing = 'ffffffffffffffffffffffffffffffff';
    const result = onset(['runs', 'show', missing]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(missing);
    expect(result.stderr).toMatch(/not found/);
    expect(result.stderr).not.toMatch(/unexpected error|\n\s+at /);
  });
});

describe('onset models', () => {
  it('registers runs as versions, promotes (one version in Production, @champion following), keeps the stage history, sets aliases', async () => {
    const v1 = onsetJson<VersionAnswer>(['models', 'register', lr.run_id!]);
    expect(v1).toMatchObject({
      name: MODEL_NAME,
      version: '1',
      current_stage: 'None',
      run_id: lr.run_id,
      source: lr.model_source,
      creation_timestamp: expect.any(Number),
    });
    expect(jsonFieldProblems(v1)).toEqual([]);
    expect(v1.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(v1.metrics.cv_roc_auc).toBeCloseTo(lr.metrics.cross_validation!.mean.roc_auc!, 12);
    const v2text = onset(['models', 'register', gb.run_id!]);
    expect(v2text.code, v2text.stderr).toBe(0);
    expect(v2text.stdout).toContain(`registered ${MODEL_NAME} version 2 from run ${gb.run_id}`);

    // Independent writes, run at once: the store serialises them.
    const [first, alias] = await Promise.all([
      onsetAsync(['models', 'promote', MODEL_NAME, '1', '--stage', 'Production']),
      onsetAsync(['models', 'alias', MODEL_NAME, 'challenger', '2']),
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('version 1 is now in Production (@champion)');
    expect(alias.code, alias.stderr).toBe(0);
    expect(alias.stdout).toContain(`${MODEL_NAME}@challenger -> version 2`);
    // The champion is the Production version: it is not pointed elsewhere by hand.
    const champion = onset(['models', 'alias', MODEL_NAME, 'champion', '2']);
    expect(champion.code).toBe(2);
    expect(champion.stderr).toContain(`onset models promote ${MODEL_NAME} 2 --stage Production`);
    // Promoting to Production archives the version there (one Production version), and the alias follows.
    const second = onsetJson<VersionAnswer>([
      'models',
      'promote',
      MODEL_NAME,
      '2',
      '--stage',
      'Production',
      '--reason',
      'better cv_roc_auc',
    ]);
    expect(second).toMatchObject({
      version: '2',
      current_stage: 'Production',
      aliases: ['challenger', 'champion'],
    });
    const again = onset(['models', 'promote', MODEL_NAME, '2', '--stage', 'Production']);
    expect(again.stdout).toContain('version 2 is already in Production');
    // The card of a registered version says where the registry keeps it, and what it was trained on.
    const card = onset(['model', 'card', `models:/${MODEL_NAME}/Production`]);
    expect(card.code, card.stderr).toBe(0);
    expect(card.stdout).toContain(`# Model card: ${MODEL_NAME} version 2`);
    expect(card.stdout).toContain('- Version: 2 (stage Production)');
    expect(card.stdout).toContain(`- Training run: ${gb.run_id}`);
    expect(card.stdout).toContain(`- Read from: ${dataPath}`);
    // The run logged the card with its model, as Markdown and HTML too.
    const logged = join(home, 'artifacts', gb.experiment_id!, gb.run_id!, 'artifacts', 'report');
    expect(await readFile(join(logged, 'model-card.md'), 'utf8')).toMatch(/^# Model card: gbdt model\n/);
    expect(await readFile(join(logged, 'model-card.html'), 'utf8')).toMatch(/^<!doctype html>/);

    const shown = onsetJson<{
      model: Static<typeof RegisteredModelJson>;
      versions: VersionAnswer[];
      history: TransitionAnswer[];
    }>(['models', 'show', MODEL_NAME]);
    expect(jsonFieldProblems(shown)).toEqual([]);
    expect(shown.model.latest_versions.map((v) => `${v.version}:${v.current_stage}`).sort()).toEqual([
      '1:Archived',
      '2:Production',
    ]);
    // `models list` prints the registered models as MLflow's API does (registered-models/search).
    const models = onsetJson<Static<typeof RegisteredModelJson>[]>(['models', 'list']);
    expect(models).toEqual([shown.model]);
    const stageOf = (version: string) => shown.versions.find((v) => v.version === version)?.current_stage;
    expect(stageOf('1')).toBe('Archived');
    expect(stageOf('2')).toBe('Production');
    expect(shown.versions.find((v) => v.version === '2')?.aliases).toEqual(['challenger', 'champion']);
    const moves = shown.history.map((t) => `${t.version}:${t.from_stage}->${t.to_stage}`);
    expect(moves).toEqual(['1:None->Production', '2:None->Production', '1:Production->Archived']);
    const promotion = shown.history.find((t) => t.version === '2')!;
    expect(promotion.reason).toBe('better cv_roc_auc');
    expect(promotion.user.length).toBeGreaterThan(0);
    expect(promotion.timestamp).toEqual(expect.any(Number));
    const archived = shown.history.find((t) => t.version === '1' && t.to_stage === 'Archived')!;
    expect(archived.reason).toMatch(/version 2/);
  });

  it('refuses a stage that does not exist with exit 2, listing the stages', () => {
    const result = onset(['models', 'promote', MODEL_NAME, '1', '--stage', 'Shipped']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Shipped/);
    expect(result.stderr).toMatch(/Production/); // the allowed choices are listed
  });
});
