/**
 * Faults: `onset train` killed with SIGKILL, mid-fit and while it logs its run. Each must leave the model
 * file whole (the previous one, or the new one complete, never a part), the SQLite store intact, the run
 * failed the next time the stores open, and a new `onset train` working.
 *
 * The other faults of this folder's list that are tested elsewhere: a writer killed mid-batch
 * (test/tracking/sqlite-reliability.test.ts), runs of a dead process failed at open
 * (test/tracking/open-stores.test.ts), a pipeline killed mid-run (test/pipelines/runner.test.ts, "crash
 * recovery") and a full disk during an artifact write (test/contract/artifact-store.local.test.ts, EFBIG).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { generateDataset, writeKaggleCsv } from '../../src/data/generator/generator.js';
import { loadModelPath } from '../../src/ml/formats/mlflow-model.js';
import { saveModelDocument } from '../../src/ml/model-document.js';
import { trainOnDataset } from '../../src/ml/train-on-dataset.js';
import { ABANDONED_RUN_REASON, openOnsetStores } from '../../src/server/open-stores.js';
import { runArtifactPrefix } from '../../src/tracking/artifact-paths.js';
import { MODEL_ARTIFACT } from '../../src/tracking/training-logger.js';
import { startCli, waitFor } from '../support/child-process.js';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'onset-train-killed-'));
const dataPath = join(dir, 'train.csv');
const dataset = generateDataset({ rows: 600, seed: 7 });

/** A TCP server that accepts connections and never answers: an S3 endpoint that holds every request. */
let silent: Server;
let silentConnections = 0;

beforeAll(async () => {
  await writeKaggleCsv(dataPath, dataset);
  silent = createServer(() => {
    silentConnections++;
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  silent.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A previous model file at `path`, as an earlier `onset train` would have left it; returns its bytes. */
async function previousModel(path: string): Promise<Buffer> {
  await saveModelDocument(path, trainOnDataset(dataset, { estimator: 'logistic' }).document);
  return readFileSync(path);
}

describe('SIGKILL during onset train', () => {
  it('mid-fit: keeps the previous model file whole and leaves no run behind', async () => {
    const home = join(dir, 'mid-fit');
    const output = join(dir, 'mid-fit.json');
    const previous = await previousModel(output);
    const train = startCli(
      ['train', '-d', dataPath, '-m', 'gbdt', '--cv', '5', '-p', 'n_estimators=400', '-o', output],
      { env: { ONSET_HOME: home } },
    );
    // The first progress line comes after the first of 5 folds: the final fit and the write are far off.
    await waitFor(() => /cross-validating gbdt: \d+%/.test(train.stderr()), 25_000, 'the first fold', train);
    expect((await train.kill()).signal).toBe('SIGKILL');

    expect(readFileSync(output)).toEqual(previous);
    expect(readdirSync(dir).filter((name) => name.startsWith('mid-fit.json'))).toEqual(['mid-fit.json']);
    const stores = await openOnsetStores(resolveConfig({ home }));
    try {
      const experimentIds = (await stores.tracking.searchExperiments({})).items.map((e) => e.experimentId);
      expect((await stores.tracking.searchRuns({ experimentIds })).items).toEqual([]);
      expect(stores.abandonedRunsFailed).toBe(0);
    } finally {
      await stores.close();
    }
  }, 40_000);

  it('while logging its run: the model file is the new one, whole; the store is intact; the run is failed at the next open; a new onset train works', async () => {
    const home = join(dir, 'logging');
    const output = join(dir, 'logging.json');
    const previous = await previousModel(output);
    // An s3:// artifact root on the silent endpoint holds the child at its first artifact write, after it
    // has created its run and logged its params and metrics: the kill lands there, not by luck of timing.
    const { port } = silent.address() as { port: number };
    const train = startCli(['train', '-d', dataPath, '-m', 'gbdt', '-o', output, '--run-name', 'doomed'], {
      env: {
        ONSET_HOME: home,
        ONSET_ARTIFACT_URI: 's3://onset/artifacts',
        ONSET_S3_ENDPOINT: `http://127.0.0.1:${port}`,
        AWS_ACCESS_KEY_ID: 'fault',
        AWS_SECRET_ACCESS_KEY: 'fault',
        AWS_REGION: 'us-east-1',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
    const before = silentConnections;
    await waitFor(() => silentConnections > before, 25_000, 'the first artifact write', train);
    expect((await train.kill()).signal).toBe('SIGKILL');

    // The model file was written (atomically) before the run was logged: the new model, whole.
    expect(readFileSync(output)).not.toEqual(previous);
    expect((await loadModelPath(output)).document.estimator).toBe('gbdt');
    const raw = new Database(join(home, 'onset.db'));
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    const [left] = raw.prepare("SELECT run_uuid, status FROM runs WHERE name = 'doomed'").all() as {
      run_uuid: string;
      status: string;
    }[];
    raw.close();
    expect(left?.status).toBe('RUNNING');
    const runId = left!.run_uuid;

    const stores = await openOnsetStores(resolveConfig({ home }));
    try {
      expect(stores.abandonedRunsFailed).toBe(1);
      const run = await stores.tracking.getRun(runId);
      expect(run.info.status).toBe('FAILED');
      expect(run.info.endTime).not.toBeNull();
      expect(run.data.tags).toContainEqual({ key: 'onset.failure_reason', value: ABANDONED_RUN_REASON });
      // What was logged before the kill is there, whole: every metric of the one batch.
      expect(run.data.metrics.map((metric) => metric.key)).toContain('training_roc_auc');
      expect(run.data.params.length).toBeGreaterThan(0);
    } finally {
      await stores.close();
    }

    // A new onset train in the same home (its own artifact folder this time) logs a finished run.
    const again = runCli(['train', '-d', dataPath, '-m', 'logistic', '-o', output, '--json'], {
      env: { ONSET_HOME: home },
    });
    expect(again.code, again.stderr).toBe(0);
    const { run_id: newRunId } = JSON.parse(again.stdout) as { run_id: string };
    expect((await loadModelPath(output)).document.estimator).toBe('logistic');
    const reopened = await openOnsetStores(resolveConfig({ home }));
    try {
      expect(reopened.abandonedRunsFailed).toBe(0);
      const newRun = await reopened.tracking.getRun(newRunId);
      expect(newRun.info.status).toBe('FINISHED');
      const model = await reopened.artifacts.get(
        `${runArtifactPrefix(reopened.artifacts, newRun.info.artifactUri)}/${MODEL_ARTIFACT}`,
      );
      expect(model).toEqual(readFileSync(output));
      expect((await reopened.tracking.getRun(runId)).info.status).toBe('FAILED');
    } finally {
      await reopened.close();
    }
  }, 45_000);
});
