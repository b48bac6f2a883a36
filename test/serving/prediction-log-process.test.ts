/**
 * The prediction log of `onset serve` and `onset up` as processes, as a user runs them over a temporary
 * home: N predictions then SIGTERM leave exactly N rows (nothing buffered is lost), a full queue drops
 * the newest and counts them, no patient id is anywhere in the database file, the patient keys stay the
 * same across restarts, a server beyond loopback needs ONSET_LOG_SECRET, and `onset up` deletes old
 * predictions at start and on its interval.
 */
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { serializeModelDocument } from '../../src/ml/model-document.js';
import { trainOnDataset } from '../../src/ml/train-on-dataset.js';
import { newPredictionId } from '../../src/monitoring/prediction-log/prediction-id.js';
import {
  type LoggedPrediction,
  predictionColumns,
} from '../../src/monitoring/prediction-log/prediction-log-store.js';
import { openOnsetStores } from '../../src/server/open-stores.js';
import { type Child, startCli, waitFor } from '../support/child-process.js';
import { runCliAsync } from '../support/cli.js';

const root = mkdtempSync(join(tmpdir(), 'onset-log-process-'));
const modelFile = join(root, 'model.json');
writeFileSync(
  modelFile,
  serializeModelDocument(
    trainOnDataset(generateDataset({ rows: 200, seed: 41 }), { estimator: 'logistic' }).document,
  ),
);
const probe = generateDataset({ rows: 40, seed: 42 });
const recordOf = (i: number) =>
  Object.fromEntries(FEATURE_NAMES.map((name) => [name, probe.columns[name][i % 40]!]));

const started: Child[] = [];
afterAll(async () => {
  for (const child of started) if (child.process.exitCode === null) await child.kill();
  rmSync(root, { recursive: true, force: true });
});

/** `onset serve` (or `up`) over `home` with `env`, resolved once it prints its address. */
async function start(
  home: string,
  env: NodeJS.ProcessEnv = {},
  command: 'serve' | 'up' = 'serve',
): Promise<{ child: Child; url: string }> {
  const child = startCli([command, '--port', '0', '--model', modelFile], {
    env: { ONSET_HOME: home, ...env },
  });
  started.push(child);
  let url = '';
  await waitFor(
    () => {
      url = /Onset is up on (http:\/\/[\d.:]+)\n[\s\S]*artifacts .*\n/.exec(child.stdout())?.[1] ?? '';
      return url !== '';
    },
    30_000,
    `onset ${command} to be up`,
    child,
  );
  return { child, url };
}

async function stop(child: Child): Promise<number | null> {
  child.process.kill('SIGTERM');
  return (await child.exited).code;
}

/** What the prediction and feedback routes answer, as far as these tests read it. */
interface Answer {
  readonly prediction_id: string;
  readonly status: string;
  readonly results: readonly { readonly prediction_id: string }[];
}

const post = async (url: string, body: unknown): Promise<{ status: number; body: Answer }> => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer };
};

function readLog(home: string): { predictionId: string; patientKey: string | null; source: string }[] {
  const db = new Database(join(home, 'onset.db'), { readonly: true });
  try {
    return (
      db.prepare('SELECT prediction_id, patient_key, source FROM prediction_log').all() as {
        prediction_id: string;
        patient_key: string | null;
        source: string;
      }[]
    ).map((row) => ({ predictionId: row.prediction_id, patientKey: row.patient_key, source: row.source }));
  } finally {
    db.close();
  }
}

/** Every byte the home's SQLite database is kept in (its WAL and shared memory too, when they are there). */
function databaseBytes(home: string): Buffer {
  return Buffer.concat(
    ['onset.db', 'onset.db-wal', 'onset.db-shm']
      .map((name) => join(home, name))
      .filter((path) => existsSync(path))
      .map((path) => readFileSync(path)),
  );
}

