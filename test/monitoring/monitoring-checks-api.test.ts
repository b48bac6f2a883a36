/**
 * The monitoring checks through the HTTP API of a real app over real SQLite stores: predictions made over
 * HTTP and logged, feedback posted, then the drift and performance checks run on demand, read back,
 * exported at /metrics; bad requests refused without storing anything; one check of a kind at a time.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { CheckTargets } from '../../src/monitoring/jobs/check-targets.js';
import { checkSettingsOf } from '../../src/monitoring/jobs/job-settings.js';
import { ModelReferences } from '../../src/monitoring/jobs/model-references.js';
import { MonitoringGauges } from '../../src/monitoring/jobs/monitoring-gauges.js';
import {
  type DriftRequest,
  driftJob,
  type MonitoringJob,
  performanceJob,
} from '../../src/monitoring/jobs/monitoring-jobs.js';
import { OnsetMetrics } from '../../src/monitoring/metrics.js';
import { PatientKeys } from '../../src/monitoring/prediction-log/patient-keys.js';
import { StoreSink } from '../../src/monitoring/prediction-log/prediction-batch.js';
import { PredictionLogWriter } from '../../src/monitoring/prediction-log/prediction-log-writer.js';
import { buildApp } from '../../src/server/app.js';
import { LiveModel } from '../../src/serving/live-model.js';
import { loggedVersion, logScored } from '../support/monitoring.js';
import { trainAndPromote } from '../support/registry.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('checks-api');
const ADMIN = 'checks-admin-token';
const admin = { authorization: `Bearer ${ADMIN}` };
const NAME = 'api-watched';
const patients = generateDataset({ rows: 300, seed: 81 });
const recordOf = (i: number) =>
  Object.fromEntries(FEATURE_NAMES.map((name) => [name, patients.columns[name][i]!]));

let app: FastifyInstance;
let live: LiveModel;
let writer: PredictionLogWriter;
let drift: MonitoringJob<DriftRequest>;
let predictionIds: string[];

beforeAll(async () => {
  const { stores } = temporary;
  await trainAndPromote(
    stores,
    NAME,
    generateDataset({ rows: 800, seed: 80 }),
    {},
    {
      estimator: 'logistic',
      cvFolds: 3,
    },
  );
  live = new LiveModel(`models:/${NAME}/Production`, stores, { pollMs: 0 });
  await live.start();
  const metrics = new OnsetMetrics({ processMetrics: false });
  writer = new PredictionLogWriter({
    sink: new StoreSink(stores.predictionLog, new PatientKeys('a-test-secret-of-at-least-32-characters')),
    metrics,
    flushMs: 3_600_000,
  });
  const settings = checkSettingsOf(resolveConfig({}, {}));
  const jobStores = {
    log: stores.predictionLog,
    checks: stores.checks,
    references: new ModelReferences(stores),
    gauges: new MonitoringGauges(metrics.registry),
  };
  drift = driftJob(jobStores, settings.drift);
  app = await buildApp({
    ...stores,
    pipelines: undefined,
    adminToken: ADMIN,
    metrics,
    serving: { live },
    monitoring: {
      store: stores.predictionLog,
      recorder: writer,
      checks: {
        store: stores.checks,
        drift,
        performance: performanceJob(jobStores, settings.performance),
        targets: new CheckTargets(stores.registry, () => {
          const served = live.current();
          return served && { ...served, estimator: served.document.estimator };
        }),
      },
    },
  });
  // Predictions over HTTP, logged by the writer.
  const response = await app.inject({
    method: 'POST',
    url: '/predict/batch',
    payload: { records: Array.from({ length: 300 }, (_, i) => ({ data: recordOf(i) })) },
  });
  expect(response.statusCode).toBe(200);
  predictionIds = (response.json().results as { prediction_id: string }[]).map((r) => r.prediction_id);
  await writer.flush();
}, 60_000);
afterAll(async () => {
  await app?.close();
  await writer?.close();
  await live?.stop();
});

const post = (url: string, payload?: unknown) =>
  app.inject({
    method: 'POST',
    url,
    headers: admin,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
const get = (url: string) => app.inject({ method: 'GET', url, headers: admin });

async function storedCount(): Promise<number> {
  return (await temporary.stores.checks.listChecks({ maxResults: 1_000 })).items.length;
}

describe('POST /api/onset/monitoring/drift', () => {
  it("checks the served version's logged predictions, answers the stored check, and exports the gauges", async () => {
    const response = await post('/api/onset/monitoring/drift');
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const { check } = response.json();
    expect(check).toMatchObject({
      kind: 'drift',
      model: { name: NAME, version: '1', run_id: live.current()!.runId },
      status: 'succeeded',
      error: null,
      summary: { outcome: 'checked', rows: 300, features: 32 },
    });
    expect(check.check_id).toMatch(/^[0-9a-f]{32}$/);
    expect(check.window.to - check.window.from).toBe(24 * 3_600_000);
    expect(check.result.report.current.rows).toBe(300);
    expect(check.result.report.model).toMatchObject({ name: NAME, version: '1', estimator: 'logistic' });
    // As stored.
    expect((await get(`/api/onset/monitoring/checks/${check.check_id}`)).json()).toEqual({ check });

    const exposition = (await app.inject({ url: '/metrics' })).body;
    expect(exposition).toContain(
      `onset_drift_share{model="${NAME}",version="1"} ${check.summary.drift_share}`,
    );
    expect(exposition).toMatch(
      new RegExp(`onset_drift_feature_psi\\{model="${NAME}",version="1",feature="Age"\\} `),
    );
    expect(exposition).toMatch(
      new RegExp(
        `onset_drift_last_success_timestamp_seconds\\{model="${NAME}"\\} ${Math.floor(check.finished_at / 1000)}`,
      ),
    );
  });

  it('takes a window, a model and a version (a number, stage or alias), and says when there are too few predictions', async () => {
    const named = await post('/api/onset/monitoring/drift', {
      window: '1h',
      model: NAME,
      version: 'Production',
    });
    expect(named.statusCode).toBe(200);
    expect(named.json().check).toMatchObject({ model: { name: NAME, version: '1' }, summary: { rows: 300 } });
    expect(named.json().check.window.to - named.json().check.window.from).toBe(3_600_000);
    // A second later, the last second holds none of them: stored as "too few", with no verdict.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const few = await post('/api/onset/monitoring/drift', { window: '1s', version: '1' });
    expect(few.json().check).toMatchObject({
      status: 'succeeded',
      summary: { outcome: 'too_few_rows', rows: 0, dataset_drifted: null },
      result: { outcome: 'too_few_rows', report: null },
    });
  });

  it("takes a feature's test and threshold and the drift share, over the defaults", async () => {
    const response = await post('/api/onset/monitoring/drift', {
      tests: { Age: 'psi', Gender: 'jensenshannon' },
      thresholds: { Age: 0.3, probability: 0.2 },
      drift_share: 0.25,
    });
    expect(response.statusCode).toBe(200);
    const { report } = response.json().check.result;
    const column = (name: string) => report.features.find((f: { column: string }) => f.column === name);
    expect(column('Age')).toMatchObject({ test: 'psi', test_chosen_by: 'override', threshold: 0.3 });
    expect(column('Gender')).toMatchObject({ test: 'jensenshannon', test_chosen_by: 'override' });
    expect(column('BMI')).toMatchObject({ test: 'ks', test_chosen_by: 'default', threshold: 0.05 });
    expect(report.prediction_drift).toMatchObject({ threshold: 0.2 });
    expect(report.dataset_drift.drift_share).toBe(0.25);
    // Without them, the defaults again.
    const plain = (await post('/api/onset/monitoring/drift')).json().check.result.report;
    expect(plain.features.find((f: { column: string }) => f.column === 'Age').test).toBe('ks');
    expect(plain.dataset_drift.drift_share).toBe(0.5);
  });

  it('refuses an unknown feature or test, a test that does not apply, a bad threshold or share, storing nothing', async () => {
    const before = await storedCount();
    const cases: [unknown, RegExp][] = [
      [{ tests: { age: 'ks' } }, /Unknown feature "age" in the test overrides \(did you mean Age\?\)/],
      [{ tests: { Age: 'anderson' } }, /Unknown test "anderson" in the test of Age; the tests are ks/],
      [{ tests: { Gender: 'ks' } }, /The test ks applies to numerical columns, and Gender is categorical/],
      [{ thresholds: { Nobody: 0.1 } }, /Unknown feature "Nobody" in the threshold overrides/],
      [{ thresholds: { Age: -1 } }, /The threshold of Age must be a number of at least 0, got -1/],
      [{ thresholds: { Age: 'high' } }, /thresholds/],
      [{ drift_share: 1.5 }, /The drift share must be a number from 0 to 1, got 1.5/],
    ];
    for (const [payload, message] of cases) {
      const response = await post('/api/onset/monitoring/drift', payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error_code, JSON.stringify(payload)).toBe('INVALID_PARAMETER_VALUE');
      expect(response.json().message, JSON.stringify(payload)).toMatch(message);
    }
    expect(await storedCount()).toBe(before);
  });

  it('refuses a bad window, an unknown model or version, or an unknown field, storing nothing', async () => {
    const before = await storedCount();
    const cases: [unknown, number, string, RegExp][] = [
      [{ window: '1.5h' }, 400, 'INVALID_PARAMETER_VALUE', /window '1.5h' is not a duration/],
      [{ window: '500d' }, 400, 'INVALID_PARAMETER_VALUE', /longer than a year/],
      [{ model: 'nobody' }, 404, 'RESOURCE_DOES_NOT_EXIST', /nobody/],
      [{ version: '9' }, 404, 'RESOURCE_DOES_NOT_EXIST', /9/],
      [{ version: 'Staging' }, 404, 'RESOURCE_DOES_NOT_EXIST', /has no version in stage Staging/],
      [{ model: NAME, extra: 1 }, 400, 'INVALID_PARAMETER_VALUE', /extra/],
      [{ window: 24 }, 400, 'INVALID_PARAMETER_VALUE', /window/],
    ];
    for (const [payload, status, code, message] of cases) {
      const response = await post('/api/onset/monitoring/drift', payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(status);
      expect(response.json().error_code, JSON.stringify(payload)).toBe(code);
      expect(response.json().message, JSON.stringify(payload)).toMatch(message);
    }
    expect(await storedCount()).toBe(before);
    const bare = await app.inject({ method: 'POST', url: '/api/onset/monitoring/drift' });
    expect(bare.statusCode).toBe(401);
  });

  it('runs one drift check at a time: the same one asked again waits for it, another gets 409', async () => {
    // A model with many logged predictions, so its check runs long enough to be asked again meanwhile.
    const bulky = await trainAndPromote(
      temporary.stores,
      'bulky',
      generateDataset({ rows: 300, seed: 82 }),
      {},
      {
        estimator: 'logistic',
      },
    );
    const now = Date.now();
    await logScored(
      temporary.stores.predictionLog,
      loggedVersion('bulky', bulky.version, bulky.runId),
      bulky.model,
      generateDataset({ rows: 40_000, seed: 83 }),
      (i) => now - 3_600_000 + i * 50,
    );
    const running = drift.run({
      model: { name: 'bulky', version: '1', runId: bulky.runId },
      served: false,
      estimator: null,
    });
    const [same, other] = await Promise.all([
      post('/api/onset/monitoring/drift', { model: 'bulky', version: '1' }),
      post('/api/onset/monitoring/drift'),
    ]);
    expect(other.statusCode).toBe(409);
    expect(other.json()).toEqual({
      error_code: 'INVALID_STATE',
      message: expect.stringMatching(
        /^A drift check of bulky version 1 over the last 24h has been running since \S+; one drift check runs at a time: ask again when it has finished/,
      ),
    });
    expect(same.statusCode).toBe(200);
    const first = await running;
    expect(same.json().check.check_id).toBe(first.checkId);
    expect(first.summary).toMatchObject({ rows: 40_000 });
    // Once it has finished, the other runs.
    expect((await post('/api/onset/monitoring/drift')).statusCode).toBe(200);
  }, 60_000);
});

describe('POST /api/onset/monitoring/performance', () => {
  it('measures the windows from feedback, estimates them, answers the stored check and exports the gauges', async () => {
    const feedback = await app.inject({
      method: 'POST',
      url: '/feedback',
      payload: {
        records: predictionIds
          .slice(0, 200)
          .map((id, i) => ({ prediction_id: id, diagnosis: patients.target![i] })),
      },
    });
    expect(feedback.statusCode).toBe(200);
    const response = await post('/api/onset/monitoring/performance', { window: '1h, 24h' });
    expect(response.statusCode).toBe(200);
    const { check } = response.json();
    expect(check).toMatchObject({
      kind: 'performance',
      model: { name: NAME, version: '1' },
      status: 'succeeded',
      summary: {
        estimation_available: true,
        windows: [
          { window: '1h', records: 300, labelled_records: 200 },
          { window: '24h', records: 300, labelled_records: 200 },
        ],
      },
    });
    expect(check.window.to - check.window.from).toBe(24 * 3_600_000);
    const [hour] = check.result.windows;
    expect(hour.realized.positives + hour.realized.negatives).toBe(200);
    expect(hour.estimated.records).toBe(300);
    const exposition = (await app.inject({ url: '/metrics' })).body;
    expect(exposition).toContain(
      `onset_performance_realized{model="${NAME}",version="1",metric="roc_auc",window="24h"} ${hour.realized.metrics.roc_auc.value}`,
    );
    expect(exposition).toContain(
      `onset_performance_labelled_records{model="${NAME}",version="1",window="1h"} 200`,
    );
    expect(exposition).toContain(
      `onset_performance_estimated{model="${NAME}",version="1",metric="accuracy",window="1h",bound="upper"} ${hour.estimated.metrics.accuracy.upper}`,
    );
  });

  it('refuses bad windows, storing nothing', async () => {
    const before = await storedCount();
    for (const window of ['', '1h,1h', '1h;24h', 'week']) {
      const response = await post('/api/onset/monitoring/performance', { window });
      expect(response.statusCode, window).toBe(400);
      expect(response.json().message, window).toMatch(/^window/);
    }
    expect(await storedCount()).toBe(before);
  });
});

describe('GET /api/onset/monitoring/checks', () => {
  it('lists the checks newest first without their results, by kind, model and version, a page at a time', async () => {
    const all = (await get('/api/onset/monitoring/checks')).json().checks as {
      check_id: string;
      kind: string;
      model: { name: string };
      started_at: number;
      result?: unknown;
    }[];
    expect(all.length).toBe(await storedCount());
    expect(all.map((check) => check.check_id)).toEqual(
      [...all.map((check) => check.check_id)].sort().reverse(),
    );
    expect(all.every((check) => !('result' in check))).toBe(true);
    const performance = (await get('/api/onset/monitoring/checks?kind=performance')).json().checks;
    expect(performance.map((check: { kind: string }) => check.kind)).toEqual(['performance']);
    const bulky = (await get('/api/onset/monitoring/checks?model=bulky&version=1')).json().checks;
    expect(bulky).toHaveLength(1);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = (
        await get(`/api/onset/monitoring/checks?max_results=2${token ? `&page_token=${token}` : ''}`)
      ).json();
      expect(page.checks.length).toBeLessThanOrEqual(2);
      seen.push(...page.checks.map((check: { check_id: string }) => check.check_id));
      token = page.next_page_token;
    } while (token);
    expect(seen).toEqual(all.map((check) => check.check_id));
  });

  it('refuses a bad listing and answers 404 for an unknown check', async () => {
    for (const query of ['kind=latency', 'max_results=0', 'max_results=1001', 'page_token=nonsense']) {
      const response = await get(`/api/onset/monitoring/checks?${query}`);
      expect(response.statusCode, query).toBe(400);
    }
    for (const id of ['0'.repeat(32), 'not-an-id']) {
      const response = await get(`/api/onset/monitoring/checks/${id}`);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({
        error_code: 'RESOURCE_DOES_NOT_EXIST',
        message: `No monitoring check has the id "${id}"`,
      });
    }
  });
});

describe('which version a check is about', () => {
  it('is the served one by default, or the one named (a number, stage or alias); none served and none named is refused', async () => {
    const { registry } = temporary.stores;
    const nothingServed = new CheckTargets(registry, () => undefined);
    await expect(nothingServed.resolve({})).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message:
        'No registered model version is served (none is loaded yet, or the served model is a file or a run\'s, whose predictions the log does not name by version): name one, e.g. {"model": "parkinson-disease-prediction", "version": "3"}',
    });
    expect(nothingServed.served()).toBeUndefined();
    // A named model: its Production version, not served here.
    expect(await nothingServed.resolve({ model: NAME })).toEqual({
      model: { name: NAME, version: '1', runId: live.current()!.runId },
      served: false,
      estimator: null,
    });
    const fileServed = new CheckTargets(registry, () => ({
      name: null,
      version: null,
      runId: null,
      estimator: 'gbdt',
    }));
    expect(fileServed.served()).toBeUndefined();
    const served = new CheckTargets(registry, () => {
      const current = live.current()!;
      return { ...current, estimator: current.document.estimator };
    });
    const asServed = {
      model: { name: NAME, version: '1', runId: live.current()!.runId },
      served: true,
      estimator: 'logistic',
    };
    expect(await served.resolve({})).toEqual(asServed);
    expect(await served.resolve({ version: '1' })).toEqual(asServed);
    expect(await served.resolve({ model: NAME, version: 'Production' })).toEqual(asServed);
  });
});
