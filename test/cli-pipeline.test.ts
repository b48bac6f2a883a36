import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { requireTarget } from '../src/data/dataset.js';
import { generateDataset } from '../src/data/generator/generator.js';
import { trainOnDataset } from '../src/ml/train-on-dataset.js';
import { PipelineService } from '../src/pipelines/pipeline-service.js';
import { buildApp } from '../src/server/app.js';
import { openOnsetStores } from '../src/server/open-stores.js';
import { runCli } from './support/cli.js';
import { jsonFieldProblems } from './support/field-names.js';
import { loggedVersion, logScored, recordTruth } from './support/monitoring.js';

const home = mkdtempSync(join(tmpdir(), 'onset-cli-pipeline-'));
const env = { ONSET_HOME: home };
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('onset pipeline', () => {
  it('lists the pipelines and shows one as text and JSON', () => {
    const list = runCli(['pipeline', 'list'], { env });
    expect(list.code).toBe(0);
    for (const name of [
      'train-linear',
      'train-logistic',
      'train-gbdt',
      'train-oblivious',
      'train-all',
      'promote',
    ]) {
      expect(list.stdout).toContain(name);
    }
    const show = runCli(['pipeline', 'show', 'train-all'], { env });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/1\. load\s+loader/);
    expect(show.stdout).toMatch(
      /9\. gate\s+evaluator\s+registered: registered-model <- register, split: split <- split\s+=> decision/,
    );
    expect(show.stdout).toMatch(/margin\s+number\s+0/);
    const json = JSON.parse(runCli(['pipeline', 'show', 'promote', '--json'], { env }).stdout);
    expect(json.blocks.map((b: { name: string }) => b.name)).toEqual(['load', 'gate']);
    // An unknown pipeline is a usage error, as an unknown command is.
    const missing = runCli(['pipeline', 'show', 'train-everything'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/No pipeline "train-everything"; known pipelines: train-linear/);
  });

  it('runs a pipeline with live block lines, records it, and shows its runs and logs', () => {
    const run = runCli(
      ['pipeline', 'run', 'train-logistic', '--param', 'rows=300', '--param', 'cv=3', '--json'],
      { env },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /> load[\s\S]*OK load SUCCEEDED[\s\S]*\[train-logistic\] logistic: cv roc_auc/,
    );
    const recorded = JSON.parse(run.stdout);
    expect(recorded).toMatchObject({
      pipeline: 'train-logistic',
      status: 'SUCCEEDED',
      trigger: 'cli',
      params: { rows: 300, cv: 3 },
    });
    const runs = runCli(['pipeline', 'runs'], { env });
    expect(runs.stdout).toMatch(new RegExp(`${recorded.run_id}\\s+train-logistic\\s+SUCCEEDED`));
    const detail = runCli(['pipeline', 'runs', recorded.run_id], { env });
    expect(detail.stdout).toMatch(/register\s+SUCCEEDED/);
    expect(detail.stdout).toMatch(/model version\s+parkinson-disease-prediction\/1/);
    const logs = runCli(['pipeline', 'logs', recorded.run_id, 'split'], { env });
    expect(logs.stdout).toMatch(/split\s+INFO\s+240 training rows, 60 held out \(seed 42\)/);
    const noBlock = runCli(['pipeline', 'logs', recorded.run_id, 'fit'], { env });
    expect(noBlock.code).toBe(1);
    expect(noBlock.stderr).toMatch(/has no block "fit"; its blocks: load, split, train-logistic, register/);
    const rerun = runCli(['pipeline', 'run', 'train-logistic', '--rerun', recorded.run_id, '--json'], {
      env,
    });
    expect(JSON.parse(rerun.stdout)).toMatchObject({
      params: recorded.params,
      trigger: `rerun:${recorded.run_id}`,
    });
  }, 60_000);

  it("runs the retrain pipeline on the home's feedback-labelled prediction log, as onset up does", async () => {
    const patients = generateDataset({ rows: 200, seed: 11 });
    const stores = await openOnsetStores(resolveConfig({ home }));
    try {
      const { model } = trainOnDataset(generateDataset({ rows: 300, seed: 10 }), { estimator: 'logistic' });
      const logged = await logScored(
        stores.predictionLog,
        loggedVersion('served', '1', null),
        model,
        patients,
        (i) => Date.now() - 60_000 + i,
      );
      await recordTruth(stores.predictionLog, logged, requireTarget(patients), (i) => i % 2 === 0);
    } finally {
      await stores.close();
    }
    expect(runCli(['pipeline', 'list'], { env }).stdout).toMatch(
      /retrain\s+12\s+train-all on the original data plus/,
    );
    const run = runCli(
      [
        'pipeline',
        'run',
        'retrain',
        '--param',
        'rows=300',
        '--param',
        'cv=3',
        '--param',
        'model_name=retrained',
        '--json',
      ],
      { env },
    );
    expect(run.code, run.stderr).toBe(0);
    const recorded = JSON.parse(run.stdout);
    expect(recorded).toMatchObject({ pipeline: 'retrain', status: 'SUCCEEDED', trigger: 'cli' });
    const block = (name: string) => recorded.blocks.find((b: { block: string }) => b.block === name);
    expect(block('feedback').output).toMatchObject({ rows: 100, window: '30d' });
    expect(block('combine').output).toMatchObject({ rows: 400 });
    expect(block('gate').status).toBe('SUCCEEDED');
  }, 120_000);

  it('prints runs, logs and schedules with --json as the pipeline API answers them: snake_case fields', async () => {
    const recorded = JSON.parse(
      runCli(['pipeline', 'run', 'train-logistic', '--param', 'rows=200', '--param', 'cv=2', '--json'], {
        env,
      }).stdout,
    );
    expect(recorded).toMatchObject({ run_id: expect.any(String), start_time: expect.any(Number) });
    expect(recorded.blocks[0]).toMatchObject({ block: 'load', start_time: expect.any(Number) });
    const detail = JSON.parse(runCli(['pipeline', 'runs', recorded.run_id, '--json'], { env }).stdout);
    expect(detail).toEqual(recorded);
    const listed = JSON.parse(runCli(['pipeline', 'runs', '-n', '1', '--json'], { env }).stdout);
    expect(listed.runs).toEqual([recorded]);
    const logs = JSON.parse(runCli(['pipeline', 'logs', recorded.run_id, 'split', '--json'], { env }).stdout);
    expect(logs).toMatchObject({ run_id: recorded.run_id, logs: [{ block: 'split', attempt: 1 }] });
    const added = JSON.parse(
      runCli(['pipeline', 'schedule', 'add', 'promote', '--cron', '0 4 * * *', '--json'], { env }).stdout,
    );
    expect(added).toMatchObject({ schedule_id: expect.any(String), next_run_time: expect.any(Number) });
    const schedules = JSON.parse(runCli(['pipeline', 'schedule', 'list', '--json'], { env }).stdout);
    const show = JSON.parse(runCli(['pipeline', 'show', 'train-gbdt', '--json'], { env }).stdout);
    for (const printed of [recorded, listed, logs, added, schedules, show])
      expect(jsonFieldProblems(printed)).toEqual([]);

    // The same entities from the HTTP API, over the same home: one JSON shape each.
    const stores = await openOnsetStores(resolveConfig({ home }));
    const service = new PipelineService({ stores });
    const app = await buildApp({ ...stores, pipelines: { service, store: stores.pipelines } });
    try {
      const get = async (url: string) => (await app.inject({ url })).json();
      expect((await get(`/api/onset/pipeline-runs/${recorded.run_id}`)).run).toEqual(recorded);
      expect((await get(`/api/onset/pipeline-runs/${recorded.run_id}/logs?block=split`)).logs).toEqual(
        logs.logs,
      );
      expect(await get('/api/onset/schedules')).toEqual(schedules);
      expect(await get('/api/onset/pipelines/train-gbdt')).toEqual(show);
    } finally {
      await app.close();
      await service.close();
      await stores.close();
    }
    expect(runCli(['pipeline', 'schedule', 'remove', added.schedule_id], { env }).code).toBe(0);
  }, 60_000);

  it('exits 2 on wrong parameters (no run recorded) and 1 with the reason when a run fails', () => {
    const before = runCli(['pipeline', 'runs', '--json'], { env });
    const bad = runCli(['pipeline', 'run', 'train-gbdt', '--param', 'cv=one'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^onset: .*parameter "cv": expected a number, got "one"/);
    const malformed = runCli(['pipeline', 'run', 'train-gbdt', '--param', 'cv'], { env });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/^onset: --param takes name=value, got "cv"/);
    const unknown = runCli(['pipeline', 'run', 'train-gbdt', '--param', 'folds=3'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^onset: .*unknown parameter "folds"; known: data/);
    expect(runCli(['pipeline', 'runs', '--json'], { env }).stdout).toBe(before.stdout);
    const missingFile = runCli(['pipeline', 'run', 'train-gbdt', '--data', join(home, 'nope.csv')], { env });
    expect(missingFile.code).toBe(1);
    expect(missingFile.stdout).toMatch(/train-gbdt FAILED/);
    expect(missingFile.stdout).toMatch(/load\s+FAILED\s+1\s+.*nope\.csv/);
    expect(missingFile.stderr).toMatch(/^onset: pipeline run \w+ FAILED: .*nope\.csv/m);
  });

  it('adds, lists and removes schedules, refusing invalid cron expressions', () => {
    const invalid = runCli(['pipeline', 'schedule', 'add', 'train-all', '--cron', '0 25 * * *'], { env });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/Invalid schedule "0 25 \* \* \*"/);
    const added = JSON.parse(
      runCli(
        [
          'pipeline',
          'schedule',
          'add',
          'train-all',
          '--cron',
          '0 3 * * 1',
          '--param',
          'metric=accuracy',
          '--json',
        ],
        { env },
      ).stdout,
    );
    expect(added).toMatchObject({
      pipeline: 'train-all',
      cron: '0 3 * * 1',
      params: { metric: 'accuracy' },
      enabled: true,
    });
    expect(runCli(['pipeline', 'schedule', 'list'], { env }).stdout).toMatch(
      new RegExp(`${added.schedule_id}\\s+train-all\\s+0 3 \\* \\* 1 \\(UTC\\)\\s+yes`),
    );
    expect(runCli(['pipeline', 'schedule', 'disable', added.schedule_id], { env }).stdout).toMatch(
      /disabled/,
    );
    expect(runCli(['pipeline', 'schedule', 'remove', added.schedule_id], { env }).code).toBe(0);
    const gone = runCli(['pipeline', 'schedule', 'remove', added.schedule_id], { env });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/Schedule \w+ does not exist/);
  });
});
