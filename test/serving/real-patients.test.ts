/**
 * What a new user sends in the first hour: real patients outside the training data (scored, and flagged),
 * numbers written as strings, and rows copied from the data file. The prediction API must score what is
 * possible, refuse what is not in words that say how to send it, and never repeat DoctorInCharge.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generator/generator.js';
import {
  type ContinuousFeature,
  FEATURE_NAMES,
  FEATURES,
  type Feature,
  type FeatureName,
} from '../../src/data/schema.js';
import { serializeModelDocument } from '../../src/ml/model-document.js';
import { OnsetMetrics } from '../../src/monitoring/metrics.js';
import { buildApp } from '../../src/server/app.js';
import { LiveModel } from '../../src/serving/live-model.js';
import { trainAndPromote } from '../support/registry.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('real-patients');
const NAME = 'first-hour';
const training = generateDataset({ rows: 300, seed: 21 });
const probe = generateDataset({ rows: 3, seed: 22 });
const features = (i: number): Record<FeatureName, number> =>
  Object.fromEntries(FEATURE_NAMES.map((name) => [name, probe.columns[name][i]!])) as Record<
    FeatureName,
    number
  >;
/** A row of the data file as a user copies it: PatientID, the features, Diagnosis and DoctorInCharge. */
const SECRET_DOCTOR = 'Dr. Jane Confidential-Name';
const fileRow = (i: number) => ({
  PatientID: Number(probe.patientIds![i]),
  ...features(i),
  Diagnosis: probe.target![i]!,
  DoctorInCharge: SECRET_DOCTOR,
});

let app: FastifyInstance;
let live: LiveModel;
let metrics: OnsetMetrics;
const fileHome = mkdtempSync(join(tmpdir(), 'onset-real-patients-file-'));

beforeAll(async () => {
  await trainAndPromote(temporary.stores, NAME, training, { n_estimators: 10, max_depth: 3 });
  live = new LiveModel(`models:/${NAME}/Production`, temporary.stores, { pollMs: 0 });
  await live.start();
  metrics = new OnsetMetrics({ processMetrics: false });
  app = await buildApp({ ...temporary.stores, pipelines: undefined, metrics, serving: { live } });
});
afterAll(async () => {
  await app?.close();
  rmSync(fileHome, { recursive: true, force: true });
});

const predict = (payload: unknown, url = '/predict') =>
  app.inject({ method: 'POST', url, payload: payload as object });

/** The range the served model's own training rows cover for a feature (its report's profile). */
function observedRange(name: FeatureName): { min: number; max: number } {
  const profile = live.current()!.document.report!.data.profile.features.find((f) => f.name === name)!;
  return { min: profile.min!, max: profile.max! };
}

