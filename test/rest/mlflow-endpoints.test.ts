/**
 * Every implemented MLflow REST endpoint, called with plain fetch and MLflow's request and response shapes
 * (https://mlflow.org/docs/latest/rest-api.html): paths, methods, snake_case fields, ids as strings,
 * `{ error_code, message }` errors. Complements mlflow-api.test.ts (the npm mlflow client, limits, auth).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { openStore } from '../../src/server/open-stores.js';
import { LocalArtifactStore } from '../../src/tracking/artifacts/local-artifact-store.js';

const API = '/api/2.0/mlflow';
/** Writing to a deleted run or experiment: 400 INVALID_PARAMETER_VALUE, as MLflow (`_check_run_is_active`). */
const INACTIVE_CODE = 'INVALID_PARAMETER_VALUE';
const PROXY = '/api/2.0/mlflow-artifacts/artifacts';

let directory: string;
let app: FastifyInstance;
let base: string;
let stores: Awaited<ReturnType<typeof openStore>>;
let artifacts: LocalArtifactStore;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'onset-rest-endpoints-'));
  artifacts = new LocalArtifactStore(join(directory, 'artifacts'));
  stores = await openStore(`sqlite:${join(directory, 'onset.db')}`, { artifactRoot: artifacts.rootUri });
  app = await buildApp({
    tracking: stores.tracking,
    registry: stores.registry,
    loggedModels: stores.loggedModels,
    artifacts,
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app?.close();
  await stores?.close();
  if (directory) await rm(directory, { recursive: true, force: true });
});

// ------------------------------------------------------------------ wire types (MLflow's JSON shapes)

interface KeyValue {
  key: string;
  value: string;
}
interface ExperimentJson {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
  tags: KeyValue[];
}
interface RunInfoJson {
  run_id: string;
  run_uuid: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
}
interface MetricJson {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}
interface RunJson {
  info: RunInfoJson;
  data: { metrics: MetricJson[]; params: KeyValue[]; tags: KeyValue[] };
}
interface ModelVersionJson {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id: string;
  current_stage: string;
  description: string;
  source: string;
  run_id?: string;
  status: string;
  tags: KeyValue[];
  aliases: string[];
  checksum: string;
}
interface RegisteredModelJson {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string;
  latest_versions: ModelVersionJson[];
  tags: KeyValue[];
  aliases: { alias: string; version: string }[];
}

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

// ------------------------------------------------------------------ helpers

