import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../data/schema.js';
import type { SqlDatabase } from '../../store/sql-database.js';
import { openSqliteDatabase } from '../../store/sqlite-database.js';
import { newPredictionId } from './prediction-id.js';
import { applyRetention, RetentionJob, type RetentionPass } from './prediction-log-retention.js';
import { type LoggedPrediction, type PredictionLogStore, predictionColumns } from './prediction-log-store.js';
import { openPredictionLogStore } from './sql/sql-prediction-log-store.js';

const dir = mkdtempSync(join(tmpdir(), 'onset-log-retention-'));
let database: SqlDatabase;
let store: PredictionLogStore;
beforeAll(async () => {
  database = openSqliteDatabase(join(dir, 'log.db'));
  store = await openPredictionLogStore(database);
});
afterAll(async () => {
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;

/** `count` predictions made `daysAgo` days before now. */
function made(daysAgo: number, count: number): LoggedPrediction[] {
  const timestamp = Date.now() - daysAgo * DAY;
  return Array.from({ length: count }, () => ({
    predictionId: newPredictionId(timestamp),
    timestamp,
    model: { name: 'm', version: '1', runId: null, uri: 'models:/m/1', checksum: null },
    features: new Float64Array(FEATURE_NAMES.length),
    probability: 0.5,
    diagnosis: 1,
    latencyMs: 1,
    source: 'http',
    patientKey: null,
  }));
}

describe('retention of the prediction log', () => {
  it('deletes what is older than the age limit, then the oldest beyond the row limit', async () => {
    await store.appendPredictions(predictionColumns([...made(100, 3), ...made(50, 4), ...made(1, 5)]));
    const labelled = made(100, 1);
    await store.appendPredictions(predictionColumns(labelled));
    await store.recordFeedback([{ target: { predictionId: labelled[0]!.predictionId }, diagnosis: 0 }]);
    expect(await applyRetention(store, { maxAgeMs: 90 * DAY, maxRows: 6 })).toEqual({
      olderThan: 4,
      beyondRows: 3,
    });
    expect(await store.countPredictions({})).toBe(6);
    expect(await store.getLabel(labelled[0]!.predictionId)).toBeUndefined();
    expect(await applyRetention(store, {})).toEqual({ olderThan: 0, beyondRows: 0 });
    await store.deleteBeyondRows(0);
  });

  it('runs as a job once at start and then on its interval, until stopped', async () => {
    await store.appendPredictions(predictionColumns(made(10, 2)));
    const passes: RetentionPass[] = [];
    const job = new RetentionJob(
      store,
      { maxAgeMs: 7 * DAY },
      { intervalMs: 100, onPass: (pass) => passes.push(pass) },
    );
    expect(job.limited).toBe(true);
    job.start();
    await expect.poll(() => passes.length).toBeGreaterThanOrEqual(1);
    expect(passes[0]).toEqual({ olderThan: 2, beyondRows: 0 });
    // Predictions that age past the limit while it runs go at a later pass.
    await store.appendPredictions(predictionColumns(made(8, 3)));
    await expect.poll(() => store.countPredictions({}), { timeout: 3_000 }).toBe(0);
    await job.stop();
    const stopped = passes.length;
    await store.appendPredictions(predictionColumns(made(8, 1)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(passes.length).toBe(stopped);
    expect(await store.countPredictions({})).toBe(1);
    await store.deleteBeyondRows(0);
  });

  it('says a failed pass, and has nothing to do without limits', async () => {
    expect(new RetentionJob(store, {}, { intervalMs: 10 }).limited).toBe(false);
    const failures: unknown[] = [];
    // A store whose database is gone: each pass fails, and says so.
    const gone = openSqliteDatabase(join(dir, 'gone.db'));
    const broken = await openPredictionLogStore(gone);
    await gone.close();
    const job = new RetentionJob(
      broken,
      { maxAgeMs: DAY },
      { intervalMs: 60_000, onFailure: (error) => failures.push(error) },
    );
    await job.runNow();
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toMatch(/not open|destroyed|closed/i);
    await job.stop();
  });
});