describe('the prediction log of a server process', () => {
  it('writes every prediction made before SIGTERM (exactly N rows), keys patients, and keeps the keys across restarts', async () => {
    const home = join(root, 'exact');
    // Nothing is written on the interval: every row comes from the flush at SIGTERM.
    const env = { ONSET_PREDICTION_LOG_FLUSH_MS: '3600000' };
    const { child, url } = await start(home, env);
    expect(child.stdout()).toMatch(
      /prediction log\s+on, patient ids kept as HMAC keys \(secret made and kept in .*log-secret\)/,
    );
    const answered: string[] = [];
    for (let i = 0; i < 25; i++) {
      const { status, body } = await post(`${url}/predict`, {
        data: recordOf(i),
        patient_id: `PATIENT-SECRET-${i}`,
      });
      expect(status).toBe(200);
      answered.push(body.prediction_id);
    }
    const batch = await post(`${url}/predict/batch`, {
      records: Array.from({ length: 15 }, (_, i) => ({
        data: recordOf(25 + i),
        patient_id: `PATIENT-SECRET-${25 + i}`,
      })),
    });
    expect(batch.status).toBe(200);
    answered.push(...batch.body.results.map((result) => result.prediction_id));
    const N = 40;
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^onset_prediction_log_queue_records ${N}$`, 'm'));
    expect(metrics).toMatch(/^onset_prediction_log_written_total 0$/m);

    expect(await stop(child)).toBe(0);
    const rows = readLog(home);
    expect(rows).toHaveLength(N);
    expect(rows.map((row) => row.predictionId).sort()).toEqual([...answered].sort());
    expect(rows.filter((row) => row.source === 'http_batch')).toHaveLength(15);

    // The secret is in the home, readable by its owner only, and keys each patient id.
    const secretFile = join(home, 'log-secret');
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    const secret = readFileSync(secretFile, 'utf8').trim();
    const keyOf = (id: string) => createHmac('sha256', secret).update(id).digest('hex');
    expect(new Set(rows.map((row) => row.patientKey))).toEqual(
      new Set(Array.from({ length: N }, (_, i) => keyOf(`PATIENT-SECRET-${i}`))),
    );
    // No patient id in clear, anywhere in the database's bytes or in what the server printed.
    const bytes = databaseBytes(home);
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.includes('PATIENT-SECRET')).toBe(false);
    expect(bytes.includes(Buffer.from('PATIENT-SECRET', 'utf16le'))).toBe(false);
    expect(child.stdout() + child.stderr()).not.toContain('PATIENT-SECRET');

    // After a restart the same patient gets the same key: feedback by patient_id finds earlier predictions.
    const again = await start(home, env);
    expect(again.child.stdout()).toMatch(/secret kept in .*log-secret/);
    const feedback = await post(`${again.url}/feedback`, { patient_id: 'PATIENT-SECRET-3', diagnosis: 1 });
    expect(feedback).toMatchObject({ status: 200, body: { prediction_id: answered[3], status: 'recorded' } });
    const { body } = await post(`${again.url}/predict`, {
      data: recordOf(3),
      patient_id: 'PATIENT-SECRET-3',
    });
    expect(await stop(again.child)).toBe(0);
    const after = readLog(home);
    expect(after).toHaveLength(N + 1);
    expect(after.find((row) => row.predictionId === body.prediction_id)?.patientKey).toBe(
      keyOf('PATIENT-SECRET-3'),
    );
    expect(databaseBytes(home).includes('PATIENT-SECRET')).toBe(false);
  }, 90_000);

  it('drops the newest when its queue is full, counts them in /metrics, and writes the rest at SIGTERM', async () => {
    const home = join(root, 'full');
    const { child, url } = await start(home, {
      ONSET_PREDICTION_LOG_FLUSH_MS: '3600000',
      ONSET_PREDICTION_LOG_QUEUE: '5',
      // The queue is each worker's: one process holds all 12 predictions' fate.
      ONSET_WORKERS: '1',
    });
    const answered: string[] = [];
    for (let i = 0; i < 12; i++) {
      const { status, body } = await post(`${url}/predict`, { data: recordOf(i) });
      // Every prediction is answered, logged or not.
      expect(status).toBe(200);
      answered.push(body.prediction_id);
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^onset_prediction_log_dropped_total\{reason="queue_full"\} 7$/m);
    expect(metrics).toMatch(/^onset_prediction_log_dropped_total\{reason="write_failed"\} 0$/m);
    expect(metrics).toMatch(/^onset_prediction_log_queue_records 5$/m);
    expect(await stop(child)).toBe(0);
    expect(
      readLog(home)
        .map((row) => row.predictionId)
        .sort(),
    ).toEqual(answered.slice(0, 5).sort());
  }, 60_000);

  it('serves without the log when told (--prediction-log off): no prediction_id, nothing logged', async () => {
    const home = join(root, 'off');
    const child = startCli(['serve', '--port', '0', '--model', modelFile, '--prediction-log', 'off'], {
      env: { ONSET_HOME: home },
    });
    started.push(child);
    await waitFor(() => /artifacts .*\n/.test(child.stdout()), 30_000, 'onset serve to be up', child);
    expect(child.stdout()).toMatch(/prediction log\s+off \(ONSET_PREDICTION_LOG=off\)/);
    const url = /Onset is up on (http:\/\/[\d.:]+)/.exec(child.stdout())![1]!;
    const { body } = await post(`${url}/predict`, { data: recordOf(0), patient_id: 'P-off' });
    expect(body).not.toHaveProperty('prediction_id');
    expect(await stop(child)).toBe(0);
    expect(readLog(home)).toEqual([]);
    expect(existsSync(join(home, 'log-secret'))).toBe(false);
  }, 60_000);

  it('refuses to listen beyond loopback with the log on and no ONSET_LOG_SECRET, in one line saying what to set', async () => {
    const refused = await runCliAsync(['serve', '--host', '0.0.0.0', '--port', '0', '--model', modelFile], {
      env: { ONSET_HOME: join(root, 'exposed'), ONSET_API_KEY: 'key', ONSET_ADMIN_TOKEN: 'token' },
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.split('\n').filter((line) => line.startsWith('onset:'))).toEqual([
      'onset: Onset would listen on 0.0.0.0, beyond this machine, with the prediction log on but no secret for its patient keys: set ONSET_LOG_SECRET (at least 32 characters, e.g. from openssl rand -hex 32; the same on every server sharing the store), or turn the log off with ONSET_PREDICTION_LOG=off.',
    ]);
  }, 60_000);

  it('onset up deletes predictions past ONSET_PREDICTION_LOG_MAX_AGE at start and then on its interval, feedback with them', async () => {
    const home = join(root, 'retention');
    const DAY = 86_400_000;
    const made = (daysAgo: number, count: number): LoggedPrediction[] =>
      Array.from({ length: count }, () => {
        const timestamp = Date.now() - daysAgo * DAY;
        return {
          predictionId: newPredictionId(timestamp),
          timestamp,
          model: { name: null, version: null, runId: null, uri: modelFile, checksum: null },
          features: new Float64Array(FEATURE_NAMES.length),
          probability: 0.25,
          diagnosis: 0,
          latencyMs: 1,
          source: 'http',
          patientKey: null,
        };
      });
    const stores = await openOnsetStores(resolveConfig({ home }, {}));
    const old = made(3, 4);
    const fresh = made(0.5, 2);
    await stores.predictionLog.appendPredictions(predictionColumns([...old, ...fresh]));
    await stores.predictionLog.recordFeedback([
      { target: { predictionId: old[0]!.predictionId }, diagnosis: 1 },
    ]);
    await stores.close();

    const { child } = await start(
      home,
      { ONSET_PREDICTION_LOG_MAX_AGE: '2d', ONSET_PREDICTION_LOG_RETENTION_INTERVAL: '1s' },
      'up',
    );
    expect(child.stdout()).toMatch(/prediction log\s+on, .*; kept 2d, at most 10000000 rows;/);
    const rows = () => readLog(home).map((row) => row.predictionId);
    await waitFor(() => rows().length === 2, 10_000, 'the first retention pass', child);
    expect(rows().sort()).toEqual(fresh.map((p) => p.predictionId).sort());
    const db = new Database(join(home, 'onset.db'), { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM prediction_feedback').get()).toEqual({ n: 0 });
    db.close();
    // Predictions written meanwhile that are already past the age go at a later pass.
    const writer = await openOnsetStores(resolveConfig({ home }, {}));
    await writer.predictionLog.appendPredictions(predictionColumns(made(5, 3)));
    await writer.close();
    await waitFor(() => rows().length === 2, 10_000, 'a later retention pass', child);
    expect(await stop(child)).toBe(0);
  }, 90_000);
});
