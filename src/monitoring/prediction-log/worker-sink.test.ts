import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../data/schema.js';
import { openSqliteDatabase } from '../../store/sqlite-database.js';
import { privateSocketPath, SocketSink } from './log-socket.js';
import type { PredictionBatch } from './prediction-batch.js';
import { newPredictionId } from './prediction-id.js';
import type { LoggedModel } from './prediction-log-store.js';
import { FEATURE_COUNT, NUMBERS_PER_PREDICTION } from './prediction-log-store.js';
import { openPredictionLogStore } from './sql/sql-prediction-log-store.js';
import { WorkerSink } from './worker-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'onset-log-worker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = 'w'.repeat(40);
const MODEL: LoggedModel = {
  name: 'm',
  version: '2',
  runId: null,
  uri: 'models:/m/2',
  checksum: 'c'.repeat(64),
};

function batch(count: number, at: number, patient: (i: number) => string | null): PredictionBatch {
  const numbers = new Float64Array(count * NUMBERS_PER_PREDICTION);
  const features = new Float64Array(count * FEATURE_COUNT);
  for (let i = 0; i < count; i++) {
    numbers.set([at + i, i / count, 0.5, i % 2], i * NUMBERS_PER_PREDICTION);
    for (let j = 0; j < FEATURE_COUNT; j++) features[i * FEATURE_COUNT + j] = i * 100 + j;
  }
  return {
    count,
    ids: Array.from({ length: count }, (_, i) => newPredictionId(at + i)),
    patientIds: Array.from({ length: count }, (_, i) => patient(i)),
    sources: Array.from({ length: count }, (_, i) => (i % 2 ? 'http' : 'http_batch')),
    models: [MODEL],
    modelIndex: Array.from({ length: count }, () => 0),
    numbers,
    features,
  };
}

describe('the worker sink', () => {
  it('writes batches from its own thread, keying patient ids there, and keeps the batch whole', async () => {
    const path = join(dir, 'log.db');
    const database = openSqliteDatabase(path);
    const store = await openPredictionLogStore(database);
    const sink = await WorkerSink.start({ databaseUri: `sqlite:${path}`, secret: SECRET });
    const at = Date.UTC(2026, 1, 1);
    const sent = batch(300, at, (i) => (i % 3 === 0 ? null : `patient-ü-${i}`));
    await sink.write(sent);
    // The batch's arrays were copied over, not moved: it can be sent again if a write fails.
    expect(sent.features.length).toBe(300 * FEATURE_COUNT);
    await sink.write(batch(2, at + 1_000, () => 'P'));
    await sink.close();
    expect(await store.countPredictions({})).toBe(302);
    const logged = await store.getPrediction(sent.ids[4]!);
    expect(logged).toEqual({
      predictionId: sent.ids[4],
      timestamp: at + 4,
      model: MODEL,
      features: Float64Array.from(FEATURE_NAMES, (_, j) => 400 + j),
      probability: 4 / 300,
      latencyMs: 0.5,
      diagnosis: 0,
      source: 'http_batch',
      patientKey: createHmac('sha256', SECRET).update('patient-ü-4').digest('hex'),
    });
    expect((await store.getPrediction(sent.ids[3]!)).patientKey).toBeNull();
    await database.close();
  });

  it('rejects a batch the database refuses, with the reason, and goes on writing', async () => {
    const path = join(dir, 'refused.db');
    const database = openSqliteDatabase(path);
    const store = await openPredictionLogStore(database);
    const sink = await WorkerSink.start({ databaseUri: path, secret: SECRET });
    const good = batch(3, 5_000, () => null);
    await sink.write(good);
    await expect(sink.write(good)).rejects.toThrow(/UNIQUE|constraint/i);
    await sink.write(batch(2, 9_000, () => null));
    await sink.close();
    expect(await store.countPredictions({})).toBe(5);
    await database.close();
  });

  it('says why when it cannot open the database', async () => {
    await expect(WorkerSink.start({ databaseUri: 'mysql://nowhere/x', secret: SECRET })).rejects.toThrow(
      /prediction log cannot open its database: Unsupported store URI/,
    );
  });
});

