/**
 * Alertmanager's webhook and the alert history (`/api/onset/alerts`) on the real app and stores: every
 * alert recorded with what it triggered, one retraining run at a time however the alerts arrive, the
 * admin token as Alertmanager sends it, and malformed payloads refused with where they are wrong. The
 * pipeline the receiver starts here waits until the test releases it (the real retraining pipeline runs
 * in test/monitoring/retrain-pipeline.test.ts and the end-to-end test).
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertReceiver } from '../../src/monitoring/alerts/alert-receiver.js';
import type { AlertJson } from '../../src/monitoring/alerts/alert-routes.js';
import { parseAlertTime } from '../../src/monitoring/alerts/alertmanager-payload.js';
import { defineBlock } from '../../src/pipelines/block.js';
import { BUILT_IN_PIPELINES } from '../../src/pipelines/builtin/catalog.js';
import { definePipeline } from '../../src/pipelines/pipeline.js';
import type { PipelineRunJson } from '../../src/pipelines/pipeline-routes.js';
import { PipelineService } from '../../src/pipelines/pipeline-service.js';
import { buildApp } from '../../src/server/app.js';
import { jsonFieldProblems } from '../support/field-names.js';
import { useTemporaryStores } from '../support/stores.js';

type Alert = Static<typeof AlertJson>;
type PipelineRun = Static<typeof PipelineRunJson>;

const TOKEN = 'alert-t0ken';
const temporary = useTemporaryStores('alerts-api');
let app: FastifyInstance;
let guarded: FastifyInstance;
let service: PipelineService;

/** The releases of the runs waiting, oldest first. */
const waiting: (() => void)[] = [];
const releaseAll = () => {
  for (const release of waiting.splice(0)) release();
};

/** Stands in for the retraining pipeline: waits until released, with the params the receiver sets. */
const holdingRetrain = definePipeline({
  name: 'retrain-hold',
  description: 'waits until released',
  params: {
    alert_id: { type: 'string', default: '', description: 'the alert' },
    model_name: { type: 'string', default: 'default-model', description: 'the model' },
  },
  blocks: [
    defineBlock({
      name: 'wait',
      kind: 'sensor',
      description: 'waits',
      inputs: {},
      output: 'condition',
      async run(_inputs, { signal }) {
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
        return true;
      },
    }),
  ],
});

/** Another pipeline that holds the server (one run at a time) while the test wants it busy. */
const otherWork = definePipeline({
  name: 'other-work',
  description: 'waits until released',
  blocks: [{ ...holdingRetrain.blocks[0]! }],
});

/**
 * A notification as Alertmanager 0.25 writes it (field order, nanosecond times, Go's zero time for a
 * missing end): what `test/fixtures/alertmanager/` holds, recorded from the real one.
 */
function notification(
  alerts: { name: string; status?: 'firing' | 'resolved'; labels?: Record<string, string> }[],
  overrides: Record<string, unknown> = {},
) {
  return {
    receiver: 'onset-retrain',
    status: alerts.some((alert) => (alert.status ?? 'firing') === 'firing') ? 'firing' : 'resolved',
    alerts: alerts.map((alert, index) => ({
      status: alert.status ?? 'firing',
      labels: { alertname: alert.name, severity: 'warning', action: 'retrain', ...alert.labels },
      annotations: { summary: `${alert.name} fired`, what_to_do: 'nothing, it is a test' },
      startsAt: '2026-03-01T12:00:00.123456789Z',
      endsAt: alert.status === 'resolved' ? '2026-03-01T12:05:00.5+01:00' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=onset_drift_dataset+%3D%3D+1&g0.tab=1',
      fingerprint: `00000000000000${String(index).padStart(2, '0')}`,
    })),
    groupLabels: { model: 'parkinson' },
    commonLabels: { action: 'retrain' },
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    version: '4',
    groupKey: '{}/{action="retrain"}:{model="parkinson"}',
    truncatedAlerts: 0,
    ...overrides,
  };
}

async function post(payload: unknown, on: FastifyInstance = app, headers: Record<string, string> = {}) {
  return on.inject({ method: 'POST', url: '/api/onset/alerts', payload: payload as object, headers });
}

async function postAlerts(payload: unknown): Promise<Alert[]> {
  const response = await post(payload);
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { alerts: Alert[] }).alerts;
}

