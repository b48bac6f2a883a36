import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { defineBlock } from '../../src/pipelines/block.js';
import { BUILT_IN_PIPELINES } from '../../src/pipelines/builtin/catalog.js';
import { definePipeline } from '../../src/pipelines/pipeline.js';
import type { PipelineRunJson, PipelineScheduleJson } from '../../src/pipelines/pipeline-routes.js';
import { PipelineService } from '../../src/pipelines/pipeline-service.js';
import { nextFiring, PipelineScheduler } from '../../src/pipelines/scheduler.js';
import { buildApp } from '../../src/server/app.js';
import { type OnsetStores, openOnsetStores } from '../../src/server/open-stores.js';
import { jsonFieldProblems } from '../support/field-names.js';

/** A pipeline run as the API answers it. */
type PipelineRun = Static<typeof PipelineRunJson>;

const home = mkdtempSync(join(tmpdir(), 'onset-pipelines-api-'));
let stores: OnsetStores;
let app: FastifyInstance;
let guarded: FastifyInstance;
let service: PipelineService;

/** Waits for `release` before it ends: lets tests hold a run open. */
let release: () => void = () => undefined;
const holding = definePipeline({
  name: 'hold',
  description: 'waits until released or cancelled',
  params: { label: { type: 'string', default: 'x', description: 'a label' } },
  blocks: [
    defineBlock({
      name: 'wait',
      kind: 'sensor',
      description: 'waits',
      inputs: {},
      output: 'condition',
      async run(_inputs, { signal, log, params }) {
        log.info(`waiting (${params.label})`);
        await new Promise<void>((resolve) => {
          release = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
        return true;
      },
    }),
  ],
});

const TOKEN = 't0ken';

beforeAll(async () => {
  stores = await openOnsetStores(resolveConfig({ home }));
  service = new PipelineService({ stores, pipelines: [...BUILT_IN_PIPELINES, holding] });
  app = await buildApp({ ...stores, pipelines: { service, store: stores.pipelines } });
  guarded = await buildApp({
    ...stores,
    adminToken: TOKEN,
    pipelines: { service, store: stores.pipelines },
  });
});
afterAll(async () => {
  await service.close();
  await app.close();
  await guarded.close();
  await stores.close();
  rmSync(home, { recursive: true, force: true });
});

async function waitForEnd(runId: string): Promise<PipelineRun> {
  for (;;) {
    const { run } = (await app.inject({ url: `/api/onset/pipeline-runs/${runId}` })).json() as {
      run: PipelineRun;
    };
    if (run.status !== 'RUNNING') return run;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the pipeline API', () => {
  it('lists and shows pipelines with their blocks and parameters', async () => {
    const list = (await app.inject({ url: '/api/onset/pipelines' })).json() as {
      pipelines: { name: string }[];
    };
    expect(list.pipelines.map((p) => p.name)).toEqual(
      expect.arrayContaining(['train-all', 'promote', 'hold']),
    );
    const trainAll = (await app.inject({ url: '/api/onset/pipelines/train-all' })).json();
    expect(trainAll.blocks.map((b: { name: string }) => b.name)).toContain('gate');
    expect(trainAll.params.metric).toMatchObject({ type: 'string', default: 'roc_auc' });
    const missing = await app.inject({ url: '/api/onset/pipelines/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: expect.stringMatching(/known pipelines: train-linear/),
    });
  });

  it('starts a run (202), refuses a second while one runs, cancels it, and shows its logs', async () => {
    const started = await app.inject({
      method: 'POST',
      url: '/api/onset/pipelines/hold/runs',
      payload: { params: { label: 'first' }, trigger: 'alert:drift' },
    });
    expect(started.statusCode).toBe(202);
    const { run } = started.json() as { run: PipelineRun };
    expect(run).toMatchObject({
      pipeline: 'hold',
      status: 'RUNNING',
      trigger: 'alert:drift',
      params: { label: 'first' },
      end_time: null,
      cancel_requested: false,
    });
    // Field names are snake_case; the entity's camelCase names stay inside the code.
    expect(Object.keys(run).sort()).toEqual([
      'blocks',
      'cancel_requested',
      'end_time',
      'error',
      'links',
      'owner',
      'params',
      'pipeline',
      'run_id',
      'start_time',
      'status',
      'trigger',
    ]);
    expect(Object.keys(run.blocks[0]!).sort()).toEqual([
      'attempts',
      'block',
      'end_time',
      'error',
      'output',
      'start_time',
      'status',
    ]);
    expect(run.start_time).toBeGreaterThan(0);
    expect(run.blocks[0]!.start_time).toBeGreaterThanOrEqual(run.start_time);
    const busy = await app.inject({ method: 'POST', url: '/api/onset/pipelines/hold/runs', payload: {} });
    expect(busy.statusCode).toBe(503);
    expect(busy.json().message).toMatch(/already running/);
    const cancelled = await app.inject({
      method: 'POST',
      url: `/api/onset/pipeline-runs/${run.run_id}/cancel`,
    });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().run).toMatchObject({ status: 'CANCELLED', end_time: expect.any(Number) });
    const again = await app.inject({ method: 'POST', url: `/api/onset/pipeline-runs/${run.run_id}/cancel` });
    expect(again.statusCode).toBe(400);
    expect(again.json()).toMatchObject({ error_code: 'INVALID_STATE' });
    const logs = (await app.inject({ url: `/api/onset/pipeline-runs/${run.run_id}/logs?block=wait` })).json();
    expect(logs.logs.map((l: { message: string }) => l.message)).toEqual(['waiting (first)']);
    expect(Object.keys(logs.logs[0]).sort()).toEqual(['attempt', 'block', 'level', 'message', 'timestamp']);
    const listed = (
      await app.inject({ url: '/api/onset/pipeline-runs?pipeline=hold&status=CANCELLED' })
    ).json();
    expect(listed.runs.map((r: PipelineRun) => r.run_id)).toContain(run.run_id);
    expect(jsonFieldProblems([logs, listed, cancelled.json()])).toEqual([]);
  });

  it('runs to the end in the background', async () => {
    const { run } = (
      await app.inject({ method: 'POST', url: '/api/onset/pipelines/hold/runs', payload: {} })
    ).json() as { run: PipelineRun };
    release();
    expect((await waitForEnd(run.run_id)).status).toBe('SUCCEEDED');
  });

  it('answers bad requests with 400 and the reason, and unknown runs with 404', async () => {
    const badParam = await app.inject({
      method: 'POST',
      url: '/api/onset/pipelines/hold/runs',
      payload: { params: { seed: 1 } },
    });
    expect(badParam.statusCode).toBe(400);
    expect(badParam.json().message).toMatch(/unknown parameter "seed"; known: label/);
    const notObject = await app.inject({
      method: 'POST',
      url: '/api/onset/pipelines/hold/runs',
      payload: { params: [1] },
    });
    expect(notObject.statusCode).toBe(400);
    const badTrigger = await app.inject({
      method: 'POST',
      url: '/api/onset/pipelines/hold/runs',
      payload: { trigger: 'a b' },
    });
    expect(badTrigger.statusCode).toBe(400);
    expect((await app.inject({ url: `/api/onset/pipeline-runs/${'0'.repeat(32)}` })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/onset/pipeline-runs?status=DONE' })).statusCode).toBe(400);
  });

  it('needs the admin token for every route when one is set (run details and logs too), and changes nothing without it', async () => {
    const before = (await stores.pipelines.listRuns({ pipeline: 'hold' })).items.length;
    const refused = await guarded.inject({
      method: 'POST',
      url: '/api/onset/pipelines/hold/runs',
      payload: {},
    });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().message).toMatch(/Authorization: Bearer/);
    expect((await stores.pipelines.listRuns({ pipeline: 'hold' })).items.length).toBe(before);
    expect(
      (
        await guarded.inject({
          method: 'POST',
          url: '/api/onset/schedules',
          payload: { pipeline: 'hold', cron: '* * * * *' },
        })
      ).statusCode,
    ).toBe(401);
    const runs = (await stores.pipelines.listRuns({})).items;
    for (const url of ['/api/onset/pipelines', '/api/onset/pipeline-runs', '/api/onset/schedules'].concat(
      runs.length > 0
        ? [`/api/onset/pipeline-runs/${runs[0]!.runId}`, `/api/onset/pipeline-runs/${runs[0]!.runId}/logs`]
        : [],
    )) {
      expect((await guarded.inject({ url })).statusCode, url).toBe(401);
      expect(
        (await guarded.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } })).statusCode,
        url,
      ).toBe(200);
    }
  });

  it('keeps schedules: checks the cron expression and parameters when added', async () => {
    const invalid = await app.inject({
      method: 'POST',
      url: '/api/onset/schedules',
      payload: { pipeline: 'hold', cron: '61 * * * *' },
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().message).toMatch(/Invalid schedule "61 \* \* \* \*".*minute/);
    const badParams = await app.inject({
      method: 'POST',
      url: '/api/onset/schedules',
      payload: { pipeline: 'hold', cron: '0 3 * * *', params: { nope: 1 } },
    });
    expect(badParams.statusCode).toBe(400);
    const created = await app.inject({
      method: 'POST',
      url: '/api/onset/schedules',
      payload: {
        pipeline: 'hold',
        cron: '0 3 * * *',
        timezone: 'Europe/Paris',
        params: { label: 'nightly' },
      },
    });
    expect(created.statusCode).toBe(201);
    const { schedule } = created.json() as { schedule: Static<typeof PipelineScheduleJson> };
    expect(schedule).toMatchObject({
      pipeline: 'hold',
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
      params: { label: 'nightly' },
      enabled: true,
    });
    expect(new Date(schedule.next_run_time).getUTCHours()).toBe(2); // 03:00 in Paris (winter) is 02:00 UTC
    expect(schedule).toMatchObject({ last_run_id: null, created_time: expect.any(Number) });
    const listed = (await app.inject({ url: '/api/onset/schedules' })).json();
    expect(listed.schedules).toContainEqual(schedule);
    expect(jsonFieldProblems(listed)).toEqual([]);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/onset/schedules/${schedule.schedule_id}` }))
        .statusCode,
    ).toBe(200);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/onset/schedules/${schedule.schedule_id}` }))
        .statusCode,
    ).toBe(404);
  });
});

