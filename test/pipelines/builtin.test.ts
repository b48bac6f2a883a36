import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateDataset, writeKaggleCsv } from '../../src/data/generator/generator.js';
import { referenceProfileOfRun } from '../../src/monitoring/drift/reference-profiles.js';
import { findPipeline } from '../../src/pipelines/builtin/catalog.js';
import { BUILT_IN_GOLDEN_CASES, makeGoldenCases } from '../../src/pipelines/builtin/golden-cases.js';
import type { PipelineRun } from '../../src/pipelines/pipeline-store.js';
import { runPipeline, startPipelineRun } from '../../src/pipelines/runner.js';
import type { OnsetStores } from '../../src/server/open-stores.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('builtin');
const home = temporary.home;
let stores: OnsetStores;
beforeAll(() => {
  stores = temporary.stores;
});

/** Small and quick: 500 built-in rows, 3 folds. */
const QUICK = { rows: 500, cv: 3 };
const outputs = (run: PipelineRun) =>
  Object.fromEntries(
    run.blocks.map((b) => [
      b.block,
      Object.fromEntries(
        Object.entries(b.output ?? {}).filter(([k]) => k !== 'model' && k !== 'run_id' && k !== 'version'),
      ),
    ]),
  );

describe('built-in pipelines', () => {
  it('ships golden cases that are exactly what the generator script makes', async () => {
    const path = join(home, 'golden.csv');
    await writeKaggleCsv(path, makeGoldenCases());
    expect(readFileSync(join(BUILT_IN_GOLDEN_CASES, 'generated.csv'), 'utf8')).toBe(
      readFileSync(path, 'utf8'),
    );
  });

  it('train-gbdt takes the primary metric and tunes on it (the command the CLI reference shows)', async () => {
    const run = await runPipeline(findPipeline('train-gbdt'), {
      stores,
      params: { rows: 300, cv: 2, trials: 2, metric: 'accuracy', model_name: 'tuned-gbdt' },
    });
    expect(run.status, run.error ?? '').toBe('SUCCEEDED');
    const link = run.links.find((l) => l.kind === 'tracking_run')!;
    const trials = await stores.tracking.searchRuns({
      experimentIds: [(await stores.tracking.getRun(link.target)).info.experimentId],
      filter: `tags.mlflow.parentRunId = '${link.target}'`,
    });
    expect(trials.items).toHaveLength(2);
    const parent = await stores.tracking.getRun(link.target);
    expect(parent.data.tags).toEqual(
      expect.arrayContaining([
        { key: 'onset.tuning.metric', value: 'accuracy' },
        { key: 'onset.tuning.trials', value: '2' },
      ]),
    );
  }, 60_000);

  it('train-all trains four families, logs their runs, registers the best and promotes it; reruns reproduce it', async () => {
    const pipeline = findPipeline('train-all');
    const run = await runPipeline(pipeline, { stores, params: QUICK });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.blocks.map((b) => b.status)).toEqual(Array(9).fill('SUCCEEDED'));
    const trackingRuns = run.links.filter((l) => l.kind === 'tracking_run');
    expect(trackingRuns.map((l) => l.block).sort()).toEqual([
      'train-gbdt',
      'train-linear',
      'train-logistic',
      'train-oblivious',
    ]);
    const trainRows = Number(run.blocks.find((b) => b.block === 'split')!.output!.train_rows);
    for (const link of trackingRuns) {
      const tracked = await stores.tracking.getRun(link.target);
      expect(tracked.data.tags).toContainEqual({ key: 'onset.pipeline_run_id', value: run.runId });
      expect(tracked.data.metrics.map((m) => m.key)).toEqual(
        expect.arrayContaining(['cv_roc_auc', 'holdout_roc_auc']),
      );
      // The reference for drift checks: the training part, with out-of-fold probabilities (made on a
      // worker thread and carried back whole).
      const profile = await referenceProfileOfRun(stores, link.target, link.block);
      expect(profile.trainingRows).toBe(trainRows);
      expect(profile.sample).toMatchObject({ rows: trainRows, probabilitySource: 'out_of_fold' });
    }
    const gate = run.blocks.find((b) => b.block === 'gate')!.output!;
    expect(gate).toMatchObject({ stage: 'Production', version: '1' });
    expect(run.links).toContainEqual({
      kind: 'model_version',
      target: 'parkinson-disease-prediction/1',
      block: 'register',
    });
    const production = await stores.registry.getLatestVersions('parkinson-disease-prediction', [
      'Production',
    ]);
    expect(production.map((v) => v.version)).toEqual(['1']);
    expect(production[0]!.metrics).toHaveProperty('holdout_roc_auc');

    // The same recorded parameters give the same models and metrics; the equal challenger stays in Staging.
    const again = await runPipeline(pipeline, { stores, params: run.params });
    expect(outputs(again)).toEqual({ ...outputs(run), gate: { ...outputs(again).gate } });
    expect(again.blocks.find((b) => b.block === 'gate')!.output).toMatchObject({
      stage: 'Staging',
      champion: gate.challenger,
      challenger: gate.challenger,
    });
  }, 60_000);

  it('fails at the loader on an invalid file, naming the row and column, and runs nothing after it', async () => {
    const path = join(home, 'bad.csv');
    await writeKaggleCsv(path, generateDataset({ rows: 50, seed: 1 }));
    const lines = readFileSync(path, 'utf8').split('\n');
    const header = lines[0]!.split(',');
    const cells = lines[3]!.split(',');
    cells[header.indexOf('Age')] = 'old';
    lines[3] = cells.join(',');
    writeFileSync(path, lines.join('\n'));
    const run = await runPipeline(findPipeline('train-gbdt'), { stores, params: { data: path } });
    expect(run.status).toBe('FAILED');
    expect(run.blocks.map((b) => b.status)).toEqual([
      'FAILED',
      'UPSTREAM_FAILED',
      'UPSTREAM_FAILED',
      'UPSTREAM_FAILED',
    ]);
    expect(run.error).toMatch(/block "load" failed after 1 attempt\(s\): .*row 3.*Age/s);
  });

  it('cancels train-all while it trains: the workers stop and the run is CANCELLED', async () => {
    const handle = await startPipelineRun(findPipeline('train-all'), {
      stores,
      params: { rows: 2000, trials: 20 },
      onEvent: (event) => {
        if (event.type === 'block-started' && event.block === 'train-oblivious')
          setTimeout(() => handle.cancel('test'), 300);
      },
    });
    const started = Date.now();
    const run = await handle.finished;
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.status).toBe('CANCELLED');
    expect(run.blocks.find((b) => b.block === 'train-oblivious')?.status).toBe('CANCELLED');
    expect(run.blocks.find((b) => b.block === 'gate')?.status).toBe('CANCELLED');
  }, 30_000);

  it('promote judges the newest version outside Production on fresh data', async () => {
    const trained = await runPipeline(findPipeline('train-gbdt'), {
      stores,
      params: { ...QUICK, data_seed: 9 },
    });
    expect(trained.status).toBe('SUCCEEDED');
    const version = trained.blocks.find((b) => b.block === 'register')!.output!.version;
    const run = await runPipeline(findPipeline('promote'), { stores, params: { rows: 400 } });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.blocks[1]!.output).toMatchObject({ version });
    const logs = await stores.pipelines.getLogs(run.runId, { block: 'gate' });
    expect(logs[0]!.message).toMatch(
      new RegExp(`judging parkinson-disease-prediction version ${version} \\(gbdt\\) on 400 rows`),
    );
  }, 60_000);
});
