/**
 * MLflow's request leniency, now written into the routes' schemas: int64 fields as numbers or strings of
 * digits, ids as strings or integers, lists as one value or a repeated key, GET from the query string and
 * other methods from the body with the query string as fallback, null as absent, `run_uuid` for `run_id`,
 * empty strings; and the one 400 answer every schema failure gets.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineService } from '../../src/pipelines/pipeline-service.js';
import { buildApp } from '../../src/server/app.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('leniency');
const API = '/api/2.0/mlflow';
let app: FastifyInstance;

beforeAll(async () => {
  app = await buildApp({ ...temporary.stores, pipelines: undefined });
});
afterAll(async () => {
  await app?.close();
});

async function call(method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) {
  const response = await app.inject({ method, url, ...(payload ? { payload } : {}) });
  return { status: response.statusCode, json: response.json() as Record<string, unknown> };
}
async function ok(method: 'GET' | 'POST', url: string, payload?: object) {
  const answer = await call(method, url, payload);
  expect(answer.status, `${method} ${url}: ${JSON.stringify(answer.json)}`).toBe(200);
  return answer.json;
}
async function newRun(experimentName: string): Promise<string> {
  const { experiment_id } = await ok('POST', `${API}/experiments/create`, { name: experimentName });
  const { run } = await ok('POST', `${API}/runs/create`, { experiment_id });
  return (run as { info: { run_id: string } }).info.run_id;
}
const metricsOf = async (runId: string) =>
  ((await ok('GET', `${API}/runs/get?run_id=${runId}`)).run as { data: { metrics: unknown[] } }).data.metrics;

describe("MLflow's leniency", () => {
  it('takes int64 fields as numbers or strings of digits, an empty one as absent', async () => {
    const runId = await newRun('int64');
    await ok('POST', `${API}/runs/log-metric`, { run_id: runId, key: 'a', value: 1, timestamp: 7, step: 2 });
    await ok('POST', `${API}/runs/log-metric`, {
      run_id: runId,
      key: 'b',
      value: 1,
      timestamp: '8',
      step: '3',
    });
    await ok('POST', `${API}/runs/log-metric`, { run_id: runId, key: 'c', value: 1, timestamp: 9, step: '' });
    expect(await metricsOf(runId)).toEqual([
      { key: 'a', value: 1, timestamp: 7, step: 2 },
      { key: 'b', value: 1, timestamp: 8, step: 3 },
      { key: 'c', value: 1, timestamp: 9, step: 0 },
    ]);
    for (const step of ['2.5', 'two', 2.5, '99999999999999999', true]) {
      const refused = await call('POST', `${API}/runs/log-metric`, {
        run_id: runId,
        key: 'd',
        value: 1,
        step,
      });
      expect(refused.status, String(step)).toBe(400);
      expect(refused.json.errors, String(step)).toEqual([
        { field: 'step', message: expect.stringMatching(/^must be an integer/), reason: 'wrong_type' },
      ]);
    }
    // In a query string every value is a string.
    const page = await ok('GET', `${API}/experiments/search?max_results=1`);
    expect((page.experiments as unknown[]).length).toBe(1);
  });

  it('takes metric values as numbers, "NaN" and infinities, or numeric strings', async () => {
    const runId = await newRun('metric-values');
    await ok('POST', `${API}/runs/log-metric`, { run_id: runId, key: 'x', value: ' 0.25 ', timestamp: 1 });
    await ok('POST', `${API}/runs/log-metric`, { run_id: runId, key: 'y', value: '-Infinity', timestamp: 1 });
    expect(await metricsOf(runId)).toEqual([
      { key: 'x', value: 0.25, timestamp: 1, step: 0 },
      { key: 'y', value: '-Infinity', timestamp: 1, step: 0 },
    ]);
    const refused = await call('POST', `${API}/runs/log-metric`, { run_id: runId, key: 'z', value: '' });
    expect(refused.json.errors).toEqual([
      { field: 'value', message: expect.any(String), reason: 'wrong_type' },
    ]);
  });

  it('takes ids as strings or integers, and lists as arrays, one value or a repeated query key', async () => {
    const experiment = String((await ok('POST', `${API}/experiments/create`, { name: 'ids' })).experiment_id);
    for (const name of ['b', 'a', 'c']) {
      await ok('POST', `${API}/runs/create`, { experiment_id: Number(experiment), run_name: name });
    }
    const names = (answer: Record<string, unknown>) =>
      (answer.runs as { info: { run_name: string } }[]).map((run) => run.info.run_name);
    // One id instead of a list, and one order_by clause instead of a list.
    const one = await ok('POST', `${API}/runs/search`, {
      experiment_ids: experiment,
      order_by: 'attributes.run_name ASC',
    });
    expect(names(one)).toEqual(['a', 'b', 'c']);
    expect((await ok('GET', `${API}/experiments/get?experiment_id=${experiment}`)).experiment).toMatchObject({
      name: 'ids',
    });
    // A repeated key is a list; a single one a list of one.
    await ok('POST', `${API}/experiments/create`, { name: 'ids-2' });
    const listed = (query: string) =>
      ok('GET', `${API}/experiments/search?filter=name%20LIKE%20'ids%25'&${query}`).then((answer) =>
        (answer.experiments as { name: string }[]).map((e) => e.name),
      );
    expect(await listed('order_by=name%20DESC')).toEqual(['ids-2', 'ids']);
    expect(await listed('order_by=name%20DESC&order_by=creation_time%20ASC')).toEqual(['ids-2', 'ids']);
    const refused = await call('POST', `${API}/runs/search`, { experiment_ids: [experiment, true] });
    expect(refused.json.errors).toEqual([
      { field: 'experiment_ids.1', message: 'must be an id (a string, or an integer)', reason: 'wrong_type' },
    ]);
  });

  it('reads a POST from its body with the query string as fallback; a GET from its query string', async () => {
    for (const name of ['q-1', 'q-2', 'q-3']) await ok('POST', `${API}/experiments/create`, { name });
    const count = (answer: Record<string, unknown>) => (answer.experiments as unknown[]).length;
    const filter = "name LIKE 'q-%'";
    expect(count(await ok('POST', `${API}/experiments/search?max_results=1`, { filter }))).toBe(1);
    // The body wins over the query string.
    expect(
      count(await ok('POST', `${API}/experiments/search?max_results=1`, { filter, max_results: 2 })),
    ).toBe(2);
    // A POST without a body reads the query string alone.
    expect(count(await ok('POST', `${API}/experiments/search?max_results=2`))).toBe(2);
    // A GET never reads a body: its input is the query string.
    const missing = await call('GET', `${API}/experiments/get-by-name`);
    expect(missing.json).toMatchObject({
      message: "Missing value for required parameter 'experiment_name'.",
    });
  });

  it('refuses a body that is not a JSON object, and creates nothing', async () => {
    const before = await app.inject({
      method: 'POST',
      url: `${API}/runs/search`,
      payload: { experiment_ids: ['0'] },
    });
    const count = (before.json() as { runs?: unknown[] }).runs?.length ?? 0;
    for (const body of ['[1, 2]', '"a run"', '42', 'true']) {
      const answer = await app.inject({
        method: 'POST',
        url: `${API}/runs/create`,
        payload: body,
        headers: { 'content-type': 'application/json' },
      });
      expect(answer.statusCode, body).toBe(400);
      expect(answer.json(), body).toMatchObject({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: expect.stringMatching(
          /^The request body must be a JSON object, got (an array|a string|a number|a boolean)$/,
        ),
      });
    }
    const after = await app.inject({
      method: 'POST',
      url: `${API}/runs/search`,
      payload: { experiment_ids: ['0'] },
    });
    expect((after.json() as { runs?: unknown[] }).runs?.length ?? 0).toBe(count);
  });

  it('reads null as absent, run_uuid as run_id, and ignores fields it does not know', async () => {
    const runId = await newRun('nulls');
    const { run } = await ok('POST', `${API}/runs/create`, {
      experiment_id: null,
      run_name: null,
      start_time: null,
      a_field_from_a_newer_client: 1,
    });
    expect((run as { info: { experiment_id: string } }).info.experiment_id).toBe('0');
    await ok('POST', `${API}/runs/log-batch`, {
      run_id: runId,
      metrics: [{ key: 'm', value: 1, timestamp: null, step: null }],
      params: null,
    });
    const [metric] = (await metricsOf(runId)) as { timestamp: number; step: number }[];
    expect(metric!.step).toBe(0);
    expect(Math.abs(metric!.timestamp - Date.now())).toBeLessThan(60_000);
    await ok('POST', `${API}/runs/log-metric`, {
      run_uuid: runId,
      key: 'old-client',
      value: 2,
      timestamp: 1,
    });
    expect(await metricsOf(runId)).toContainEqual({ key: 'old-client', value: 2, timestamp: 1, step: 0 });
    expect((await call('POST', `${API}/runs/log-metric`, { key: 'k', value: 1 })).json).toMatchObject({
      message: "Missing value for required parameter 'run_id'.",
    });
  });

  it('reads an empty required string as missing, an empty filter or page token as none', async () => {
    const missing = await call('POST', `${API}/experiments/create`, { name: '' });
    expect(missing.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: "Missing value for required parameter 'name'.",
      errors: [{ field: 'name', message: 'is required', reason: 'missing' }],
    });
    await ok('POST', `${API}/experiments/create`, { name: 'empty', artifact_location: '' });
    const all = await ok('POST', `${API}/experiments/search`, {
      filter: '',
      page_token: '',
      max_results: '',
    });
    expect((all.experiments as { name: string }[]).map((e) => e.name)).toContain('empty');
  });
});

describe('the 400 answer of a request that fails its schema', () => {
  it('lists every problem with its field and reason, in MLflow words for the MLflow API', async () => {
    const answer = await call('POST', `${API}/runs/update`, { status: 'DONE', end_time: 'later', extra: 1 });
    expect(answer.status).toBe(400);
    expect(answer.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(answer.json.errors).toEqual([
      { field: 'run_id', message: 'is required', reason: 'missing' },
      {
        field: 'status',
        message: 'must be one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED',
        reason: 'not_allowed',
      },
      {
        field: 'end_time',
        message: 'must be an integer (a number, or a string of digits; empty means absent)',
        reason: 'wrong_type',
      },
    ]);
    expect(answer.json.message).toBe(
      "Missing value for required parameter 'run_id'. " +
        "Invalid value DONE for parameter 'status' supplied: it must be one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED. " +
        "Invalid value later for parameter 'end_time' supplied: it must be an integer (a number, or a string of digits; empty means absent).",
    );
    const stage = await call('POST', `${API}/model-versions/transition-stage`, {
      name: 'm',
      version: '1',
      stage: 'Shipped',
    });
    expect(stage.json.errors).toEqual([
      {
        field: 'stage',
        message: 'must be a stage: None, Staging, Production, Archived (in any case)',
        reason: 'wrong_format',
      },
    ]);
  });

  it('has the same shape on the pipeline API', async () => {
    const service = new PipelineService({ stores: temporary.stores });
    const pipelines = await buildApp({
      ...temporary.stores,
      pipelines: { service, store: temporary.stores.pipelines },
    });
    try {
      const answer = await pipelines.inject({
        method: 'POST',
        url: '/api/onset/pipelines/train-all/runs',
        payload: { trigger: 'a b', params: [1] },
      });
      expect(answer.statusCode).toBe(400);
      expect(answer.json()).toMatchObject({
        error_code: 'INVALID_PARAMETER_VALUE',
        errors: [
          { field: 'params', message: 'must be an object', reason: 'wrong_type' },
          {
            field: 'trigger',
            message: expect.stringMatching(/^must be a short label/),
            reason: 'wrong_format',
          },
        ],
      });
      const query = await pipelines.inject({ url: '/api/onset/pipeline-runs?status=DONE&max_results=ten' });
      expect(query.json().errors.map((e: { field: string }) => e.field)).toEqual(['status', 'max_results']);
    } finally {
      await pipelines.close();
      await service.close();
    }
  });
});

describe('the artifact proxy', () => {
  it('stores an upload byte for byte whatever its content type', async () => {
    const content = '{"looks": "like JSON"}';
    for (const type of ['application/json', 'text/plain', 'application/octet-stream']) {
      const put = await app.inject({
        method: 'PUT',
        url: '/api/2.0/mlflow-artifacts/artifacts/uploads/doc.json',
        payload: content,
        headers: { 'content-type': type },
      });
      expect(put.statusCode, type).toBe(200);
      expect(put.json().size, type).toBe(content.length);
      const got = await app.inject({ url: '/api/2.0/mlflow-artifacts/artifacts/uploads/doc.json' });
      expect(got.body, type).toBe(content);
    }
  });
});
