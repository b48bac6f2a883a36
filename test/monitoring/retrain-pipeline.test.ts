/**
 * The `retrain` pipeline on real stores: the original data plus the feedback-labelled predictions of
 * the prediction log (only those, only in the window, at most the cap, none with a missing value), the
 * training blocks and the promotion gate against the Production model of an earlier `train-all`.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { newPredictionId } from '../../src/monitoring/prediction-log/prediction-id.js';
import {
  type LoggedModel,
  type LoggedPrediction,
  predictionColumns,
} from '../../src/monitoring/prediction-log/prediction-log-store.js';
import { RETRAIN_PIPELINE, retrainPipeline } from '../../src/monitoring/retrain-pipeline.js';
import { BUILT_IN_PIPELINES, findPipeline } from '../../src/pipelines/builtin/catalog.js';
import type { PipelineDefinition } from '../../src/pipelines/pipeline.js';
import { PipelineService } from '../../src/pipelines/pipeline-service.js';
import type { PipelineRun } from '../../src/pipelines/pipeline-store.js';
import { runPipeline } from '../../src/pipelines/runner.js';
import { buildApp } from '../../src/server/app.js';
import type { OnsetStores } from '../../src/server/open-stores.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('retrain');
let stores: OnsetStores;
let retrain: PipelineDefinition;
const MODEL = 'parkinson-disease-prediction';
/** Small and quick: 400 built-in rows, 2 folds. */
const QUICK = { rows: 400, cv: 2 };
const DAY = 86_400_000;

const output = (run: PipelineRun, block: string) => run.blocks.find((b) => b.block === block)?.output;
const status = (run: PipelineRun, block: string) => run.blocks.find((b) => b.block === block)?.status;

const served: LoggedModel = {
  name: MODEL,
  version: '1',
  runId: 'a'.repeat(32),
  uri: `models:/${MODEL}/Production`,
  checksum: 'c'.repeat(64),
};

/** Logged predictions of generated patients (older by 20 s each from `newest`), with their true diagnosis. */
function predictions(rows: number, seed: number, newest: number, shift = 0) {
  const data = generateDataset({ rows, seed });
  const age = FEATURE_NAMES.indexOf('Age');
  return Array.from({ length: rows }, (_, i) => {
    const timestamp = newest - i * 20_000;
    const features = Float64Array.from(FEATURE_NAMES, (name) => data.columns[name][i]!);
    features[age] = Math.min(125, features[age]! + shift);
    const logged: LoggedPrediction = {
      predictionId: newPredictionId(timestamp),
      timestamp,
      model: served,
      features,
      probability: 0.5,
      diagnosis: 1,
      latencyMs: 1,
      source: 'http',
      patientKey: null,
    };
    return { logged, truth: data.target![i] as 0 | 1 };
  });
}

async function log(
  made: ReturnType<typeof predictions>,
  labelled: (index: number) => boolean = () => true,
): Promise<void> {
  await stores.predictionLog.appendPredictions(predictionColumns(made.map((p) => p.logged)));
  const feedback = made
    .filter((_, i) => labelled(i))
    .map((p) => ({ target: { predictionId: p.logged.predictionId }, diagnosis: p.truth }));
  const result = await stores.predictionLog.recordFeedback(feedback);
  expect(result.ok).toBe(true);
}

beforeAll(async () => {
  stores = temporary.stores;
  retrain = retrainPipeline(() => stores.predictionLog);
  const first = await runPipeline(findPipeline('train-all'), { stores, params: QUICK });
  expect(first.status, first.error ?? '').toBe('SUCCEEDED');
  expect(output(first, 'gate')).toMatchObject({ stage: 'Production', version: '1' });
}, 120_000);