describe('the scheduler', () => {
  it('computes next firings and explains invalid expressions', () => {
    const at = Date.parse('2026-11-27T10:30:00Z');
    expect(new Date(nextFiring('0 3 * * *', 'UTC', at)).toISOString()).toBe('2026-11-28T03:00:00.000Z');
    expect(new Date(nextFiring('*/15 * * * *', 'UTC', at)).toISOString()).toBe('2026-11-27T10:45:00.000Z');
    expect(() => nextFiring('every day', 'UTC', at)).toThrow(
      /Invalid schedule "every day".*minute hour day-of-month/,
    );
    expect(() => nextFiring('0 3 * * *', 'Mars/Olympus', at)).toThrow(/Invalid schedule/);
  });

  it('fires a due schedule once across two schedulers over one store, and catches up a missed firing once', async () => {
    const schedule = await stores.pipelines.createSchedule({
      pipeline: 'hold',
      cron: '0 * * * *',
      timezone: 'UTC',
      params: { label: 'scheduled' },
      nextRunTime: 1_000,
    });
    const fired: string[] = [];
    const now = () => Date.parse('2026-11-27T10:30:00Z');
    const onFire = (event: { runId?: string; error?: string }) =>
      fired.push(event.runId ?? `error: ${event.error}`);
    const other = new PipelineService({ stores, pipelines: [holding] });
    const first = new PipelineScheduler(stores.pipelines, service, { now, onFire });
    const second = new PipelineScheduler(stores.pipelines, other, { now, onFire });
    await Promise.all([first.tick(), second.tick()]);
    expect(fired).toHaveLength(1);
    const updated = await stores.pipelines.getSchedule(schedule.scheduleId);
    expect(new Date(updated.nextRunTime).toISOString()).toBe('2026-11-27T11:00:00.000Z');
    expect(updated.lastRunId).toBe(fired[0]);
    const run = await stores.pipelines.getRun(fired[0]!);
    expect(run).toMatchObject({ trigger: `schedule:${schedule.scheduleId}`, params: { label: 'scheduled' } });
    await first.tick();
    expect(fired).toHaveLength(1);
    release();
    await service.cancel(run.runId).catch(() => undefined);
    await other.close();
    await stores.pipelines.deleteSchedule(schedule.scheduleId);
  });
});