async function run(runId: string): Promise<PipelineRun> {
  return ((await app.inject({ url: `/api/onset/pipeline-runs/${runId}` })).json() as { run: PipelineRun })
    .run;
}

async function waitForEnd(runId: string): Promise<PipelineRun> {
  for (;;) {
    const current = await run(runId);
    if (current.status !== 'RUNNING') return current;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Ends every run (releasing those waiting) so that the next test starts with none running. */
async function settle(): Promise<void> {
  releaseAll();
  const running = await temporary.stores.pipelines.listRuns({ status: 'RUNNING' });
  for (const item of running.items) {
    releaseAll();
    await waitForEnd(item.runId);
  }
}

beforeAll(async () => {
  const { stores } = temporary;
  service = new PipelineService({ stores, pipelines: [...BUILT_IN_PIPELINES, holdingRetrain, otherWork] });
  const receiver = new AlertReceiver({
    alerts: stores.alertHistory,
    service,
    runs: stores.pipelines,
    registry: stores.registry,
    pipeline: 'retrain-hold',
  });
  const options = {
    ...stores,
    pipelines: { service, store: stores.pipelines },
    alerts: { receiver, store: stores.alertHistory },
  };
  app = await buildApp(options);
  guarded = await buildApp({ ...options, adminToken: TOKEN });
});
afterAll(async () => {
  releaseAll();
  await service.close();
  await app.close();
  await guarded.close();
});

describe('POST /api/onset/alerts', () => {
  it('starts the retraining pipeline for a firing action="retrain" alert, and the run names the alert', async () => {
    const [alert] = await postAlerts(notification([{ name: 'OnsetDatasetDrift' }]));
    expect(alert).toMatchObject({
      alert_name: 'OnsetDatasetDrift',
      status: 'firing',
      outcome: 'started',
      detail: null,
      labels: { alertname: 'OnsetDatasetDrift', action: 'retrain', severity: 'warning' },
      annotations: { summary: 'OnsetDatasetDrift fired' },
      starts_at: Date.UTC(2026, 2, 1, 12, 0, 0, 123),
      ends_at: null,
      fingerprint: '0000000000000000',
      generator_url: expect.stringContaining('onset_drift_dataset'),
      receiver: 'onset-retrain',
      group_key: '{}/{action="retrain"}:{model="parkinson"}',
    });
    expect(alert!.alert_id).toMatch(/^[0-9a-f]{32}$/);
    expect(alert!.triggered).toBe(`started: ${alert!.pipeline_run_id}`);
    expect(Math.abs(alert!.received_at - Date.now())).toBeLessThan(5_000);
    // The run links back to the alert through the pipeline API: its trigger and its alert_id.
    const started = await run(alert!.pipeline_run_id!);
    expect(started).toMatchObject({
      pipeline: 'retrain-hold',
      status: 'RUNNING',
      trigger: 'alert:OnsetDatasetDrift',
      // `parkinson` names no registered model: the pipeline's default stays.
      params: { alert_id: alert!.alert_id, model_name: 'default-model' },
    });
    const history = (await app.inject({ url: `/api/onset/alerts/${alert!.alert_id}` })).json();
    expect(history.alert).toEqual(alert);
    expect(jsonFieldProblems(history)).toEqual([]);
    await settle();
  });

  it('never starts a second run while one is queued or running: later alerts join it, in one notification or the next', async () => {
    const [first, second] = await postAlerts(
      notification([
        { name: 'OnsetDatasetDrift' },
        { name: 'OnsetFeaturePsiHigh', labels: { feature: 'Age' } },
      ]),
    );
    expect(first).toMatchObject({ outcome: 'started' });
    expect(second).toMatchObject({
      outcome: 'already_running',
      pipeline_run_id: first!.pipeline_run_id,
      triggered: `already_running: ${first!.pipeline_run_id}`,
    });
    const [repeat] = await postAlerts(notification([{ name: 'OnsetDatasetDrift' }]));
    expect(repeat).toMatchObject({ outcome: 'already_running', pipeline_run_id: first!.pipeline_run_id });
    expect((await temporary.stores.pipelines.listRuns({ status: 'RUNNING' })).items).toHaveLength(1);

    // Once it has ended, the next firing alert starts a new run.
    releaseAll();
    expect((await waitForEnd(first!.pipeline_run_id!)).status).toBe('SUCCEEDED');
    const [next] = await postAlerts(notification([{ name: 'OnsetRollingAucLow' }]));
    expect(next).toMatchObject({ outcome: 'started' });
    expect(next!.pipeline_run_id).not.toBe(first!.pipeline_run_id);
    expect((await run(next!.pipeline_run_id!)).trigger).toBe('alert:OnsetRollingAucLow');
    await settle();
  });

  it('starts one run when notifications arrive at the same time', async () => {
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => postAlerts(notification([{ name: `OnsetBurst${i}` }]))),
    );
    const alerts = answers.flat();
    expect(alerts.filter((alert) => alert.outcome === 'started')).toHaveLength(1);
    expect(alerts.filter((alert) => alert.outcome === 'already_running')).toHaveLength(4);
    expect(new Set(alerts.map((alert) => alert.pipeline_run_id)).size).toBe(1);
    expect((await temporary.stores.pipelines.listRuns({ status: 'RUNNING' })).items).toHaveLength(1);
    await settle();
  });

  it('records resolved alerts and alerts for people, and starts nothing for them', async () => {
    const alerts = await postAlerts(
      notification([
        { name: 'OnsetDatasetDrift', status: 'resolved' },
        { name: 'OnsetDown', labels: { action: 'notify' } },
        { name: 'Unlabelled', labels: { action: '' } },
        { name: 'Paging', labels: { action: 'page' } },
      ]),
    );
    expect(alerts.map((alert) => [alert.outcome, alert.pipeline_run_id, alert.triggered])).toEqual([
      ['resolved', null, 'resolved'],
      ['action_notify', null, 'action_notify'],
      ['no_action', null, 'no_action: action="": Onset acts on action="retrain" only'],
      ['no_action', null, 'no_action: action="page": Onset acts on action="retrain" only'],
    ]);
    expect(alerts[0]).toMatchObject({ status: 'resolved', ends_at: Date.UTC(2026, 2, 1, 11, 5, 0, 500) });
    expect((await temporary.stores.pipelines.listRuns({ status: 'RUNNING' })).items).toHaveLength(0);
  });

  it('retrains the registered model the alert names, and the default for a name the registry does not have', async () => {
    await temporary.stores.registry.createRegisteredModel({ name: 'clinic-model' });
    const [named] = await postAlerts(
      notification([{ name: 'OnsetDatasetDrift', labels: { model: 'clinic-model' } }]),
    );
    expect((await run(named!.pipeline_run_id!)).params).toMatchObject({ model_name: 'clinic-model' });
    await settle();
    const [unknown] = await postAlerts(
      notification([{ name: 'OnsetDatasetDrift', labels: { model: 'nobody' } }]),
    );
    expect((await run(unknown!.pipeline_run_id!)).params).toMatchObject({ model_name: 'default-model' });
    await settle();
  });

  it('answers 503, which Alertmanager delivers again, when another pipeline holds the server, and records the alert', async () => {
    const other = await service.start('other-work', {}, 'test');
    const response = await post(notification([{ name: 'OnsetDatasetDrift' }]));
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({
      error_code: 'TEMPORARILY_UNAVAILABLE',
      message: expect.stringMatching(
        /^Recorded 1 alert\(s\), but retraining cannot start now: the retrain-hold pipeline could not start: 1 pipeline run\(s\) already running here.*Alertmanager delivers the notification again$/,
      ),
    });
    const [recorded] = (await temporary.stores.alertHistory.listAlerts({ maxResults: 1 })).items;
    expect(recorded).toMatchObject({ outcome: 'not_started', pipelineRunId: null });
    expect(recorded!.detail).toMatch(/already running here/);
    releaseAll();
    await other.finished;
    // The delivery again finds the server free.
    const [again] = await postAlerts(notification([{ name: 'OnsetDatasetDrift' }]));
    expect(again).toMatchObject({ outcome: 'started' });
    await settle();
  });

  it('refuses a malformed payload with 400, naming each problem and where it is, and records nothing', async () => {
    const before = (await temporary.stores.alertHistory.listAlerts({ maxResults: 1000 })).items.length;
    const cases: { payload: unknown; errors: { field: string; reason: string; message?: RegExp }[] }[] = [
      {
        payload: { ...notification([{ name: 'A' }]), version: '3' },
        errors: [{ field: 'version', reason: 'not_allowed', message: /"4"/ }],
      },
      {
        payload: (() => {
          const { groupKey: _groupKey, alerts: _alerts, ...rest } = notification([{ name: 'A' }]);
          return rest;
        })(),
        errors: [
          { field: 'groupKey', reason: 'missing' },
          { field: 'alerts', reason: 'missing' },
        ],
      },
      {
        payload: notification([{ name: 'A' }], { alerts: [] }),
        errors: [{ field: 'alerts', reason: 'too_few' }],
      },
      {
        payload: (() => {
          const body = notification([{ name: 'A' }, { name: 'B' }]);
          body.alerts[1] = { ...body.alerts[1]!, status: 'pending' as 'firing', startsAt: 'yesterday' };
          (body.alerts[0]!.labels as Record<string, unknown>).severity = 3;
          return body;
        })(),
        errors: [
          { field: 'alerts.0.labels.severity', reason: 'wrong_type' },
          { field: 'alerts.1.status', reason: 'not_allowed' },
          { field: 'alerts.1.startsAt', reason: 'wrong_format' },
        ],
      },
      {
        payload: (() => {
          const body = notification([{ name: 'A' }, { name: 'B' }]);
          body.alerts[0] = { ...body.alerts[0]!, startsAt: '2026-02-30T12:00:00Z' };
          body.alerts[1] = {
            ...body.alerts[1]!,
            startsAt: '0001-01-01T00:00:00Z',
            labels: { action: 'retrain' } as (typeof body.alerts)[number]['labels'],
          };
          return body;
        })(),
        errors: [
          { field: 'alerts.0.startsAt', reason: 'wrong_format', message: /not a real time/ },
          { field: 'alerts.1.labels.alertname', reason: 'missing' },
          { field: 'alerts.1.startsAt', reason: 'missing', message: /no time at all/ },
        ],
      },
      { payload: [1, 2], errors: [{ field: '(body)', reason: 'wrong_type' }] },
    ];
    for (const { payload, errors } of cases) {
      const response = await post(payload);
      expect(response.statusCode, JSON.stringify(payload).slice(0, 200)).toBe(400);
      const answer = response.json() as {
        error_code: string;
        message: string;
        errors: { field: string; reason: string; message: string }[];
      };
      expect(answer.error_code).toBe('INVALID_PARAMETER_VALUE');
      expect(answer.message).toMatch(/^Invalid Alertmanager notification: \d problem\(s\); /);
      expect(answer.errors.map(({ field, reason }) => ({ field, reason }))).toEqual(
        errors.map(({ field, reason }) => ({ field, reason })),
      );
      for (const [i, expected] of errors.entries()) {
        if (expected.message) expect(answer.errors[i]!.message).toMatch(expected.message);
      }
    }
    expect((await temporary.stores.alertHistory.listAlerts({ maxResults: 1000 })).items).toHaveLength(before);
  });

  it('takes fields a later Alertmanager may add, and no truncatedAlerts (older ones)', async () => {
    const { truncatedAlerts: _truncated, ...older } = notification([
      { name: 'OnsetDown', labels: { action: 'notify' } },
    ]);
    const [alert] = await postAlerts({
      ...older,
      orgId: 1,
      alerts: older.alerts.map((a) => ({ ...a, silenceURL: 'x' })),
    });
    expect(alert).toMatchObject({ outcome: 'action_notify' });
  });

  it('needs the admin token, taken as Alertmanager sends it (Authorization: Bearer), and records nothing without it', async () => {
    const before = (await temporary.stores.alertHistory.listAlerts({ maxResults: 1000 })).items.length;
    const payload = notification([{ name: 'OnsetDown', labels: { action: 'notify' } }]);
    for (const headers of <Record<string, string>[]>[
      {},
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: TOKEN },
      { 'x-api-key': TOKEN },
    ]) {
      const refused = await post(payload, guarded, headers);
      expect(refused.statusCode, JSON.stringify(headers)).toBe(401);
      expect(refused.json().message).toMatch(/Authorization: Bearer <ONSET_ADMIN_TOKEN>/);
    }
    const list = await guarded.inject({ url: '/api/onset/alerts' });
    expect(list.statusCode).toBe(401);
    expect((await temporary.stores.alertHistory.listAlerts({ maxResults: 1000 })).items).toHaveLength(before);
    const accepted = await post(payload, guarded, { authorization: `Bearer ${TOKEN}` });
    expect(accepted.statusCode).toBe(200);
    expect(
      (await guarded.inject({ url: '/api/onset/alerts', headers: { authorization: `Bearer ${TOKEN}` } }))
        .statusCode,
    ).toBe(200);
  });
});

