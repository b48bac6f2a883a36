/**
 * The prediction log through the HTTP API of a real app over real SQLite stores: every prediction path
 * records what it answered (`prediction_id`), and `POST /feedback` records the ground truth, refusing
 * unknown ids and conflicting labels without changing anything.
 */
import { createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { OnsetMetrics } from '../../src/monitoring/metrics.js';
import { PatientKeys } from '../../src/monitoring/prediction-log/patient-keys.js';
import { StoreSink } from '../../src/monitoring/prediction-log/prediction-batch.js';
import type { PredictionLogStore } from '../../src/monitoring/prediction-log/prediction-log-store.js';
import { PredictionLogWriter } from '../../src/monitoring/prediction-log/prediction-log-writer.js';
import { buildApp } from '../../src/server/app.js';
import { LiveModel } from '../../src/serving/live-model.js';
import { trainAndPromote } from '../support/registry.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('prediction-log');
const NAME = 'logged';
const SECRET = 'a-test-secret-of-at-least-32-characters';
const data = generateDataset({ rows: 300, seed: 31 });
const probe = generateDataset({ rows: 8, seed: 32 });
const recordOf = (i: number) =>
  Object.fromEntries(FEATURE_NAMES.map((name) => [name, probe.columns[name][i]!]));
const featuresOf = (i: number) => Float64Array.from(FEATURE_NAMES, (name) => probe.columns[name][i]!);
const keyOf = (patientId: string) => createHmac('sha256', SECRET).update(patientId).digest('hex');

let app: FastifyInstance;
let live: LiveModel;
let writer: PredictionLogWriter;
let store: PredictionLogStore;
let metrics: OnsetMetrics;

beforeAll(async () => {
  const { stores } = temporary;
  store = stores.predictionLog;
  await trainAndPromote(stores, NAME, data, { n_estimators: 10, max_depth: 3 });
  live = new LiveModel(`models:/${NAME}/Production`, stores, { pollMs: 0 });
  await live.start();
  metrics = new OnsetMetrics({ processMetrics: false });
  // Written only when asked (flush) or at close: what a test finds in the store, the route wrote.
  writer = new PredictionLogWriter({
    sink: new StoreSink(store, new PatientKeys(SECRET)),
    metrics,
    flushMs: 3_600_000,
  });
  app = await buildApp({
    ...stores,
    pipelines: undefined,
    metrics,
    serving: { live, batchLimit: 5 },
    monitoring: { store, recorder: writer, patientKeys: new PatientKeys(SECRET) },
  });
});
afterAll(async () => {
  await app?.close();
  await writer?.close();
});

const post = (url: string, payload: unknown) =>
  app.inject({ method: 'POST', url, payload: payload as object });

/** Every label and every logged prediction, to check that a refused call changed nothing. */
async function snapshot() {
  const predictions = await store.listPredictions({ maxResults: 1_000 });
  const labels = await store.listLabelledPredictions({ maxResults: 1_000 });
  return {
    predictions: predictions.items.map((p) => p.predictionId),
    labels: labels.items.map((p) => [p.predictionId, p.label]),
  };
}

describe('every prediction path records what it answered', () => {
  it('POST /predict answers a prediction_id and logs the record, the model, and a keyed patient id', async () => {
    const response = await post('/predict', { data: recordOf(0), patient_id: 'P-0001' });
    expect(response.statusCode).toBe(200);
    const answer = response.json();
    expect(answer.prediction_id).toMatch(/^[0-9a-f]{32}$/);
    expect(writer.queued).toBe(1);
    await writer.flush();
    const served = live.current()!;
    const logged = await store.getPrediction(answer.prediction_id);
    expect(logged).toEqual({
      predictionId: answer.prediction_id,
      timestamp: expect.any(Number),
      model: {
        name: NAME,
        version: '1',
        runId: served.runId,
        uri: `models:/${NAME}/Production`,
        checksum: served.checksum,
      },
      features: featuresOf(0),
      probability: answer.probability,
      diagnosis: answer.diagnosis,
      latencyMs: expect.any(Number),
      source: 'http',
      patientKey: keyOf('P-0001'),
    });
    expect(Math.abs(logged.timestamp - Date.now())).toBeLessThan(60_000);
    expect(logged.latencyMs).toBeGreaterThan(0);
    // A record without a patient id is logged without a key.
    const anonymous = (await post('/predict', { data: recordOf(1) })).json();
    await writer.flush();
    expect((await store.getPrediction(anonymous.prediction_id)).patientKey).toBeNull();
  });

  it('POST /predict/batch gives each valid record its own prediction_id (source http_batch); an invalid one none', async () => {
    const response = await post('/predict/batch', {
      records: [{ data: recordOf(2), patient_id: 'P-2' }, { data: { Age: 50 } }, { data: recordOf(3) }],
    });
    expect(response.statusCode).toBe(200);
    const [first, invalid, third] = response.json().results;
    expect(invalid.prediction_id).toBeUndefined();
    expect(first.prediction_id).not.toBe(third.prediction_id);
    await writer.flush();
    const logged = await Promise.all([first, third].map((r) => store.getPrediction(r.prediction_id)));
    expect(logged.map((p) => [p.source, p.probability, p.patientKey])).toEqual([
      ['http_batch', first.probability, keyOf('P-2')],
      ['http_batch', third.probability, null],
    ]);
    expect(logged[1]!.features).toEqual(featuresOf(3));
  });

  it('POST /explain and ?explain=true are predictions too', async () => {
    const explained = (await post('/explain', { data: recordOf(4) })).json();
    const asked = (await post('/predict?explain=true', { data: recordOf(5) })).json();
    await writer.flush();
    for (const answer of [explained, asked]) {
      expect(answer.explanation).toBeDefined();
      expect((await store.getPrediction(answer.prediction_id)).probability).toBe(answer.probability);
    }
  });

  it('a refused record is not logged, and the written predictions are counted', async () => {
    const before = await snapshot();
    expect((await post('/predict', { data: { ...recordOf(0), Age: -1 } })).statusCode).toBe(400);
    expect((await post('/predict/batch', { records: [] })).statusCode).toBe(400);
    await writer.flush();
    expect(await snapshot()).toEqual(before);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      new RegExp(`^onset_prediction_log_written_total ${before.predictions.length}$`, 'm'),
    );
    expect(text).toMatch(/^onset_prediction_log_dropped_total\{reason="queue_full"\} 0$/m);
    expect(text).toMatch(/^onset_prediction_log_queue_records 0$/m);
  });
});