describe('a real patient outside the training data', () => {
  it.each([45, 91, 30, 110])('scores a patient aged %d and names Age as out of distribution', async (age) => {
    const response = await predict({ data: { ...features(0), Age: age }, patient_id: 'P-old' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.probability).toBeGreaterThanOrEqual(0);
    expect(body.out_of_distribution).toEqual([
      { feature: 'Age', value: age, training_range: observedRange('Age') },
    ]);
  });

  it('judges by the ranges of the served model’s own training rows, which /model reports', async () => {
    // A feature whose training rows did not reach the schema's documented minimum: that minimum is
    // possible and documented, yet unlike anything this model saw.
    const narrower = (FEATURES as readonly Feature[]).find(
      (f): f is ContinuousFeature =>
        f.kind === 'continuous' && observedRange(f.name as FeatureName).min > f.training.min,
    )!;
    expect(narrower).toBeDefined();
    const name = narrower.name as FeatureName;
    const schemaMin = narrower.training.min;
    const body = (await predict({ data: { ...features(0), [name]: schemaMin } })).json();
    expect(body.out_of_distribution).toEqual([
      { feature: name, value: schemaMin, training_range: observedRange(name) },
    ]);
    const model = (await app.inject({ url: '/model' })).json();
    expect(model.training_ranges.source).toBe('model');
    expect(model.training_ranges.features.Age).toEqual(observedRange('Age'));
    expect(Object.keys(model.training_ranges.features)).toHaveLength(15);
  });

  it('judges a model that recorded no ranges by the schema’s, and says so', async () => {
    // The served model's document without its report, as an imported model would come.
    const { document } = live.current()!;
    const { report: _report, ...withoutReport } = document;
    const path = join(fileHome, 'no-report.json');
    writeFileSync(path, serializeModelDocument(withoutReport as typeof document));
    const fileLive = new LiveModel(path, undefined, { pollMs: 0 });
    await fileLive.start();
    const fileApp = await buildApp({
      ...temporary.stores,
      pipelines: undefined,
      serving: { live: fileLive },
    });
    try {
      const body = (
        await fileApp.inject({
          method: 'POST',
          url: '/predict',
          payload: { data: { ...features(1), Age: 91 } },
        })
      ).json();
      expect(body.out_of_distribution).toEqual([
        { feature: 'Age', value: 91, training_range: { min: 50, max: 90 } },
      ]);
      expect((await fileApp.inject({ url: '/model' })).json().training_ranges).toMatchObject({
        source: 'schema',
        features: { Age: { min: 50, max: 90 }, SleepQuality: { min: 4, max: 10 } },
      });
    } finally {
      await fileApp.close();
    }
  });

  it('accepts every numeric feature as a numeric string, with the same answer as numbers', async () => {
    const asNumbers = features(1);
    const asStrings = Object.fromEntries(
      Object.entries(asNumbers).map(([name, value]) => [name, String(value)]),
    );
    const [strings, numbers] = await Promise.all([
      predict({ data: asStrings }),
      predict({ data: asNumbers }),
    ]);
    expect(strings.statusCode).toBe(200);
    expect(strings.json().probability).toBe(numbers.json().probability);
    const seventyOne = await predict({ data: { ...asNumbers, Age: '71', Gender: '1', MoCA: ' 21.5 ' } });
    expect(seventyOne.statusCode).toBe(200);
    const batch = await predict({ records: [{ data: asStrings }, { data: asNumbers }] }, '/predict/batch');
    expect(batch.json()).toMatchObject({ valid: 2, invalid: 0 });
    expect(batch.json().results[0].probability).toBe(numbers.json().probability);
  });

  it('flags values outside the training data in a batch, record by record, and counts them by feature', async () => {
    const counted = new OnsetMetrics({ processMetrics: false });
    const countedApp = await buildApp({
      ...temporary.stores,
      pipelines: undefined,
      metrics: counted,
      serving: { live },
    });
    try {
      const response = await countedApp.inject({
        method: 'POST',
        url: '/predict/batch',
        payload: {
          records: [
            { data: { ...features(0), Age: 45, BMI: 45 } },
            { data: features(1) },
            { data: { ...features(2), Age: '92' } },
            { data: { ...features(2), Age: -1 } },
          ],
        },
      });
      const body = response.json();
      expect(body).toMatchObject({ valid: 3, invalid: 1 });
      expect(body.results[0].out_of_distribution.map((o: { feature: string }) => o.feature)).toEqual([
        'Age',
        'BMI',
      ]);
      expect(body.results[1].out_of_distribution).toEqual([]);
      expect(body.results[2].out_of_distribution).toEqual([
        { feature: 'Age', value: 92, training_range: observedRange('Age') },
      ]);
      expect(body.results[3].errors[0]).toMatchObject({ field: 'data.Age', reason: 'out_of_range' });
      await countedApp.inject({
        method: 'POST',
        url: '/predict',
        payload: { data: { ...features(0), Age: 91 } },
      });
      const text = (await countedApp.inject({ url: '/metrics' })).body;
      expect(text).toMatch(/^onset_out_of_distribution_total\{feature="Age"\} 3$/m);
      expect(text).toMatch(/^onset_out_of_distribution_total\{feature="BMI"\} 1$/m);
    } finally {
      await countedApp.close();
    }
  });
});

describe('a row copied from the data file', () => {
  it('takes PatientID inside data as the patient id', async () => {
    const { Diagnosis: _d, DoctorInCharge: _doctor, ...row } = fileRow(0);
    const response = await predict({ data: row });
    expect(response.statusCode).toBe(200);
    expect(response.json().patient_id).toBe(probe.patientIds![0]);
    const same = await predict({ data: row, patient_id: probe.patientIds![0] });
    expect(same.statusCode).toBe(200);
    const conflicting = await predict({ data: row, patient_id: 'P-other' });
    expect(conflicting.statusCode).toBe(400);
    expect(conflicting.json().errors).toEqual([
      expect.objectContaining({ reason: 'conflicting_patient_id' }),
    ]);
  });

  it('refuses Diagnosis and DoctorInCharge inside data, saying why, and never repeats the doctor', async () => {
    const response = await predict({ data: fileRow(0) });
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.errors).toEqual([
      {
        field: 'data.Diagnosis',
        message: 'is the target, not a feature: it is not sent for prediction (leave it out)',
        reason: 'target_not_sent',
      },
      {
        field: 'data.DoctorInCharge',
        message: 'is confidential and is not sent for prediction (leave it out)',
        reason: 'confidential_field',
      },
    ]);
    expect(body.message).toMatch(/^Invalid prediction record: 2 problem\(s\); data.Diagnosis is the target/);
    expect(response.body).not.toContain('Confidential-Name');
  });

  it('answers a flat row (no data wrapper) with one problem that shows the shape to send', async () => {
    const response = await predict(fileRow(1));
    expect(response.statusCode).toBe(400);
    const body = response.json();
    // Before: 33 problems (data missing, and every column an unknown field).
    expect(body.errors.map((e: { reason: string }) => e.reason)).toEqual([
      'features_outside_data',
      'target_not_sent',
      'confidential_field',
    ]);
    expect(body.errors[0].field).toBe('data');
    expect(body.message).toContain('the features go inside "data", not at the top level of the record');
    expect(body.message).toContain(`"patient_id": "${probe.patientIds![1]}"`);
    expect(response.body).not.toContain('Confidential-Name');
    // Only the features, flat: exactly one problem.
    const only = await predict(features(1));
    expect(only.json().errors).toHaveLength(1);
    expect(only.json().errors[0]).toMatchObject({ field: 'data', reason: 'features_outside_data' });
    // The same in a batch, record by record.
    const batch = (await predict({ records: [fileRow(2)] }, '/predict/batch')).json();
    expect(batch.results[0].errors[0].reason).toBe('features_outside_data');
    expect(JSON.stringify(batch)).not.toContain('Confidential-Name');
  });

  it('says where a misplaced or misspelt field belongs', async () => {
    const { Age, ...rest } = features(0);
    const response = await predict({ data: { ...rest, age: Age }, Tremor: 1 });
    expect(response.json().errors).toEqual([
      { field: 'Tremor', message: 'is a feature: it goes inside "data"', reason: 'unknown_field' },
      {
        field: 'data.age',
        message: expect.stringContaining('did you mean Age? names are case-sensitive'),
        reason: 'unknown_field',
      },
      { field: 'data.Age', message: 'is required', reason: 'missing' },
    ]);
  });
});