describe("the worker sink's socket, for a cluster's workers", () => {
  it('takes batches from other processes, each answered once written, and writes them as its own', async () => {
    const path = join(dir, 'socket.db');
    const database = openSqliteDatabase(path);
    const store = await openPredictionLogStore(database);
    const socket = await privateSocketPath();
    const sink = await WorkerSink.start({ databaseUri: path, secret: SECRET, socketPath: socket.path });
    const first = new SocketSink(socket.path, 10_000);
    const second = new SocketSink(socket.path, 10_000);
    const sent = batch(500, 20_000, (i) => (i % 2 ? `patient-${i}` : null));
    await Promise.all([
      first.write(sent),
      second.write(batch(3, 30_000, () => 'P')),
      sink.write(batch(1, 40_000, () => null)),
    ]);
    expect(await store.countPredictions({})).toBe(504);
    const logged = await store.getPrediction(sent.ids[7]!);
    expect(logged.features).toEqual(Float64Array.from(FEATURE_NAMES, (_, j) => 700 + j));
    expect(logged.patientKey).toBe(createHmac('sha256', SECRET).update('patient-7').digest('hex'));
    // A refused batch is refused to the process that sent it, with the database's reason.
    await expect(first.write(sent)).rejects.toThrow(/UNIQUE|constraint/i);
    await first.write(batch(2, 50_000, () => null));
    await Promise.all([first.close(), second.close()]);
    await sink.close();
    await socket.remove();
    expect(await store.countPredictions({})).toBe(506);
    await database.close();
  });

  it('lives in a folder only this user can enter, removed after', async () => {
    const socket = await privateSocketPath();
    const folder = join(socket.path, '..');
    if (process.platform !== 'win32') expect(statSync(folder).mode & 0o777).toBe(0o700);
    await socket.remove();
    expect(existsSync(folder)).toBe(false);
  });

  it('fails a write, saying so, while nothing listens, and connects again once something does', async () => {
    const path = join(dir, 'late.db');
    const database = openSqliteDatabase(path);
    const store = await openPredictionLogStore(database);
    const socket = await privateSocketPath();
    const client = new SocketSink(socket.path, 10_000);
    await expect(client.write(batch(1, 60_000, () => null))).rejects.toThrow(
      /prediction log's writing thread cannot be reached/,
    );
    const sink = await WorkerSink.start({ databaseUri: path, secret: SECRET, socketPath: socket.path });
    await client.write(batch(2, 61_000, () => null));
    // The thread stops: the connection breaks, and a thread started at the same path takes the next write.
    await sink.close();
    await expect(client.write(batch(1, 62_000, () => null))).rejects.toThrow(/writing thread/);
    const again = await WorkerSink.start({ databaseUri: path, secret: SECRET, socketPath: socket.path });
    await client.write(batch(1, 63_000, () => null));
    await client.close();
    await again.close();
    await socket.remove();
    expect(await store.countPredictions({})).toBe(3);
    await database.close();
  });

  it('ends a connection that sends what is not a batch, and goes on taking the others', async () => {
    const path = join(dir, 'garbage.db');
    const database = openSqliteDatabase(path);
    const store = await openPredictionLogStore(database);
    const socket = await privateSocketPath();
    const sink = await WorkerSink.start({ databaseUri: path, secret: SECRET, socketPath: socket.path });
    const stranger = net.connect(socket.path);
    const ended = new Promise<void>((resolve) => stranger.on('close', () => resolve()));
    stranger.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    await ended;
    const client = new SocketSink(socket.path, 10_000);
    await client.write(batch(4, 70_000, () => null));
    await client.close();
    await sink.close();
    await socket.remove();
    expect(await store.countPredictions({})).toBe(4);
    await database.close();
  });
});
