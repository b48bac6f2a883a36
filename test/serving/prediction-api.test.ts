import { writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { createMatrix } from '../../src/math/matrix.js';
import { type CalibratedModel, uncalibrated } from '../../src/ml/calibration/calibrated-model.js';
import { predictionSet, thresholdsFor } from '../../src/ml/calibration/conformal.js';
import { OnsetMetrics } from '../../src/monitoring/metrics.js';
import { buildApp } from '../../src/server/app.js';
import { LiveModel } from '../../src/serving/live-model.js';
import { trainAndPromote } from '../support/registry.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('serving');
const NAME = 'served';
const data = generateDataset({ rows: 400, seed: 12 });
const probe = generateDataset({ rows: 5, seed: 13 });
const recordOf = (i: number) =>
  Object.fromEntries(FEATURE_NAMES.map((name) => [name, probe.columns[name][i]!]));

let app: FastifyInstance;
let live: LiveModel;
let metrics: OnsetMetrics;

const registerAndPromote = (
  params: Record<string, unknown>,
  options: Parameters<typeof trainAndPromote>[4] = {},
) => trainAndPromote(temporary.stores, NAME, data, params, options);

beforeAll(async () => {
  const { stores } = temporary;
  // The first version chose its threshold (missing a patient costs 3 false alarms): not 0.5.
  await trainAndPromote(
    stores,
    NAME,
    data,
    { n_estimators: 20, max_depth: 3 },
    {
      threshold: { kind: 'cost_ratio', ratio: 3 },
    },
  );
  live = new LiveModel(`models:/${NAME}/Production`, stores, { pollMs: 0 });
  await live.start();
  metrics = new OnsetMetrics({ processMetrics: false });
  app = await buildApp({ ...stores, pipelines: undefined, metrics, serving: { live, batchLimit: 3 } });
});
afterAll(async () => {
  await app?.close();
});

const predict = (payload: unknown, url = '/predict') =>
  app.inject({ method: 'POST', url, payload: payload as object });

describe('POST /predict', () => {
  it('answers the original record shape with the probability, the diagnosis at the model threshold, the prediction set and the model that made it', async () => {
    const response = await predict({ data: recordOf(0), patient_id: 'P-0001' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    const expected = live.current()!.model.predictProba(
      createMatrix(
        Float64Array.from(FEATURE_NAMES, (n) => probe.columns[n][0]!),
        1,
        32,
      ),
    )[0]!;
    // The model's conformal thresholds for the patient's subgroups give the set its probability falls in.
    const conformal = live.current()!.document.conformal!;
    expect(conformal.by_subgroup).toBeDefined();
    const thresholds = thresholdsFor(
      conformal,
      Float64Array.from(FEATURE_NAMES, (n) => probe.columns[n][0]!),
    );
    const threshold = live.current()!.document.threshold!;
    expect(threshold.value).not.toBe(0.5);
    expect(body).toEqual({
      patient_id: 'P-0001',
      probability: expected,
      diagnosis: expected >= threshold.value ? 1 : 0,
      out_of_distribution: [],
      prediction_set: [...predictionSet(expected, thresholds)],
      threshold: {
        value: threshold.value,
        policy: 'cost:3',
        description: 'the lowest cost when a missed diagnosis costs 3 false ones',
      },
      model: { name: NAME, version: '1', run_id: live.current()!.runId },
    });
    // A batch is diagnosed at the same threshold, and names it.
    const probabilities = live.current()!.model.predictProba(
      createMatrix(
        Float64Array.from(
          { length: 3 * 32 },
          (_, k) => probe.columns[FEATURE_NAMES[k % 32]!][Math.floor(k / 32)]!,
        ),
        3,
        32,
      ),
    );
    const batch = (
      await predict({ records: [0, 1, 2].map((i) => ({ data: recordOf(i) })) }, '/predict/batch')
    ).json();
    expect(batch.threshold.value).toBe(threshold.value);
    expect(batch.results.map((r: { diagnosis: number }) => r.diagnosis)).toEqual(
      Array.from(probabilities, (p) => (p >= threshold.value ? 1 : 0)),
    );
  });

  it('accepts binary and categorical codes as numeric strings, as the original examples send them', async () => {
    const record = {
      ...recordOf(1),
      Gender: String(recordOf(1).Gender),
      Ethnicity: String(recordOf(1).Ethnicity),
      Tremor: String(recordOf(1).Tremor),
    };
    const [asStrings, asNumbers] = await Promise.all([
      predict({ data: record }),
      predict({ data: recordOf(1) }),
    ]);
    expect(asStrings.statusCode).toBe(200);
    expect(asStrings.json().probability).toBe(asNumbers.json().probability);
    expect(asStrings.json().patient_id).toBeNull();
  });

  it.each([
    [
      'a missing feature',
      { Age: undefined },
      { field: 'data.Age', reason: 'missing', message: 'is required' },
    ],
    ['an unknown field', { Height: 180 }, { field: 'data.Height', reason: 'unknown_field' }],
    [
      'a wrong type',
      { Age: 'sixty' },
      {
        field: 'data.Age',
        reason: 'wrong_type',
        message: 'must be a number or a numeric string ("71"); got "sixty"',
      },
    ],
    ['a boolean for a number', { BMI: true }, { field: 'data.BMI', reason: 'wrong_type' }],
    ['an empty string', { MoCA: '' }, { field: 'data.MoCA', reason: 'missing' }],
    [
      'a negative age',
      { Age: -3 },
      {
        field: 'data.Age',
        reason: 'out_of_range',
        message: 'must be between 0 and 125 years (what is possible); got -3',
      },
    ],
    [
      'a MoCA above 30, as a string',
      { MoCA: '31' },
      {
        field: 'data.MoCA',
        reason: 'out_of_range',
        message: 'must be between 0 and 30 score (what is possible); got "31"',
      },
    ],
    ['an unknown code', { Ethnicity: 7 }, { field: 'data.Ethnicity', reason: 'unknown_code' }],
    ['an unknown code as a string', { Gender: '2' }, { field: 'data.Gender', reason: 'unknown_code' }],
    ['a non-finite value as a string', { Tremor: 'NaN' }, { field: 'data.Tremor', reason: 'wrong_type' }],
    [
      'an overflowing number as a string',
      { BMI: '1e999' },
      { field: 'data.BMI', reason: 'out_of_range', message: 'must be a finite number; got "1e999"' },
    ],
    ['hexadecimal', { UPDRS: '0x1F' }, { field: 'data.UPDRS', reason: 'wrong_type' }],
  ])('refuses %s with 400 and the field', async (_what, change, problem) => {
    const record: Record<string, unknown> = { ...recordOf(2), ...change };
    for (const [key, value] of Object.entries(change)) if (value === undefined) delete record[key];
    const response = await predict({ data: record });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
      errors: [expect.objectContaining(problem)],
    });
  });

  it('lists every problem of a record at once', async () => {
    const response = await predict({
      data: { ...recordOf(2), Age: 'x', BMI: 999, Smoking: 3, Extra: 1 },
      patient_id: 5,
    });
    expect(response.statusCode).toBe(400);
    const fields = response
      .json()
      .errors.map((e: { field: string }) => e.field)
      .sort();
    expect(fields).toEqual(['data.Age', 'data.BMI', 'data.Extra', 'data.Smoking', 'patient_id']);
  });

  it('refuses malformed JSON, a body without data, unknown top-level fields and bodies over the limit', async () => {
    const malformed = await app.inject({
      method: 'POST',
      url: '/predict',
      payload: '{"data": {',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().message).toMatch(/not valid JSON/);
    expect((await predict({ patient_id: 'x' })).json().errors).toEqual([
      { field: 'data', message: expect.stringMatching(/^is required: send \{"data": /), reason: 'missing' },
    ]);
    expect((await predict({ data: recordOf(0), extra: 1 })).json().errors[0]).toMatchObject({
      field: 'extra',
      reason: 'unknown_field',
    });
    const huge = await predict({ data: recordOf(0), patient_id: 'x'.repeat(100_000) });
    expect(huge.statusCode).toBe(413);
  });

  it('adds per-feature contributions that add up to the margin with /explain or ?explain=true', async () => {
    for (const url of ['/explain', '/predict?explain=true']) {
      const body = (await predict({ data: recordOf(3) }, url)).json();
      const sum =
        body.explanation.bias +
        Object.values(body.explanation.contributions as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(Object.keys(body.explanation.contributions)).toEqual([...FEATURE_NAMES]);
      expect(1 / (1 + Math.exp(-sum))).toBeCloseTo(body.probability, 6);
    }
  });
});

describe('POST /predict/batch', () => {
  it('scores the valid records and reports the invalid ones by index', async () => {
    const response = await predict(
      {
        records: [
          { data: recordOf(0), patient_id: 'a' },
          { data: { ...recordOf(1), MoCA: 31 } },
          { data: recordOf(2), patient_id: 'c' },
        ],
      },
      '/predict/batch',
    );
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ valid: 2, invalid: 1, model: { name: NAME, version: '1' } });
    expect(body.results[0]).toMatchObject({ index: 0, patient_id: 'a' });
    expect(body.results[1]).toEqual({
      index: 1,
      errors: [
        {
          field: 'data.MoCA',
          message: 'must be between 0 and 30 score (what is possible); got 31',
          reason: 'out_of_range',
        },
      ],
    });
    expect(body.results[2]).toMatchObject({ index: 2, patient_id: 'c' });
    const single = (await predict({ data: recordOf(2) })).json();
    expect(body.results[2].probability).toBe(single.probability);
  });

  it('refuses more records than the limit, and an empty list', async () => {
    const tooMany = await predict(
      { records: [0, 1, 2, 3].map(() => ({ data: recordOf(0) })) },
      '/predict/batch',
    );
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().errors[0]).toMatchObject({ field: 'records' });
    expect((await predict({ records: [] }, '/predict/batch')).statusCode).toBe(400);
  });
});

describe('model status, swaps and metrics', () => {
  it('is ready with a model, and reports it', async () => {
    expect((await app.inject({ url: '/ready' })).json()).toMatchObject({
      status: 'ready',
      model: { version: '1' },
    });
    const model = (await app.inject({ url: '/model' })).json();
    expect(model).toMatchObject({
      name: NAME,
      version: '1',
      stage: 'Production',
      estimator: 'gbdt',
      uri: `models:/${NAME}/Production`,
    });
    expect(model.checksum).toMatch(/^[0-9a-f]{64}$/);
    // How the threshold was chosen, with its out-of-fold figures.
    expect(model.threshold).toMatchObject({ policy: 'cost:3', held_out: { rows: data.rowCount } });
    expect(model.threshold.reason).toContain('the lowest out-of-fold cost');
  });

  it('swaps in a new Production version, and keeps the old one when the new one cannot load', async () => {
    // The second is calibrated by Venn-Abers: its answers add the pair (p0, p1) around the probability.
    const second = await registerAndPromote(
      { n_estimators: 30, max_depth: 2 },
      { calibration: 'venn_abers' },
    );
    await live.check();
    expect((await app.inject({ url: '/model' })).json().version).toBe(second.version);
    const answer = (await predict({ data: recordOf(0) })).json();
    expect(answer.model.version).toBe(second.version);
    const served = live.current()!.model as CalibratedModel;
    const row = Float64Array.from(FEATURE_NAMES, (n) => probe.columns[n][0]!);
    const own = uncalibrated(served).predictProba(createMatrix(row, 1, 32))[0]!;
    expect(answer.probability_interval).toEqual(served.calibration.intervalOne(own));
    const [p0, p1] = answer.probability_interval as [number, number];
    expect(p0).toBeLessThanOrEqual(answer.probability);
    expect(answer.probability).toBeLessThanOrEqual(p1);
    const batch = (
      await predict({ records: [0, 1].map((i) => ({ data: recordOf(i) })) }, '/predict/batch')
    ).json();
    expect(batch.results[0].probability_interval).toEqual(answer.probability_interval);
    expect(batch.results[1].probability_interval).toHaveLength(2);
    // A third version whose artifact is replaced after registration: its checksum no longer matches.
    const third = await registerAndPromote({ n_estimators: 5 });
    writeFileSync(new URL(`${third.artifactUri}/model/model.json`), '{"tampered": true}');
    await live.check();
    expect((await app.inject({ url: '/model' })).json().version).toBe(second.version);
    const text = (await app.inject({ url: '/metrics' })).body;
    expect(text).toMatch(/^onset_model_reloads_total 1$/m);
    expect(text).toMatch(/^onset_model_reload_failures_total 1$/m);
    expect(text).toMatch(
      new RegExp(
        `^onset_model_info\\{name="${NAME}",version="${second.version}",stage="Production"\\} 1$`,
        'm',
      ),
    );
  });

  it('counts requests, predictions and validation errors in /metrics', async () => {
    const fresh = new OnsetMetrics({ processMetrics: false });
    const counted = await buildApp({
      ...temporary.stores,
      pipelines: undefined,
      metrics: fresh,
      serving: { live },
    });
    const post = (payload: object) => counted.inject({ method: 'POST', url: '/predict', payload });
    await post({ data: recordOf(0) });
    await post({ data: recordOf(1) });
    await post({ data: { ...recordOf(0), Age: 'x', BMI: 999 } });
    await counted.inject({ url: '/no/such/route' });
    await counted.inject({ url: '/ready' });
    const text = (await counted.inject({ url: '/metrics' })).body;
    await counted.close();
    const predicted = [
      ...text.matchAll(/^onset_predictions_total\{model_version="\d+",predicted_class="[01]"\} (\d+)$/gm),
    ].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(predicted).toBe(2);
    expect(text).toMatch(/^onset_http_requests_total\{route="\/predict",method="POST",status="200"\} 2$/m);
    expect(text).toMatch(/^onset_http_requests_total\{route="\/predict",method="POST",status="400"\} 1$/m);
    expect(text).toMatch(/^onset_http_requests_total\{route="unmatched",method="GET",status="404"\} 1$/m);
    expect(text).toMatch(/^onset_http_requests_total\{route="\/ready",method="GET",status="200"\} 1$/m);
    expect(text).toMatch(/^onset_validation_errors_total\{reason="wrong_type"\} 1$/m);
    expect(text).toMatch(/^onset_validation_errors_total\{reason="out_of_range"\} 1$/m);
    expect(text).toMatch(/^onset_prediction_probability_count 2$/m);
    expect(text).toMatch(/^onset_model_inference_duration_seconds_count 2$/m);
    expect(text).toMatch(/^onset_http_request_duration_seconds_bucket\{le="0.005",route="\/predict"/m);
  });

  it('needs the API key when one is set, and is not ready before a model loads', async () => {
    const guarded = await buildApp({
      ...temporary.stores,
      pipelines: undefined,
      serving: { live, apiKey: 'k3y' },
    });
    expect(
      (await guarded.inject({ method: 'POST', url: '/predict', payload: { data: recordOf(0) } })).statusCode,
    ).toBe(401);
    expect(
      (
        await guarded.inject({
          method: 'POST',
          url: '/predict',
          payload: { data: recordOf(0) },
          headers: { 'x-api-key': 'k3y' },
        })
      ).statusCode,
    ).toBe(200);
    await guarded.close();
    const waiting = new LiveModel('models:/nothing-yet/Production', temporary.stores, { pollMs: 0 });
    const idle = await buildApp({ ...temporary.stores, pipelines: undefined, serving: { live: waiting } });
    expect((await idle.inject({ url: '/ready' })).statusCode).toBe(503);
    const refused = await idle.inject({ method: 'POST', url: '/predict', payload: { data: recordOf(0) } });
    expect(refused.statusCode).toBe(503);
    expect(refused.json().message).toMatch(/No model is loaded yet/);
    expect((await idle.inject({ url: '/health' })).statusCode).toBe(200);
    await idle.close();
  });

  it('documents the routes in OpenAPI at /docs', async () => {
    const spec = (await app.inject({ url: '/docs/json' })).json();
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/predict', '/predict/batch', '/explain', '/ready', '/model']),
    );
    const body = spec.paths['/predict'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(body.properties.data.properties)).toEqual([...FEATURE_NAMES]);
    const docs = await app.inject({ url: '/docs/json' });
    // Helmet's headers on what a browser opens; the JSON answers carry nosniff and no-store themselves.
    expect(docs.headers).toMatchObject({
      'x-frame-options': 'SAMEORIGIN',
      'x-content-type-options': 'nosniff',
    });
    const answer = await predict({ data: recordOf(0) });
    expect(answer.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    expect((await app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
  });
});
