import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../data/schema.js';
import type { SqlDatabase } from '../../store/sql-database.js';
import { openSqliteDatabase } from '../../store/sqlite-database.js';
import { OnsetMetrics } from '../metrics.js';
import { PatientKeys } from './patient-keys.js';
import { StoreSink } from './prediction-batch.js';
import type { LoggedModel, PredictionLogStore } from './prediction-log-store.js';
import { PredictionLogWriter, type PredictionToLog } from './prediction-log-writer.js';
import { openPredictionLogStore } from './sql/sql-prediction-log-store.js';

const dir = mkdtempSync(join(tmpdir(), 'onset-log-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = 's'.repeat(40);

let opened = 0;
async function freshStore(): Promise<{ database: SqlDatabase; store: PredictionLogStore }> {
  opened += 1;
  const database = openSqliteDatabase(join(dir, `log-${opened}.db`));
  return { database, store: await openPredictionLogStore(database) };
}

const MODEL: LoggedModel = { name: 'm', version: '3', runId: null, uri: 'models:/m/3', checksum: null };

function prediction(i: number, patientId: string | null = null): PredictionToLog {
  return {
    model: MODEL,
    features: Float64Array.from(FEATURE_NAMES, (_, j) => i + j),
    probability: (i % 10) / 10,
    diagnosis: i % 10 >= 5 ? 1 : 0,
    latencyMs: 0.5,
    source: 'stream',
    patientId,
  };
}

/** The value of a metric line, e.g. `onset_prediction_log_dropped_total{reason="queue_full"}`. */
async function metric(metrics: OnsetMetrics, series: string): Promise<number> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

const QUEUE_FULL = 'onset_prediction_log_dropped_total{reason="queue_full"}';
const WRITE_FAILED = 'onset_prediction_log_dropped_total{reason="write_failed"}';
const WRITTEN = 'onset_prediction_log_written_total';
const QUEUED = 'onset_prediction_log_queue_records';

describe('the prediction log writer', () => {
  it('answers ids at once and writes later, keying patient ids with the HMAC of the secret', async () => {
    const { database, store } = await freshStore();
    const metrics = new OnsetMetrics({ processMetrics: false });
    const writer = new PredictionLogWriter({
      sink: new StoreSink(store, new PatientKeys(SECRET)),
      metrics,
      flushMs: 3_600_000,
    });
    const ids = [writer.record(prediction(1, 'P-42')), writer.record(prediction(2))];
    expect(new Set(ids).size).toBe(2);
    expect(await store.countPredictions({})).toBe(0);
    expect(await metric(metrics, QUEUED)).toBe(2);
    await writer.flush();
    expect(await metric(metrics, QUEUED)).toBe(0);
    expect(await metric(metrics, WRITTEN)).toBe(2);
    const first = await store.getPrediction(ids[0]!);
    expect(first).toMatchObject({ source: 'stream', model: MODEL, probability: 0.1, diagnosis: 0 });
    expect(first.patientKey).toBe(createHmac('sha256', SECRET).update('P-42').digest('hex'));
    expect((await store.getPrediction(ids[1]!)).patientKey).toBeNull();
    await writer.close();
    await database.close();
  });

  it('writes a full batch without waiting for the interval, and whatever waits at close', async () => {
    const { database, store } = await freshStore();
    const writer = new PredictionLogWriter({
      sink: new StoreSink(store, new PatientKeys(SECRET)),
      flushMs: 3_600_000,
      batchSize: 4,
    });
    for (let i = 0; i < 3; i++) writer.record(prediction(i));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.countPredictions({})).toBe(0);
    writer.record(prediction(3));
    await expect.poll(() => store.countPredictions({})).toBe(4);
    for (let i = 0; i < 6; i++) writer.record(prediction(10 + i));
    await writer.close();
    expect(await store.countPredictions({})).toBe(10);
    expect(writer.queued).toBe(0);
    expect(() => writer.record(prediction(99))).toThrow(/closed/);
    await database.close();
  });

  it('drops the newest when its queue is full, and counts them', async () => {
    const { database, store } = await freshStore();
    const metrics = new OnsetMetrics({ processMetrics: false });
    const writer = new PredictionLogWriter({
      sink: new StoreSink(store, new PatientKeys(SECRET)),
      metrics,
      flushMs: 3_600_000,
      maxQueue: 3,
    });
    const ids = Array.from({ length: 7 }, (_, i) => writer.record(prediction(i)));
    expect(writer.queued).toBe(3);
    expect(await metric(metrics, QUEUE_FULL)).toBe(4);
    expect(await metric(metrics, QUEUED)).toBe(3);
    await writer.close();
    const kept = await store.listPredictions({});
    // The oldest three (made in the same ms, so listed in id order).
    expect(kept.items.map((p) => p.predictionId).sort()).toEqual(ids.slice(0, 3).sort());
    expect(await metric(metrics, WRITTEN)).toBe(3);
    expect(await metric(metrics, WRITE_FAILED)).toBe(0);
    await database.close();
  });

  it('tries a refused batch again at the next flushes, then drops and counts it', async () => {
    const { database, store } = await freshStore();
    const metrics = new OnsetMetrics({ processMetrics: false });
    const dropped: number[] = [];
    const writer = new PredictionLogWriter({
      sink: new StoreSink(store, new PatientKeys(SECRET)),
      metrics,
      flushMs: 3_600_000,
      maxAttempts: 2,
      onDropped: (_error, count) => dropped.push(count),
    });
    writer.record(prediction(2));
    writer.record(prediction(3));
    // The database closed underneath the writer: every write fails.
    await database.close();
    await writer.flush();
    expect(writer.queued).toBe(2);
    expect(await metric(metrics, WRITE_FAILED)).toBe(0);
    await writer.flush();
    expect(writer.queued).toBe(0);
    expect(dropped).toEqual([2]);
    expect(await metric(metrics, WRITE_FAILED)).toBe(2);
    await writer.close();
  });

  it('flush() writes what was recorded during a write under way, not only what that write began with', async () => {
    const { database, store } = await freshStore();
    const real = new StoreSink(store, new PatientKeys(SECRET));
    // The real sink, held at the first write until the test lets it go.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let writes = 0;
    const writer = new PredictionLogWriter({
      sink: {
        write: async (batch) => {
          if (writes++ === 0) await held;
          await real.write(batch);
        },
        close: () => real.close(),
      },
      flushMs: 3_600_000,
    });
    const first = writer.record(prediction(1));
    const underWay = writer.flush();
    // Recorded while the first write waits: a flush now must not answer before it is written.
    const second = writer.record(prediction(2));
    const flushed = writer.flush();
    release();
    await Promise.all([underWay, flushed]);
    expect((await store.getPrediction(first)).predictionId).toBe(first);
    expect((await store.getPrediction(second)).predictionId).toBe(second);
    await writer.close();
    database.close();
  });
});