describe('the retrain pipeline', () => {
  it('trains on the original data plus the feedback rows of the window, and the gate judges the challenger against Production', async () => {
    const now = Date.now();
    // In the window: 70 labelled patients, older ones first, of which the cap keeps the latest 60; 30
    // unlabelled ones; one labelled with a missing value among the latest; 20 labelled ones 40 days ago.
    await log(predictions(70, 101, now - 1_000, 15));
    await log(predictions(30, 102, now - 500, 15), () => false);
    const missing = predictions(1, 103, now - 100, 15);
    missing[0]!.logged.features[4] = Number.NaN;
    await log(missing);
    await log(predictions(20, 104, now - 40 * DAY, 15));

    const run = await runPipeline(retrain, {
      stores,
      params: { ...QUICK, feedback_max_rows: 60, alert_id: 'f'.repeat(32) },
      trigger: 'alert:OnsetDatasetDrift',
    });
    expect(run.status, run.error ?? '').toBe('SUCCEEDED');
    expect(run.trigger).toBe('alert:OnsetDatasetDrift');
    expect(run.params).toMatchObject({ alert_id: 'f'.repeat(32), feedback_window: '30d' });
    // The latest 60 labelled predictions of the window; the one with a missing value is left out.
    expect(output(run, 'feedback')).toEqual({
      rows: 59,
      positives: expect.any(Number),
      window: '30d',
      capped: true,
      skipped_missing: 1,
    });
    expect(status(run, 'enough-feedback')).toBe('SUCCEEDED');
    expect(output(run, 'combine')).toMatchObject({
      rows: 400 + 59,
      source: 'built-in:generated?rows=400&seed=42 + prediction-log:feedback?window=30d',
    });
    expect(output(run, 'split')).toMatchObject({ train_rows: 367, holdout_rows: 92 });
    for (const family of ['linear', 'logistic', 'gbdt', 'oblivious'])
      expect(status(run, `train-${family}`)).toBe('SUCCEEDED');
    expect(output(run, 'register')).toMatchObject({ name: MODEL, version: '2' });
    // The gate's decision, against Production version 1, on held-out rows neither model was trained on.
    const gate = output(run, 'gate')!;
    expect(gate).toMatchObject({ version: '2', stage: expect.stringMatching(/^(Production|Staging)$/) });
    expect(String(gate.reason)).toMatch(/Production version 1/);
    const version = await stores.registry.getModelVersion(MODEL, '2');
    expect(version.tags).toEqual(
      expect.arrayContaining([
        { key: 'onset.gate.stage', value: gate.stage },
        { key: 'onset.pipeline_run_id', value: run.runId },
      ]),
    );
    // The training runs record the combined rows: the feedback patients are among what they saw.
    const trained = await stores.tracking.getRun(run.links.find((l) => l.kind === 'tracking_run')!.target);
    expect(trained.data.tags).toEqual(expect.arrayContaining([{ key: 'onset.dataset.rows', value: '367' }]));
  }, 120_000);

  it('trains nothing without enough feedback rows, and says why', async () => {
    const run = await runPipeline(retrain, {
      stores,
      params: { ...QUICK, feedback_window: '1s', min_feedback_rows: 5 },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(output(run, 'feedback')).toMatchObject({ rows: 0, capped: false });
    for (const block of ['combine', 'split', 'train-gbdt', 'select', 'register', 'gate'])
      expect(status(run, block), block).toBe('SKIPPED');
    const logs = await stores.pipelines.getLogs(run.runId, { block: 'enough-feedback' });
    expect(logs.map((line) => line.message).join('\n')).toMatch(
      /0 feedback row\(s\) in the last 1s, fewer than min_feedback_rows=5: nothing new to train on/,
    );
  });

  it('fails at once on a window it cannot read, naming it', async () => {
    const run = await runPipeline(retrain, { stores, params: { ...QUICK, feedback_window: '30 days' } });
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatch(/block "feedback" failed.*window '30 days' is not a duration/);
    expect(status(run, 'load')).toBe('SUCCEEDED');
    expect(status(run, 'combine')).toBe('UPSTREAM_FAILED');
  });
});

describe('the retrain pipeline in the pipeline API', () => {
  let app: FastifyInstance;
  let service: PipelineService;
  beforeAll(async () => {
    service = new PipelineService({ stores, pipelines: [...BUILT_IN_PIPELINES, retrain] });
    app = await buildApp({ ...stores, pipelines: { service, store: stores.pipelines } });
  });
  afterAll(async () => {
    await service.close();
    await app.close();
  });

  it('is listed with its typed parameters and its blocks', async () => {
    const list = (await app.inject({ url: '/api/onset/pipelines' })).json() as {
      pipelines: { name: string }[];
    };
    expect(list.pipelines.map((p) => p.name)).toContain(RETRAIN_PIPELINE);
    const shown = (await app.inject({ url: '/api/onset/pipelines/retrain' })).json();
    expect(shown.params).toMatchObject({
      data: { type: 'string', default: '' },
      rows: { type: 'integer', default: 2105 },
      data_seed: { type: 'integer', default: 42 },
      feedback_window: { type: 'string', default: '30d' },
      feedback_max_rows: { type: 'integer', default: 100_000, min: 0 },
      min_feedback_rows: { type: 'integer', default: 1 },
      alert_id: { type: 'string', default: '' },
      margin: { type: 'number', default: 0 },
    });
    expect(shown.blocks.map((b: { name: string }) => b.name)).toEqual([
      'load',
      'feedback',
      'enough-feedback',
      'combine',
      'split',
      'train-oblivious',
      'train-gbdt',
      'train-logistic',
      'train-linear',
      'select',
      'register',
      'gate',
    ]);
    const combine = shown.blocks.find((b: { name: string }) => b.name === 'combine');
    expect(combine).toMatchObject({
      kind: 'transformer',
      inputs: {
        original: { from: 'load', type: 'data' },
        feedback: { from: 'feedback', type: 'feedback-rows' },
      },
      upstream: ['load', 'feedback', 'enough-feedback'],
    });
  });
});