function withQuery(path: string, query?: Record<string, string | readonly string[]>): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const item of typeof value === 'string' ? [value] : value) params.append(key, item);
  }
  return `${path}?${params.toString()}`;
}

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A call that must succeed (200); returns the body typed as the caller expects. */
async function ok<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
  const answer = await call(method, path, body);
  expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.json)}`).toBe(200);
  return answer.json as T;
}

const get = <T = Record<string, unknown>>(endpoint: string, query?: Record<string, string | string[]>) =>
  ok<T>('GET', withQuery(`${API}${endpoint}`, query));
const post = <T = Record<string, unknown>>(endpoint: string, body: unknown) =>
  ok<T>('POST', `${API}${endpoint}`, body);

/** Asserts an MLflow error body with this status and code (or one of these codes). */
function expectError(answer: Answer, status: number, code: string | readonly string[]): void {
  expect(answer.status, JSON.stringify(answer.json)).toBe(status);
  if (typeof code === 'string') expect(answer.json.error_code).toBe(code);
  else expect(code).toContain(answer.json.error_code);
  expect(typeof answer.json.message).toBe('string');
  expect(String(answer.json.message).length).toBeGreaterThan(0);
}

async function createExperiment(name: string, tags: KeyValue[] = []): Promise<string> {
  const { experiment_id } = await post<{ experiment_id: string }>('/experiments/create', { name, tags });
  return experiment_id;
}

async function createRun(experimentId: string, extra: Record<string, unknown> = {}): Promise<RunJson> {
  const { run } = await post<{ run: RunJson }>('/runs/create', { experiment_id: experimentId, ...extra });
  return run;
}

const getRun = async (runId: string) => (await get<{ run: RunJson }>('/runs/get', { run_id: runId })).run;

/** Walks every page of a paged call; `page(token)` returns the items and the next token. */
async function allPages<T>(
  page: (token: string | undefined) => Promise<{ items: T[]; next?: string }>,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const result = await page(token);
    items.push(...result.items);
    token = result.next;
    pages += 1;
    expect(pages, 'paging does not end').toBeLessThan(50);
  } while (token !== undefined);
  return { items, pages };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The run's artifact folder relative to the artifact store root (as the proxy addresses it). */
function runPrefix(run: RunJson): string {
  // Shown as MLflow's artifact proxy shows them: mlflow-artifacts:/<path under the root>.
  expect(run.info.artifact_uri.startsWith('mlflow-artifacts:/')).toBe(true);
  return run.info.artifact_uri.slice('mlflow-artifacts:/'.length);
}

async function putArtifact(path: string, content: string): Promise<Answer> {
  const response = await fetch(`${base}${PROXY}/${path}`, { method: 'PUT', body: content });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

// ------------------------------------------------------------------ experiments

describe('experiments', () => {
  it('creates, gets (by id and by name), tags, renames, deletes and restores an experiment', async () => {
    const id = await createExperiment('exp-life', [{ key: 'team', value: 'neuro' }]);
    expect(id).toMatch(/^\d+$/);
    expect(id).not.toBe('0'); // 0 is MLflow's Default experiment

    const { experiment } = await get<{ experiment: ExperimentJson }>('/experiments/get', {
      experiment_id: id,
    });
    expect(experiment).toEqual({
      experiment_id: id,
      name: 'exp-life',
      artifact_location: `mlflow-artifacts:/${id}`,
      lifecycle_stage: 'active',
      creation_time: expect.any(Number),
      last_update_time: expect.any(Number),
      tags: [{ key: 'team', value: 'neuro' }],
    });
    expect(Math.abs(experiment.creation_time - Date.now())).toBeLessThan(60_000);

    const byName = await get<{ experiment: ExperimentJson }>('/experiments/get-by-name', {
      experiment_name: 'exp-life',
    });
    expect(byName.experiment).toEqual(experiment);

    // set-experiment-tag answers {} and upserts.
    expect(
      await post('/experiments/set-experiment-tag', { experiment_id: id, key: 'team', value: 'motor' }),
    ).toEqual({});
    await post('/experiments/set-experiment-tag', { experiment_id: id, key: 'owner', value: 'ada' });
    const tagged = (await get<{ experiment: ExperimentJson }>('/experiments/get', { experiment_id: id }))
      .experiment;
    expect(tagged.tags).toEqual([
      { key: 'owner', value: 'ada' },
      { key: 'team', value: 'motor' },
    ]);

    // update renames: the old name is gone, the new one resolves to the same id.
    expect(await post('/experiments/update', { experiment_id: id, new_name: 'exp-renamed' })).toEqual({});
    expectError(
      await call('GET', `${API}/experiments/get-by-name?experiment_name=exp-life`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expect(
      (
        await get<{ experiment: ExperimentJson }>('/experiments/get-by-name', {
          experiment_name: 'exp-renamed',
        })
      ).experiment.experiment_id,
    ).toBe(id);

    // delete: still readable by id, now in the 'deleted' lifecycle stage; restore brings it back.
    expect(await post('/experiments/delete', { experiment_id: id })).toEqual({});
    const deleted = (await get<{ experiment: ExperimentJson }>('/experiments/get', { experiment_id: id }))
      .experiment;
    expect(deleted.lifecycle_stage).toBe('deleted');
    // A deleted experiment takes no new runs.
    expectError(await call('POST', `${API}/runs/create`, { experiment_id: id }), 400, INACTIVE_CODE);
    expect(await post('/experiments/restore', { experiment_id: id })).toEqual({});
    const restored = (await get<{ experiment: ExperimentJson }>('/experiments/get', { experiment_id: id }))
      .experiment;
    expect(restored.lifecycle_stage).toBe('active');
  });

  it('searches with a filter, order_by and paging (next_page_token round trip), and by view_type', async () => {
    const names = ['pg-c', 'pg-a', 'pg-e', 'pg-b', 'pg-d'];
    const ids = new Map<string, string>();
    for (const name of names) ids.set(name, await createExperiment(name, [{ key: 'kind', value: 'paged' }]));

    const { items, pages } = await allPages<ExperimentJson>(async (token) => {
      const page = await post<{ experiments?: ExperimentJson[]; next_page_token?: string }>(
        '/experiments/search',
        {
          filter: "name LIKE 'pg-%'",
          order_by: ['name DESC'],
          max_results: 2,
          ...(token ? { page_token: token } : {}),
        },
      );
      expect(page.experiments?.length ?? 0).toBeLessThanOrEqual(2);
      return {
        items: page.experiments ?? [],
        ...(page.next_page_token ? { next: page.next_page_token } : {}),
      };
    });
    expect(pages).toBe(3);
    expect(items.map((e) => e.name)).toEqual(['pg-e', 'pg-d', 'pg-c', 'pg-b', 'pg-a']);
    expect(items.map((e) => e.experiment_id)).toEqual(
      ['pg-e', 'pg-d', 'pg-c', 'pg-b', 'pg-a'].map((n) => ids.get(n)),
    );

    // The last page has no next_page_token at all (not an empty string, not null).
    const last = await post<Record<string, unknown>>('/experiments/search', {
      filter: "name LIKE 'pg-%'",
      max_results: 5,
    });
    expect(last).not.toHaveProperty('next_page_token');
    expect((last.experiments as ExperimentJson[]).length).toBe(5);

    // A tag filter, through GET with query parameters (MLflow 2 accepts both methods).
    const byTag = await get<{ experiments: ExperimentJson[] }>('/experiments/search', {
      filter: "tags.kind = 'paged' and name != 'pg-a'",
      order_by: ['name ASC'],
    });
    expect(byTag.experiments.map((e) => e.name)).toEqual(['pg-b', 'pg-c', 'pg-d', 'pg-e']);

    // view_type: a deleted experiment leaves ACTIVE_ONLY (the default) and appears in DELETED_ONLY and ALL.
    await post('/experiments/delete', { experiment_id: ids.get('pg-b') });
    const search = async (viewType?: string) =>
      (
        (
          await post<{ experiments?: ExperimentJson[] }>('/experiments/search', {
            filter: "name LIKE 'pg-%'",
            order_by: ['name ASC'],
            ...(viewType ? { view_type: viewType } : {}),
          })
        ).experiments ?? []
      ).map((e) => `${e.name}:${e.lifecycle_stage}`);
    expect(await search()).toEqual(['pg-a:active', 'pg-c:active', 'pg-d:active', 'pg-e:active']);
    expect(await search('ACTIVE_ONLY')).toEqual(await search());
    expect(await search('DELETED_ONLY')).toEqual(['pg-b:deleted']);
    expect(await search('ALL')).toEqual([
      'pg-a:active',
      'pg-b:deleted',
      'pg-c:active',
      'pg-d:active',
      'pg-e:active',
    ]);
    expectError(
      await call('POST', `${API}/experiments/search`, { view_type: 'SOMETIMES' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await call('POST', `${API}/experiments/search`, { page_token: 'not-a-token' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );

    // experiments/list (MLflow 1.x): every experiment of a view type, unpaged.
    const list = async (viewType?: string) =>
      (
        await get<{ experiments: ExperimentJson[] }>(
          '/experiments/list',
          viewType ? { view_type: viewType } : {},
        )
      ).experiments.map((e) => e.name);
    const active = await list();
    expect(active).toEqual(expect.arrayContaining(['Default', 'pg-a', 'pg-c', 'pg-d', 'pg-e']));
    expect(active).not.toContain('pg-b');
    expect(await list('DELETED_ONLY')).toEqual(['pg-b']);
    expect(await list('ALL')).toContain('pg-b');
  });

  it('answers 404 for unknown experiments and 400 for duplicates and bad input', async () => {
    expectError(
      await call('GET', `${API}/experiments/get?experiment_id=987654`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await call('GET', `${API}/experiments/get-by-name?experiment_name=nope`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(await call('GET', `${API}/experiments/get`), 400, 'INVALID_PARAMETER_VALUE');
    await createExperiment('exp-dup');
    expectError(
      await call('POST', `${API}/experiments/create`, { name: 'exp-dup' }),
      400,
      'RESOURCE_ALREADY_EXISTS',
    );
    const other = await createExperiment('exp-dup-2');
    expectError(
      await call('POST', `${API}/experiments/update`, { experiment_id: other, new_name: 'exp-dup' }),
      400,
      'RESOURCE_ALREADY_EXISTS',
    );
    expectError(
      await call('POST', `${API}/experiments/delete`, { experiment_id: '987654' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });
});

// ------------------------------------------------------------------ runs

describe('runs', () => {
  let experimentId: string;
  beforeAll(async () => {
    experimentId = await createExperiment('runs-exp');
  });

  it('creates, updates and gets a run in MLflow shapes', async () => {
    const run = await createRun(experimentId, {
      run_name: 'first',
      user_id: 'clinician',
      start_time: 1_700_000_000_000,
      tags: [{ key: 'team', value: 'neuro' }],
    });
    expect(run.info).toEqual({
      run_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      run_uuid: run.info.run_id,
      run_name: 'first',
      experiment_id: experimentId,
      user_id: 'clinician',
      status: 'RUNNING',
      start_time: 1_700_000_000_000,
      artifact_uri: `mlflow-artifacts:/${experimentId}/${run.info.run_id}/artifacts`,
      lifecycle_stage: 'active',
    });
    expect(run.info).not.toHaveProperty('end_time');
    expect(run.data.metrics).toEqual([]);
    expect(run.data.params).toEqual([]);
    expect(run.data.tags).toEqual(
      expect.arrayContaining([
        { key: 'mlflow.runName', value: 'first' },
        { key: 'team', value: 'neuro' },
      ]),
    );
    // A run created over HTTP belongs to a remote client: no owner-process tags of the server.
    expect(run.data.tags.map((t) => t.key)).not.toContain('onset.pid');

    const runId = run.info.run_id;
    const { run_info } = await post<{ run_info: RunInfoJson }>('/runs/update', {
      run_id: runId,
      status: 'FINISHED',
      end_time: 1_700_000_005_000,
      run_name: 'renamed',
    });
    expect(run_info).toMatchObject({
      run_id: runId,
      status: 'FINISHED',
      end_time: 1_700_000_005_000,
      run_name: 'renamed',
    });
    const fetched = await getRun(runId);
    expect(fetched.info).toMatchObject({
      status: 'FINISHED',
      end_time: 1_700_000_005_000,
      run_name: 'renamed',
    });
    expect(fetched.data.tags).toContainEqual({ key: 'mlflow.runName', value: 'renamed' });
    // run_uuid is MLflow's deprecated synonym of run_id.
    expect((await get<{ run: RunJson }>('/runs/get', { run_uuid: runId })).run.info.run_id).toBe(runId);

    expectError(
      await call('POST', `${API}/runs/update`, { run_id: runId, status: 'DONE' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await call('GET', `${API}/runs/get?run_id=ffffffffffffffffffffffffffffffff`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  it('logs metrics (NaN and ±Infinity as strings), write-once params, tags and batches', async () => {
    const runId = (await createRun(experimentId)).info.run_id;
    for (const [step, value] of [0.7, 0.5, 0.25].entries()) {
      expect(
        await post('/runs/log-metric', { run_id: runId, key: 'loss', value, timestamp: 1000 + step, step }),
      ).toEqual({});
    }
    await post('/runs/log-metric', { run_id: runId, key: 'odd', value: 'NaN', timestamp: 5, step: 0 });
    await post('/runs/log-metric', { run_id: runId, key: 'up', value: 'Infinity', timestamp: 5 });
    await post('/runs/log-metric', { run_id: runId, key: 'down', value: '-Infinity', timestamp: 5 });

    const metrics = (await getRun(runId)).data.metrics;
    const latest = (key: string) => metrics.find((m) => m.key === key);
    expect(latest('loss')).toEqual({ key: 'loss', value: 0.25, timestamp: 1002, step: 2 });
    expect(latest('odd')).toEqual({ key: 'odd', value: 'NaN', timestamp: 5, step: 0 });
    expect(latest('up')?.value).toBe('Infinity');
    expect(latest('down')?.value).toBe('-Infinity');

    const history = await get<{ metrics: MetricJson[] }>('/metrics/get-history', {
      run_id: runId,
      metric_key: 'odd',
    });
    expect(history.metrics).toEqual([{ key: 'odd', value: 'NaN', timestamp: 5, step: 0 }]);
    expectError(
      await call('POST', `${API}/runs/log-metric`, {
        run_id: runId,
        key: 'bad',
        value: 'lots',
        timestamp: 1,
      }),
      400,
      'INVALID_PARAMETER_VALUE',
    );

    // Params are write-once: the same value again is fine, another value is refused and changes nothing.
    expect(await post('/runs/log-parameter', { run_id: runId, key: 'max_depth', value: '3' })).toEqual({});
    expect(await post('/runs/log-parameter', { run_id: runId, key: 'max_depth', value: '3' })).toEqual({});
    const changed = await call('POST', `${API}/runs/log-parameter`, {
      run_id: runId,
      key: 'max_depth',
      value: '4',
    });
    expectError(changed, 400, 'INVALID_PARAMETER_VALUE');
    expect((await getRun(runId)).data.params).toEqual([{ key: 'max_depth', value: '3' }]);

    // Tags: set-tag upserts, delete-tag removes; deleting a missing tag is 404.
    expect(await post('/runs/set-tag', { run_id: runId, key: 'note', value: 'a' })).toEqual({});
    await post('/runs/set-tag', { run_id: runId, key: 'note', value: 'b' });
    expect((await getRun(runId)).data.tags).toContainEqual({ key: 'note', value: 'b' });
    expect(await post('/runs/delete-tag', { run_id: runId, key: 'note' })).toEqual({});
    expect((await getRun(runId)).data.tags.map((t) => t.key)).not.toContain('note');
    expectError(
      await call('POST', `${API}/runs/delete-tag`, { run_id: runId, key: 'note' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );

    // log-batch: metrics, params and tags in one call.
    expect(
      await post('/runs/log-batch', {
        run_id: runId,
        metrics: [
          { key: 'auc', value: 0.9, timestamp: 10, step: 0 },
          { key: 'auc', value: 0.95, timestamp: 11, step: 1 },
        ],
        params: [{ key: 'eta', value: '0.1' }],
        tags: [{ key: 'stage', value: 'dev' }],
      }),
    ).toEqual({});
    const batched = await getRun(runId);
    expect(batched.data.metrics).toContainEqual({ key: 'auc', value: 0.95, timestamp: 11, step: 1 });
    expect(batched.data.params).toEqual([
      { key: 'eta', value: '0.1' },
      { key: 'max_depth', value: '3' },
    ]);
    expect(batched.data.tags).toContainEqual({ key: 'stage', value: 'dev' });
    // All or nothing: a batch with a changed param writes none of its metrics.
    expectError(
      await call('POST', `${API}/runs/log-batch`, {
        run_id: runId,
        metrics: [{ key: 'never', value: 1, timestamp: 1, step: 0 }],
        params: [{ key: 'eta', value: '0.2' }],
      }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expect((await getRun(runId)).data.metrics.map((m) => m.key)).not.toContain('never');
  });

  it('pages a metric history with next_page_token, ordered by step', async () => {
    const runId = (await createRun(experimentId)).info.run_id;
    // Logged out of order: the history comes back by step.
    const steps = [3, 0, 4, 1, 2];
    await post('/runs/log-batch', {
      run_id: runId,
      metrics: steps.map((step) => ({ key: 'curve', value: step / 10, timestamp: 100 + step, step })),
    });
    const { items, pages } = await allPages<MetricJson>(async (token) => {
      const page = await get<{ metrics?: MetricJson[]; next_page_token?: string }>('/metrics/get-history', {
        run_id: runId,
        metric_key: 'curve',
        max_results: '2',
        ...(token ? { page_token: token } : {}),
      });
      return { items: page.metrics ?? [], ...(page.next_page_token ? { next: page.next_page_token } : {}) };
    });
    expect(pages).toBe(3);
    expect(items.map((m) => m.step)).toEqual([0, 1, 2, 3, 4]);
    expect(items.map((m) => m.value)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expectError(
      await call(
        'GET',
        `${API}/metrics/get-history?run_id=ffffffffffffffffffffffffffffffff&metric_key=curve`,
      ),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  it('searches runs: filter, order_by metrics DESC (missing last), paging, run_view_type', async () => {
    const experiment = await createExperiment('runs-search');
    const aucs: (number | string | undefined)[] = [0.81, 0.97, undefined, 0.88, 0.93, 'NaN'];
    const ids: string[] = [];
    for (const [i, auc] of aucs.entries()) {
      const runId = (await createRun(experiment, { run_name: `r${i}`, start_time: 1_000 + i })).info.run_id;
      ids.push(runId);
      if (auc !== undefined)
        await post('/runs/log-metric', { run_id: runId, key: 'cv_roc_auc', value: auc, timestamp: 1 });
      await post('/runs/log-parameter', { run_id: runId, key: 'depth', value: String(i % 2) });
    }
    const names = (runs: RunJson[]) => runs.map((r) => r.info.run_name);

    const { items, pages } = await allPages<RunJson>(async (token) => {
      const page = await post<{ runs?: RunJson[]; next_page_token?: string }>('/runs/search', {
        experiment_ids: [experiment],
        order_by: ['metrics.cv_roc_auc DESC'],
        max_results: 2,
        ...(token ? { page_token: token } : {}),
      });
      return { items: page.runs ?? [], ...(page.next_page_token ? { next: page.next_page_token } : {}) };
    });
    expect(pages).toBe(3);
    // As MLflow: NaN after every number, missing values last, whatever the direction.
    expect(names(items)).toEqual(['r1', 'r4', 'r3', 'r0', 'r5', 'r2']);

    const ascending = await post<{ runs: RunJson[] }>('/runs/search', {
      experiment_ids: [experiment],
      order_by: ['metrics.cv_roc_auc ASC'],
    });
    expect(names(ascending.runs)).toEqual(['r0', 'r3', 'r4', 'r1', 'r5', 'r2']);

    // Without order_by: newest start_time first.
    const newest = await post<{ runs: RunJson[] }>('/runs/search', { experiment_ids: [experiment] });
    expect(names(newest.runs)).toEqual(['r5', 'r4', 'r3', 'r2', 'r1', 'r0']);

    const filtered = await post<{ runs: RunJson[] }>('/runs/search', {
      experiment_ids: [experiment],
      filter: "metrics.cv_roc_auc > 0.85 and params.depth = '1'",
      order_by: ['attributes.run_name ASC'],
    });
    expect(names(filtered.runs)).toEqual(['r1', 'r3']);
    expect(filtered).not.toHaveProperty('next_page_token');

    // delete / restore, seen through run_view_type.
    const target = ids[3]!;
    expect(await post('/runs/delete', { run_id: target })).toEqual({});
    expect((await getRun(target)).info.lifecycle_stage).toBe('deleted');
    const view = async (runViewType?: string) =>
      names(
        (
          await post<{ runs?: RunJson[] }>('/runs/search', {
            experiment_ids: [experiment],
            order_by: ['attributes.run_name ASC'],
            ...(runViewType ? { run_view_type: runViewType } : {}),
          })
        ).runs ?? [],
      );
    expect(await view()).toEqual(['r0', 'r1', 'r2', 'r4', 'r5']);
    expect(await view('DELETED_ONLY')).toEqual(['r3']);
    expect(await view('ALL')).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    // A deleted run takes no new data.
    expectError(
      await call('POST', `${API}/runs/log-metric`, { run_id: target, key: 'x', value: 1, timestamp: 1 }),
      400,
      INACTIVE_CODE,
    );
    expect(await post('/runs/restore', { run_id: target })).toEqual({});
    expect((await getRun(target)).info.lifecycle_stage).toBe('active');
    expect(await view('DELETED_ONLY')).toEqual([]);

    // Deleting the experiment deletes its active runs; restoring it brings back those, and not a run
    // deleted on its own before.
    await post('/runs/delete', { run_id: ids[0] });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await post('/experiments/delete', { experiment_id: experiment });
    expect(await view('DELETED_ONLY')).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    await post('/experiments/restore', { experiment_id: experiment });
    expect(await view()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(await view('DELETED_ONLY')).toEqual(['r0']);

    expectError(
      await call('POST', `${API}/runs/search`, { experiment_ids: [experiment], filter: 'metrics.x >' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
  });

  it('lists run artifacts, nested paths included', async () => {
    const run = await createRun(experimentId);
    const prefix = runPrefix(run);
    expect((await putArtifact(`${prefix}/model/model.json`, '{"a":1}')).status).toBe(200);
    expect((await putArtifact(`${prefix}/model/extra/notes.txt`, 'hello')).status).toBe(200);
    expect((await putArtifact(`${prefix}/readme.md`, '# r')).status).toBe(200);

    const root = await get<{ root_uri: string; files: unknown[] }>('/artifacts/list', {
      run_id: run.info.run_id,
    });
    expect(root.root_uri).toBe(run.info.artifact_uri);
    expect(root.files).toEqual([
      { path: 'model', is_dir: true },
      { path: 'readme.md', is_dir: false, file_size: 3 },
    ]);
    const model = await get<{ files: unknown[] }>('/artifacts/list', {
      run_id: run.info.run_id,
      path: 'model',
    });
    expect(model.files).toEqual([
      { path: 'model/extra', is_dir: true },
      { path: 'model/model.json', is_dir: false, file_size: 7 },
    ]);
    const nested = await get<{ files: unknown[] }>('/artifacts/list', {
      run_id: run.info.run_id,
      path: 'model/extra',
    });
    expect(nested.files).toEqual([{ path: 'model/extra/notes.txt', is_dir: false, file_size: 5 }]);
    expectError(
      await call('GET', withQuery(`${API}/artifacts/list`, { run_id: run.info.run_id, path: '../../..' })),
      400,
      'INVALID_PARAMETER_VALUE',
    );
  });
});

// ------------------------------------------------------------------ the artifact proxy

describe('artifact proxy', () => {
  it('uploads (PUT), downloads (GET, with the sha256 header) and lists (GET ?path=)', async () => {
    const content = 'patient-free content\n';
    const put = await putArtifact('proxy/dir/file.txt', content);
    expect(put.status).toBe(200);
    expect(put.json).toEqual({ path: 'proxy/dir/file.txt', size: content.length, sha256: sha256(content) });

    const download = await fetch(`${base}${PROXY}/proxy/dir/file.txt`);
    expect(download.status).toBe(200);
    expect(download.headers.get('x-onset-sha256')).toBe(sha256(content));
    expect(await download.text()).toBe(content);

    const top = await ok<{ files: unknown[] }>('GET', `${PROXY}?path=proxy`);
    expect(top.files).toEqual([{ path: 'dir', is_dir: true }]);
    const inner = await ok<{ files: unknown[] }>('GET', `${PROXY}?path=proxy/dir`);
    expect(inner.files).toEqual([{ path: 'file.txt', is_dir: false, file_size: content.length }]);

    const missing = await call('GET', `${PROXY}/proxy/dir/absent.txt`);
    expectError(missing, 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});

// ------------------------------------------------------------------ registry

describe('model registry', () => {
  const MODEL = '{"format":"onset-model","tiny":true}\n';
  let run: RunJson;
  let otherRun: RunJson;
  const source = (r: RunJson) => `runs:/${r.info.run_id}/model/model.json`;

  beforeAll(async () => {
    const experiment = await createExperiment('registry-exp');
    run = await createRun(experiment);
    otherRun = await createRun(experiment);
    for (const r of [run, otherRun]) {
      expect((await putArtifact(`${runPrefix(r)}/model/model.json`, MODEL)).status).toBe(200);
    }
  });

  it('creates, gets, searches (paged), updates and tags registered models', async () => {
    const { registered_model } = await post<{ registered_model: RegisteredModelJson }>(
      '/registered-models/create',
      { name: 'rm-a', description: 'first', tags: [{ key: 'domain', value: 'neuro' }] },
    );
    expect(registered_model).toEqual({
      name: 'rm-a',
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: expect.any(Number),
      description: 'first',
      latest_versions: [],
      tags: [{ key: 'domain', value: 'neuro' }],
      aliases: [],
    });
    expectError(
      await call('POST', `${API}/registered-models/create`, { name: 'rm-a' }),
      400,
      'RESOURCE_ALREADY_EXISTS',
    );
    const got = await get<{ registered_model: RegisteredModelJson }>('/registered-models/get', {
      name: 'rm-a',
    });
    expect(got.registered_model).toEqual(registered_model);

    for (const name of ['rm-c', 'rm-b']) await post('/registered-models/create', { name });
    const { items, pages } = await allPages<RegisteredModelJson>(async (token) => {
      const page = await get<{ registered_models?: RegisteredModelJson[]; next_page_token?: string }>(
        '/registered-models/search',
        { filter: "name LIKE 'rm-%'", max_results: '2', ...(token ? { page_token: token } : {}) },
      );
      return {
        items: page.registered_models ?? [],
        ...(page.next_page_token ? { next: page.next_page_token } : {}),
      };
    });
    expect(pages).toBe(2);
    expect(items.map((m) => m.name)).toEqual(['rm-a', 'rm-b', 'rm-c']);
    const byTag = await post<{ registered_models: RegisteredModelJson[] }>('/registered-models/search', {
      filter: "tags.domain = 'neuro'",
    });
    expect(byTag.registered_models.map((m) => m.name)).toEqual(['rm-a']);

    const updated = await ok<{ registered_model: RegisteredModelJson }>(
      'PATCH',
      `${API}/registered-models/update`,
      {
        name: 'rm-a',
        description: 'second',
      },
    );
    expect(updated.registered_model.description).toBe('second');
    expect(await post('/registered-models/set-tag', { name: 'rm-a', key: 'owner', value: 'ada' })).toEqual(
      {},
    );
    const tagged = await get<{ registered_model: RegisteredModelJson }>('/registered-models/get', {
      name: 'rm-a',
    });
    expect(tagged.registered_model.tags).toEqual([
      { key: 'domain', value: 'neuro' },
      { key: 'owner', value: 'ada' },
    ]);
    expect(tagged.registered_model.description).toBe('second');
  });

  it('creates, gets, searches, updates and tags model versions', async () => {
    await post('/registered-models/create', { name: 'mv-model' });
    const { model_version: v1 } = await post<{ model_version: ModelVersionJson }>('/model-versions/create', {
      name: 'mv-model',
      source: source(run),
      run_id: run.info.run_id,
      description: 'from run one',
      tags: [{ key: 'origin', value: 'test' }],
    });
    expect(v1).toMatchObject({
      name: 'mv-model',
      version: '1',
      current_stage: 'None',
      description: 'from run one',
      source: source(run),
      run_id: run.info.run_id,
      status: 'READY',
      tags: [{ key: 'origin', value: 'test' }],
      aliases: [],
      checksum: sha256(MODEL),
    });
    expect(typeof v1.creation_timestamp).toBe('number');
    const { model_version: v2 } = await post<{ model_version: ModelVersionJson }>('/model-versions/create', {
      name: 'mv-model',
      source: source(otherRun),
      run_id: otherRun.info.run_id,
    });
    expect(v2.version).toBe('2');

    const got = await get<{ model_version: ModelVersionJson }>('/model-versions/get', {
      name: 'mv-model',
      version: '1',
    });
    expect(got.model_version).toEqual(v1);

    const byName = await get<{ model_versions: ModelVersionJson[] }>('/model-versions/search', {
      filter: "name = 'mv-model'",
    });
    expect(byName.model_versions.map((v) => v.version)).toEqual(['2', '1']);
    const byRun = await get<{ model_versions: ModelVersionJson[] }>('/model-versions/search', {
      filter: `run_id = '${otherRun.info.run_id}'`,
    });
    expect(byRun.model_versions.map((v) => `${v.name}/${v.version}`)).toEqual(['mv-model/2']);
    const paged = await get<{ model_versions: ModelVersionJson[]; next_page_token?: string }>(
      '/model-versions/search',
      { filter: "name = 'mv-model'", max_results: '1' },
    );
    expect(paged.model_versions.map((v) => v.version)).toEqual(['2']);
    expect(paged.next_page_token).toEqual(expect.any(String));
    const second = await get<{ model_versions: ModelVersionJson[] }>('/model-versions/search', {
      filter: "name = 'mv-model'",
      max_results: '1',
      page_token: paged.next_page_token!,
    });
    expect(second.model_versions.map((v) => v.version)).toEqual(['1']);

    const updated = await ok<{ model_version: ModelVersionJson }>('PATCH', `${API}/model-versions/update`, {
      name: 'mv-model',
      version: '2',
      description: 'better',
    });
    expect(updated.model_version).toMatchObject({ version: '2', description: 'better' });
    expect(
      await post('/model-versions/set-tag', {
        name: 'mv-model',
        version: '2',
        key: 'validated',
        value: 'yes',
      }),
    ).toEqual({});
    const tagged = await get<{ model_version: ModelVersionJson }>('/model-versions/get', {
      name: 'mv-model',
      version: '2',
    });
    expect(tagged.model_version.tags).toEqual([{ key: 'validated', value: 'yes' }]);
    expect(tagged.model_version.description).toBe('better');

    // MLflow's REST API does not create the registered model on the fly: 404.
    expectError(
      await call('POST', `${API}/model-versions/create`, {
        name: 'never-created',
        source: source(run),
        run_id: run.info.run_id,
      }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  it('transitions stages (archive_existing_versions archives the old Production version) and gives download URIs', async () => {
    await post('/registered-models/create', { name: 'stage-model' });
    for (const r of [run, otherRun]) {
      await post('/model-versions/create', { name: 'stage-model', source: source(r), run_id: r.info.run_id });
    }
    const transition = (version: string, stage: string, archive: boolean) =>
      post<{ model_version: ModelVersionJson }>('/model-versions/transition-stage', {
        name: 'stage-model',
        version,
        stage,
        archive_existing_versions: archive,
      });
    expect((await transition('1', 'Production', false)).model_version.current_stage).toBe('Production');
    const moved = await transition('2', 'Production', true);
    expect(moved.model_version).toMatchObject({ version: '2', current_stage: 'Production' });
    const old = await get<{ model_version: ModelVersionJson }>('/model-versions/get', {
      name: 'stage-model',
      version: '1',
    });
    expect(old.model_version.current_stage).toBe('Archived');

    const latest = async (stages?: string[]) =>
      (
        await post<{ model_versions: ModelVersionJson[] }>('/registered-models/get-latest-versions', {
          name: 'stage-model',
          ...(stages ? { stages } : {}),
        })
      ).model_versions.map((v) => `${v.version}:${v.current_stage}`);
    expect(await latest(['Production'])).toEqual(['2:Production']);
    expect(await latest(['Archived'])).toEqual(['1:Archived']);
    expect(await latest(['Staging'])).toEqual([]);
    // MLflow's order: by the oldest version in each stage.
    expect(await latest()).toEqual(['1:Archived', '2:Production']);
    const viaGet = await get<{ model_versions: ModelVersionJson[] }>(
      '/registered-models/get-latest-versions',
      {
        name: 'stage-model',
        stages: ['production'],
      },
    );
    expect(viaGet.model_versions.map((v) => v.version)).toEqual(['2']);
    const model = await get<{ registered_model: RegisteredModelJson }>('/registered-models/get', {
      name: 'stage-model',
    });
    expect(model.registered_model.latest_versions.map((v) => `${v.version}:${v.current_stage}`)).toEqual([
      '1:Archived',
      '2:Production',
    ]);

    // Without archive_existing_versions two versions may share Staging.
    await transition('1', 'Staging', false);
    await transition('2', 'Staging', false);
    const versions = await get<{ model_versions: ModelVersionJson[] }>('/model-versions/search', {
      filter: "name = 'stage-model'",
    });
    expect(versions.model_versions.map((v) => `${v.version}:${v.current_stage}`)).toEqual([
      '2:Staging',
      '1:Staging',
    ]);

    expectError(
      await call('POST', `${API}/model-versions/transition-stage`, {
        name: 'stage-model',
        version: '1',
        stage: 'Shipped',
        archive_existing_versions: false,
      }),
      400,
      'INVALID_PARAMETER_VALUE',
    );

    const uri = await get<{ artifact_uri: string }>('/model-versions/get-download-uri', {
      name: 'stage-model',
      version: '2',
    });
    expect(uri).toEqual({ artifact_uri: `${otherRun.info.artifact_uri}/model/model.json` });
  });

  it('sets, gets and deletes aliases; 404 for unknown models and versions, 400 for missing aliases and malformed ones', async () => {
    await post('/registered-models/create', { name: 'alias-model' });
    for (const r of [run, otherRun]) {
      await post('/model-versions/create', { name: 'alias-model', source: source(r), run_id: r.info.run_id });
    }
    expect(
      await post('/registered-models/alias', { name: 'alias-model', alias: 'champion', version: '2' }),
    ).toEqual({});
    const byAlias = await get<{ model_version: ModelVersionJson }>('/registered-models/alias', {
      name: 'alias-model',
      alias: 'champion',
    });
    expect(byAlias.model_version).toMatchObject({ name: 'alias-model', version: '2', aliases: ['champion'] });
    const model = await get<{ registered_model: RegisteredModelJson }>('/registered-models/get', {
      name: 'alias-model',
    });
    expect(model.registered_model.aliases).toEqual([{ alias: 'champion', version: '2' }]);
    // Re-pointing an alias moves it.
    await post('/registered-models/alias', { name: 'alias-model', alias: 'champion', version: '1' });
    expect(
      (
        await get<{ model_version: ModelVersionJson }>('/registered-models/alias', {
          name: 'alias-model',
          alias: 'champion',
        })
      ).model_version.version,
    ).toBe('1');

    expect(
      await ok('DELETE', `${API}/registered-models/alias`, { name: 'alias-model', alias: 'champion' }),
    ).toEqual({});
    // A missing alias: 400 INVALID_PARAMETER_VALUE, MLflow's answer; deleting it again is no error.
    const missing = await call('GET', `${API}/registered-models/alias?name=alias-model&alias=champion`);
    expectError(missing, 400, 'INVALID_PARAMETER_VALUE');
    expect(missing.json.message).toMatch(/^Registered model alias champion not found/);
    expect(
      await ok('DELETE', `${API}/registered-models/alias`, { name: 'alias-model', alias: 'champion' }),
    ).toEqual({});

    // 404: unknown model, version or alias target.
    expectError(await call('GET', `${API}/registered-models/get?name=ghost`), 404, 'RESOURCE_DOES_NOT_EXIST');
    expectError(
      await call('GET', `${API}/model-versions/get?name=alias-model&version=99`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await call('GET', `${API}/model-versions/get?name=ghost&version=1`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await call('GET', `${API}/registered-models/alias?name=ghost&alias=champion`),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await call('DELETE', `${API}/registered-models/alias`, { name: 'ghost', alias: 'champion' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await call('POST', `${API}/registered-models/alias`, {
        name: 'alias-model',
        alias: 'x',
        version: '99',
      }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await call('GET', `${API}/model-versions/get-download-uri?name=alias-model&version=99`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    // 400: malformed version numbers and reserved or invalid alias names.
    expectError(
      await call('GET', `${API}/model-versions/get?name=alias-model&version=abc`),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expectError(
      await call('GET', `${API}/model-versions/get?name=alias-model`),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    for (const alias of ['latest', 'v3', 'bad alias']) {
      expectError(
        await call('POST', `${API}/registered-models/alias`, { name: 'alias-model', alias, version: '1' }),
        400,
        'INVALID_PARAMETER_VALUE',
      );
    }
  });

  it('renames a registered model (versions and aliases follow) and deletes versions and models', async () => {
    await post('/registered-models/create', { name: 'old-name' });
    await post('/model-versions/create', { name: 'old-name', source: source(run), run_id: run.info.run_id });
    await post('/model-versions/create', {
      name: 'old-name',
      source: source(otherRun),
      run_id: otherRun.info.run_id,
    });
    await post('/registered-models/alias', { name: 'old-name', alias: 'champion', version: '2' });

    const renamed = await post<{ registered_model: RegisteredModelJson }>('/registered-models/rename', {
      name: 'old-name',
      new_name: 'new-name',
    });
    expect(renamed.registered_model.name).toBe('new-name');
    expect(renamed.registered_model.aliases).toEqual([{ alias: 'champion', version: '2' }]);
    expectError(
      await call('GET', `${API}/registered-models/get?name=old-name`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    const v1 = await get<{ model_version: ModelVersionJson }>('/model-versions/get', {
      name: 'new-name',
      version: '1',
    });
    expect(v1.model_version).toMatchObject({ name: 'new-name', version: '1', run_id: run.info.run_id });
    const champion = await get<{ model_version: ModelVersionJson }>('/registered-models/alias', {
      name: 'new-name',
      alias: 'champion',
    });
    expect(champion.model_version).toMatchObject({ name: 'new-name', version: '2' });
    const versions = await get<{ model_versions?: ModelVersionJson[] }>('/model-versions/search', {
      filter: "name = 'old-name'",
    });
    expect(versions.model_versions ?? []).toEqual([]);

    // model-versions/delete (DELETE): the version and its alias go; numbers are not reused.
    expect(await ok('DELETE', `${API}/model-versions/delete`, { name: 'new-name', version: '2' })).toEqual(
      {},
    );
    expectError(
      await call('GET', `${API}/model-versions/get?name=new-name&version=2`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectError(
      await call('GET', `${API}/registered-models/alias?name=new-name&alias=champion`),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    const v3 = await post<{ model_version: ModelVersionJson }>('/model-versions/create', {
      name: 'new-name',
      source: source(run),
      run_id: run.info.run_id,
    });
    expect(v3.model_version.version).toBe('3');

    // registered-models/delete (DELETE): the model and all its versions.
    expect(await ok('DELETE', `${API}/registered-models/delete`, { name: 'new-name' })).toEqual({});
    expectError(
      await call('GET', `${API}/registered-models/get?name=new-name`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    const left = await get<{ model_versions?: ModelVersionJson[] }>('/model-versions/search', {
      filter: "name = 'new-name'",
    });
    expect(left.model_versions ?? []).toEqual([]);
    expectError(
      await call('DELETE', `${API}/registered-models/delete`, { name: 'new-name' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });
});

// ------------------------------------------------------------------ methods

describe('HTTP methods', () => {
  it('refuses a method an endpoint does not take with 405, Allow and ENDPOINT_NOT_FOUND, as MLflow', async () => {
    const wrong: [string, string][] = [
      ['POST', '/experiments/get'],
      ['POST', '/experiments/get-by-name'],
      ['POST', '/experiments/list'],
      ['POST', '/runs/get'],
      ['POST', '/metrics/get-history'],
      ['POST', '/artifacts/list'],
      ['POST', '/model-versions/get'],
      ['POST', '/model-versions/get-download-uri'],
      ['GET', '/experiments/create'],
      ['GET', '/runs/create'],
      ['GET', '/runs/search'],
      ['GET', '/runs/log-metric'],
      ['POST', '/registered-models/update'],
      ['POST', '/registered-models/delete'],
      ['POST', '/model-versions/delete'],
      ['PUT', '/registered-models/alias'],
    ];
    for (const [method, endpoint] of wrong) {
      const answer = await call(method, `${API}${endpoint}`, method === 'GET' ? undefined : {});
      expect(answer.status, `${method} ${endpoint}`).toBe(405);
      expect(answer.json, `${method} ${endpoint}`).toEqual({
        error_code: 'ENDPOINT_NOT_FOUND',
        message: expect.stringContaining(endpoint),
      });
    }
  });

  it('serves /health', async () => {
    expect(await ok('GET', '/health')).toEqual({ status: 'ok' });
  });
});

// ------------------------------------------------------------------ fixed bugs (kept as regression tests)

describe('known bugs', () => {
  it('artifacts/list with a trailing slash in path lists clean child paths (no "//")', async () => {
    // MLflow joins with posixpath.join and answers "model/model.json" for path=model/.
    const experiment = await createExperiment('bug-trailing-slash');
    const run = await createRun(experiment);
    await putArtifact(`${runPrefix(run)}/model/model.json`, '{}');
    const listed = await get<{ files: { path: string }[] }>('/artifacts/list', {
      run_id: run.info.run_id,
      path: 'model/',
    });
    expect(listed.files.map((f) => f.path)).toEqual(['model/model.json']);
  });

  it('accepts integer experiment ids, as MLflow does', async () => {
    // MLflow's server stringifies integer `experiment_id` / `experiment_ids` before parsing
    // (`_stringify_all_experiment_ids`, for old clients and hand-written JSON); so does Onset.
    const experiment = await createExperiment('bug-integer-ids');
    const created = await call('POST', `${API}/runs/create`, { experiment_id: Number(experiment) });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const found = await call('POST', `${API}/runs/search`, { experiment_ids: [Number(experiment)] });
    expect(found.status, JSON.stringify(found.json)).toBe(200);
    expect((found.json.runs as RunJson[]).length).toBe(1);
  });

  it('experiments/restore does not revive a run deleted on its own in the same millisecond as the experiment', async () => {
    // The runs an experiment's deletion takes are marked in that transaction: a run deleted on its own,
    // even in the same millisecond, stays deleted when the experiment is restored.
    const experiment = await createExperiment('bug-same-ms');
    const alone = (await createRun(experiment)).info.run_id;
    const withExperiment = (await createRun(experiment)).info.run_id;
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now);
    try {
      await post('/runs/delete', { run_id: alone });
      await post('/experiments/delete', { experiment_id: experiment });
    } finally {
      clock.mockRestore();
    }
    await post('/experiments/restore', { experiment_id: experiment });
    expect((await getRun(withExperiment)).info.lifecycle_stage).toBe('active');
    expect((await getRun(alone)).info.lifecycle_stage).toBe('deleted');
  });
});
