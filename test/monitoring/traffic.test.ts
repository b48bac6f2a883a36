/**
 * Traffic over time from the prediction log: the summary's figures on hand-made columns, and
 * `GET /api/onset/monitoring/traffic` over a real SQLite log, predictions made through `POST /predict`
 * included, with its checks on bad input.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { OnsetMetrics } from '../../src/monitoring/metrics.js';
import { PatientKeys } from '../../src/monitoring/prediction-log/patient-keys.js';
import { StoreSink } from '../../src/monitoring/prediction-log/prediction-batch.js';
import { newPredictionId } from '../../src/monitoring/prediction-log/prediction-id.js';
import {
  type LoggedPrediction,
  predictionColumns,
} from '../../src/monitoring/prediction-log/prediction-log-store.js';
import { PredictionLogWriter } from '../../src/monitoring/prediction-log/prediction-log-writer.js';
import { summarizeTraffic } from '../../src/monitoring/traffic/traffic-summary.js';
import { buildApp } from '../../src/server/app.js';
import { LiveModel } from '../../src/serving/live-model.js';
import { ADMIN_TOKEN } from '../rest/full-app.js';
import { trainAndPromote } from '../support/registry.js';
import { useTemporaryStores } from '../support/stores.js';

describe('summarizeTraffic', () => {
  it('counts, positives, labels, latency and probability quantiles per bucket, and the histogram', () => {
    // Two buckets of 10 ms: rows at 0, 5, 9 in the first, 12 in the second, 20 outside (to is exclusive).
    const summary = summarizeTraffic(
      {
        timestamp: Float64Array.of(0, 5, 9, 12, 20),
        latencyMs: Float64Array.of(1, 2, 10, 4, 100),
        probability: Float64Array.of(0.05, 0.5, 0.95, 1, 0.3),
        diagnosis: Float64Array.of(0, 1, 1, 1, 0),
        label: Float64Array.of(0, Number.NaN, 1, Number.NaN, 1),
      },
      { from: 0, to: 20, buckets: 2 },
    );
    expect(summary).toMatchObject({ stepMs: 10, predictions: 4, positive: 3, labelled: 2 });
    // 0.05 in [0, 0.1), 0.5 in [0.5, 0.6), 0.95 and 1 in the last bin.
    expect(summary.probabilityHistogram).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
    const [first, second] = summary.buckets;
    expect(first).toMatchObject({ start: 0, predictions: 3, positive: 2, labelled: 2 });
    // Linear interpolation between ranks: latencies 1, 2, 10 → p50 2, p95 at rank 1.9 → 2 + 0.9 × 8.
    expect(first!.latencyMs!.p50).toBe(2);
    expect(first!.latencyMs!.p95).toBeCloseTo(9.2, 12);
    expect(first!.probability!.mean).toBeCloseTo(0.5, 12);
    expect(first!.probability!.p10).toBeCloseTo(0.14, 12);
    expect(second).toMatchObject({ start: 10, predictions: 1, positive: 1, labelled: 0 });
    expect(second!.latencyMs).toEqual({ p50: 4, p95: 4 });
  });

  it('leaves an empty bucket empty, and refuses a window without buckets', () => {
    const empty = new Float64Array(0);
    const columns = {
      timestamp: empty,
      latencyMs: empty,
      probability: empty,
      diagnosis: empty,
      label: empty,
    };
    const summary = summarizeTraffic(columns, { from: 0, to: 10, buckets: 1 });
    expect(summary.buckets).toEqual([
      { start: 0, predictions: 0, positive: 0, labelled: 0, latencyMs: null, probability: null },
    ]);
    expect(() => summarizeTraffic(columns, { from: 0, to: 10, buckets: 0 })).toThrow(/buckets/);
    expect(() => summarizeTraffic(columns, { from: 10, to: 10, buckets: 1 })).toThrow(/to > from/);
  });
});

describe('GET /api/onset/monitoring/traffic', () => {
  const temporary = useTemporaryStores('traffic');
  const NAME = 'watched';
  const data = generateDataset({ rows: 300, seed: 41 });
  const record = Object.fromEntries(FEATURE_NAMES.map((name) => [name, data.columns[name][0]!]));
  let app: FastifyInstance;
  let writer: PredictionLogWriter;

  beforeAll(async () => {
    const { stores } = temporary;
    await trainAndPromote(stores, NAME, data, { n_estimators: 5, max_depth: 2 });
    const live = new LiveModel(`models:/${NAME}/Production`, stores, { pollMs: 0 });
    await live.start();
    const metrics = new OnsetMetrics({ processMetrics: false });
    writer = new PredictionLogWriter({
      sink: new StoreSink(stores.predictionLog, new PatientKeys('a-test-secret-of-at-least-32-characters')),
      metrics,
      flushMs: 3_600_000,
    });
    // Ninety minutes ago (outside a 1h window) and thirty minutes ago, of another model.
    const logged = (minutesAgo: number, probability: number, name: string): LoggedPrediction => {
      const timestamp = Date.now() - minutesAgo * 60_000;
      return {
        predictionId: newPredictionId(timestamp),
        timestamp,
        model: { name, version: '1', runId: null, uri: `models:/${name}/1`, checksum: null },
        features: Float64Array.from(FEATURE_NAMES, (feature) => data.columns[feature][1]!),
        probability,
        diagnosis: probability >= 0.5 ? 1 : 0,
        latencyMs: 3,
        source: 'http',
        patientKey: null,
      };
    };
    await stores.predictionLog.appendPredictions(
      predictionColumns([logged(90, 0.9, 'other'), logged(30, 0.2, 'other')]),
    );
    app = await buildApp({
      ...stores,
      pipelines: undefined,
      metrics,
      adminToken: ADMIN_TOKEN,
      serving: { live },
      monitoring: { store: stores.predictionLog, recorder: writer },
    });
  });
  afterAll(async () => {
    await app?.close();
    await writer?.close();
  });

  const get = (query: string, token = ADMIN_TOKEN) =>
    app.inject({
      method: 'GET',
      url: `/api/onset/monitoring/traffic${query}`,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  it('summarizes the window, every model or one, with the predictions just made', async () => {
    for (let i = 0; i < 3; i++) {
      expect(
        (await app.inject({ method: 'POST', url: '/predict', payload: { data: record } })).statusCode,
      ).toBe(200);
    }
    await writer.flush();
    const all = (await get('?window=1h&buckets=2')).json();
    expect(all).toMatchObject({ predictions: 4, labelled: 0, read_from: null });
    expect(all.to - all.from).toBe(3_600_000);
    expect(all.buckets).toHaveLength(2);
    // The other model's prediction 30 minutes ago is in the first half hour, ours in the second.
    expect(all.buckets.map((bucket: { predictions: number }) => bucket.predictions)).toEqual([1, 3]);
    expect(all.buckets[0].probability.mean).toBeCloseTo(0.2, 12);
    expect(all.probability_histogram.reduce((a: number, b: number) => a + b, 0)).toBe(4);

    const ours = (await get(`?window=1h&buckets=1&model=${NAME}&version=1`)).json();
    expect(ours.predictions).toBe(3);
    expect(ours.buckets[0].latency_ms.p95).toBeGreaterThan(0);
    // Two hours back reach the prediction of 90 minutes ago; by default the window is a day.
    expect((await get('?window=2h')).json().predictions).toBe(5);
    expect((await get('')).json().buckets).toHaveLength(48);
  });

  it('refuses a bad window, a version without its model, and a caller without the admin token', async () => {
    const bad = await get('?window=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/window 'yesterday' is not a duration/);
    expect((await get('?buckets=0')).statusCode).toBe(400);
    const version = await get('?version=1');
    expect(version.statusCode).toBe(400);
    expect(version.json().message).toMatch(/send model with it/);
    expect((await get('?window=1h', '')).statusCode).toBe(401);
  });
});