describe('POST /feedback', () => {
  /** A new logged prediction's answer (not yet written: the route writes what waits first). */
  const predict = async (i: number, patientId?: string) =>
    (await post('/predict', { data: recordOf(i), ...(patientId ? { patient_id: patientId } : {}) })).json();

  it('labels a prediction by its id at once; the same label again is unchanged', async () => {
    const answer = await predict(0);
    expect(writer.queued).toBe(1);
    const first = await post('/feedback', { prediction_id: answer.prediction_id, diagnosis: 1 });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({
      prediction_id: answer.prediction_id,
      diagnosis: 1,
      status: 'recorded',
      recorded_at: expect.any(Number),
    });
    const again = await post('/feedback', { prediction_id: answer.prediction_id, diagnosis: 1 });
    expect(again.json()).toEqual({ ...first.json(), status: 'unchanged' });
    expect(await store.getLabel(answer.prediction_id)).toEqual({
      diagnosis: 1,
      recordedAt: first.json().recorded_at,
    });
  });

  it("labels a patient's latest prediction by patient_id", async () => {
    const older = await predict(1, 'P-feedback');
    const latest = await predict(2, 'P-feedback');
    const response = await post('/feedback', { patient_id: 'P-feedback', diagnosis: 0 });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ prediction_id: latest.prediction_id, status: 'recorded' });
    expect(await store.getLabel(older.prediction_id)).toBeUndefined();
  });

  it('refuses an unknown id (404) and a conflicting label (naming what was recorded), changing nothing', async () => {
    const answer = await predict(3, 'P-conflict');
    await post('/feedback', { prediction_id: answer.prediction_id, diagnosis: 0 });
    const before = await snapshot();
    const unknown = await post('/feedback', { prediction_id: '0'.repeat(32), diagnosis: 1 });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: `No prediction with prediction_id ${'0'.repeat(32)} is in the prediction log; nothing was recorded`,
    });
    const nobody = await post('/feedback', { patient_id: 'P-never-seen', diagnosis: 1 });
    expect(nobody.statusCode).toBe(404);
    expect(nobody.json().message).toMatch(
      /^No prediction for patient_id "P-never-seen" is in the prediction log/,
    );
    for (const target of [{ prediction_id: answer.prediction_id }, { patient_id: 'P-conflict' }]) {
      const conflict = await post('/feedback', { ...target, diagnosis: 1 });
      expect(conflict.statusCode).toBe(400);
      expect(conflict.json().error_code).toBe('RESOURCE_ALREADY_EXISTS');
      expect(conflict.json().message).toMatch(
        new RegExp(
          `^Prediction ${answer.prediction_id} already has diagnosis 0 \\(recorded at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\); a recorded diagnosis is not changed, so 1 is refused; nothing was recorded$`,
        ),
      );
    }
    expect(await snapshot()).toEqual(before);
  });

  it('records a batch whole, or none of it when any record is refused, naming each by index', async () => {
    const answers = await Promise.all([predict(4), predict(5), predict(6, 'P-batch')]);
    const accepted = await post('/feedback', {
      records: [
        { prediction_id: answers[0].prediction_id, diagnosis: 1 },
        { patient_id: 'P-batch', diagnosis: 0 },
      ],
    });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toEqual({
      recorded: 2,
      unchanged: 0,
      results: [
        {
          index: 0,
          prediction_id: answers[0].prediction_id,
          diagnosis: 1,
          status: 'recorded',
          recorded_at: expect.any(Number),
        },
        {
          index: 1,
          prediction_id: answers[2].prediction_id,
          diagnosis: 0,
          status: 'recorded',
          recorded_at: expect.any(Number),
        },
      ],
    });
    const before = await snapshot();
    const refused = await post('/feedback', {
      records: [
        { prediction_id: answers[1].prediction_id, diagnosis: 1 },
        { prediction_id: 'f'.repeat(32), diagnosis: 1 },
        { prediction_id: answers[0].prediction_id, diagnosis: 1 },
        { prediction_id: answers[0].prediction_id, diagnosis: 0 },
        { patient_id: 'P-nobody', diagnosis: 0 },
      ],
    });
    expect(refused.statusCode).toBe(400);
    const body = refused.json();
    expect(body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(body.message).toMatch(
      /^3 of 5 feedback records cannot be recorded, so none was: records\[1\]: no prediction with prediction_id f{32}/,
    );
    expect(body.errors).toEqual([
      {
        field: 'records.1.prediction_id',
        message: `no prediction with prediction_id ${'f'.repeat(32)} is in the prediction log`,
        reason: 'unknown_id',
      },
      {
        field: 'records.3.diagnosis',
        message: expect.stringMatching(
          new RegExp(`^prediction ${answers[0].prediction_id} already has diagnosis 1 \\(recorded at `),
        ),
        reason: 'conflicting_value',
      },
      {
        field: 'records.4.patient_id',
        message: 'no prediction for patient_id "P-nobody" is in the prediction log',
        reason: 'unknown_id',
      },
    ]);
    // The valid first record was not recorded either.
    expect(await snapshot()).toEqual(before);
    expect(await store.getLabel(answers[1].prediction_id)).toBeUndefined();
  });

  it('refuses a malformed feedback, saying what to send', async () => {
    const before = await snapshot();
    const cases: [unknown, string, string][] = [
      [{ diagnosis: 1 }, 'prediction_id', 'missing'],
      [{ prediction_id: 'a'.repeat(32) }, 'diagnosis', 'missing'],
      [{ prediction_id: 'a'.repeat(32), patient_id: 'P', diagnosis: 1 }, 'patient_id', 'invalid'],
      [{ prediction_id: 'not-an-id', diagnosis: 1 }, 'prediction_id', 'wrong_format'],
      [{ prediction_id: 'a'.repeat(32), diagnosis: 2 }, 'diagnosis', 'not_allowed'],
      [{ prediction_id: 'a'.repeat(32), diagnosis: 1, label: 1 }, 'label', 'unknown_field'],
      [{ records: [] }, 'records', 'too_few'],
      [
        { records: Array.from({ length: 6 }, () => ({ prediction_id: 'a'.repeat(32), diagnosis: 1 })) },
        'records',
        'too_many',
      ],
      [{ records: [{ prediction_id: 'a'.repeat(32) }] }, 'records.0.diagnosis', 'missing'],
      [{ records: [{ prediction_id: 'a'.repeat(32), diagnosis: 1 }], diagnosis: 1 }, 'diagnosis', 'invalid'],
    ];
    for (const [payload, field, reason] of cases) {
      const response = await post('/feedback', payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().errors, JSON.stringify(payload)).toContainEqual(
        expect.objectContaining({ field, reason }),
      );
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('without the log', () => {
  it('answers no prediction_id, and feedback by patient_id needs the secret', async () => {
    const { stores } = temporary;
    const bare = await buildApp({
      ...stores,
      pipelines: undefined,
      serving: { live },
      monitoring: { store },
    });
    try {
      const answer = (
        await bare.inject({ method: 'POST', url: '/predict', payload: { data: recordOf(0) } })
      ).json();
      expect(answer).not.toHaveProperty('prediction_id');
      const refused = await bare.inject({
        method: 'POST',
        url: '/feedback',
        payload: { patient_id: 'P-0001', diagnosis: 1 },
      });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().errors).toEqual([
        {
          field: 'patient_id',
          message:
            'feedback by patient_id needs the prediction log secret (ONSET_LOG_SECRET), which this server has not: send the prediction_id',
          reason: 'invalid',
        },
      ]);
    } finally {
      await bare.close();
    }
  });
});