describe('GET /api/onset/alerts', () => {
  it('lists the history newest first, by status and by run, in pages', async () => {
    const all = (await app.inject({ url: '/api/onset/alerts?max_results=1000' })).json() as {
      alerts: Alert[];
    };
    expect(all.alerts.length).toBeGreaterThan(15);
    const ids = all.alerts.map((alert) => alert.alert_id);
    expect(ids).toEqual([...ids].sort().reverse());
    const received = all.alerts.map((alert) => alert.received_at);
    expect(received).toEqual([...received].sort((a, b) => b - a));

    const resolved = (await app.inject({ url: '/api/onset/alerts?status=resolved' })).json() as {
      alerts: Alert[];
    };
    expect(resolved.alerts.map((alert) => alert.outcome)).toEqual(['resolved']);

    const started = all.alerts.find((alert) => alert.outcome === 'already_running')!;
    const ofRun = (
      await app.inject({ url: `/api/onset/alerts?pipeline_run_id=${started.pipeline_run_id}` })
    ).json() as { alerts: Alert[] };
    expect(ofRun.alerts.length).toBeGreaterThan(1);
    expect(ofRun.alerts.at(-1)!.outcome).toBe('started');
    expect(ofRun.alerts.every((alert) => alert.pipeline_run_id === started.pipeline_run_id)).toBe(true);

    const pages: Alert[] = [];
    let token: string | undefined;
    do {
      const page = (
        await app.inject({ url: `/api/onset/alerts?max_results=4${token ? `&page_token=${token}` : ''}` })
      ).json() as { alerts: Alert[]; next_page_token?: string };
      pages.push(...page.alerts);
      token = page.next_page_token;
    } while (token);
    expect(pages).toEqual(all.alerts);
    expect(jsonFieldProblems(all)).toEqual([]);

    expect((await app.inject({ url: '/api/onset/alerts?status=pending' })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/onset/alerts?max_results=0' })).statusCode).toBe(400);
    expect((await app.inject({ url: '/api/onset/alerts?page_token=nope' })).statusCode).toBe(400);
    const missing = await app.inject({ url: `/api/onset/alerts/${'0'.repeat(32)}` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toMatch(/No alert with alert_id 0{32}/);
  });
});

describe('alert times', () => {
  it("reads RFC 3339 times as Alertmanager writes them, Go's zero time as none, and refuses impossible dates", () => {
    expect(parseAlertTime('2026-03-01T12:00:00Z')).toBe(Date.UTC(2026, 2, 1, 12));
    expect(parseAlertTime('2026-03-01T12:00:00.123456789Z')).toBe(Date.UTC(2026, 2, 1, 12, 0, 0, 123));
    expect(parseAlertTime('2026-03-01T12:00:00.5-02:30')).toBe(Date.UTC(2026, 2, 1, 14, 30, 0, 500));
    expect(parseAlertTime('2026-03-01T23:30:00+01:00')).toBe(Date.UTC(2026, 2, 1, 22, 30));
    expect(parseAlertTime('0001-01-01T00:00:00Z')).toBeNull();
    for (const bad of [
      '2026-02-30T12:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-03-01T25:00:00Z',
      '2026-03-01 12:00:00Z',
      'now',
    ]) {
      expect(parseAlertTime(bad), bad).toBeUndefined();
    }
  });

  it('fixture: a notification the real Alertmanager sent is accepted as it is', async () => {
    const recorded = JSON.parse(
      readFileSync(new URL('../fixtures/alertmanager/webhook-retrain.json', import.meta.url), 'utf8'),
    ) as ReturnType<typeof notification>;
    // Its alert names no model and asks for retraining: relabelled for people, to start nothing here.
    const alerts = await postAlerts({
      ...recorded,
      alerts: recorded.alerts.map((alert) => ({ ...alert, labels: { ...alert.labels, action: 'notify' } })),
    });
    expect(alerts.map((alert) => alert.outcome)).toEqual(recorded.alerts.map(() => 'action_notify'));
    expect(alerts[0]!.starts_at).toBe(parseAlertTime(recorded.alerts[0]!.startsAt));
  });
});
