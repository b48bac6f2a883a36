/**
 * MLflow 3's logged-models API, called as an MLflow 3 client's `log_model`, `load_model` and
 * `search_logged_models` call it (mlflow/store/tracking/rest_store.py of MLflow 3.6): create a model,
 * upload its files through the artifact proxy at its `artifact_uri`, record it as the run's output,
 * finalize it, link metrics to it; then get, search, tag, log params and delete. Through the whole app.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('mlflow-logged-models');
const API = '/api/2.0/mlflow';
const PROXY = '/api/2.0/mlflow-artifacts/artifacts';
let app: FastifyInstance;

beforeAll(async () => {
  app = await buildApp({ ...temporary.stores, pipelines: undefined });
});
afterAll(async () => {
  await app?.close();
});

interface Answer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

async function call(
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT',
  url: string,
  payload?: unknown,
): Promise<Answer> {
  const response = await app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return {
    status: response.statusCode,
    json: (response.body ? response.json() : {}) as Record<string, unknown>,
  };
}

async function ok(method: 'GET' | 'POST' | 'DELETE' | 'PATCH', url: string, payload?: unknown) {
  const answer = await call(method, url, payload);
  expect(answer.status, `${method} ${url}: ${JSON.stringify(answer.json)}`).toBe(200);
  return answer.json;
}

function expectRefused(answer: Answer, status: number, code: string, words?: string | RegExp): void {
  expect(answer.status, JSON.stringify(answer.json)).toBe(status);
  expect(answer.json.error_code).toBe(code);
  if (typeof words === 'string') expect(answer.json.message).toContain(words);
  else if (words) expect(answer.json.message).toMatch(words);
}

interface LoggedModelJson {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    creation_timestamp_ms: number;
    last_updated_timestamp_ms: number;
    artifact_uri: string;
    status: string;
    model_type?: string;
    source_run_id?: string;
    tags: { key: string; value: string }[];
  };
  data: { params: { key: string; value: string }[]; metrics: Record<string, unknown>[] };
}

let count = 0;
async function newExperiment(): Promise<string> {
  count += 1;
  return (await ok('POST', `${API}/experiments/create`, { name: `logged-models-${count}` }))
    .experiment_id as string;
}

async function newRun(experimentId: string): Promise<string> {
  const { run } = await ok('POST', `${API}/runs/create`, { experiment_id: experimentId });
  return (run as { info: { run_id: string } }).info.run_id;
}

async function createModel(body: Record<string, unknown>): Promise<LoggedModelJson> {
  return (await ok('POST', `${API}/logged-models`, body)).model as LoggedModelJson;
}

const getModel = async (modelId: string) =>
  (await ok('GET', `${API}/logged-models/${modelId}`)).model as LoggedModelJson;

describe("an MLflow 3 client's log_model", () => {
  it('creates the model, uploads its files, records the output, finalizes it and links metrics', async () => {
    const experimentId = await newExperiment();
    const runId = await newRun(experimentId);
    // initialize_logged_model: what the client sends.
    const created = await createModel({
      experiment_id: experimentId,
      name: 'model',
      source_run_id: runId,
      params: [{ key: 'max_depth', value: '3' }],
      tags: [
        { key: 'mlflow.user', value: 'ada' },
        { key: 'mlflow.source.name', value: 'train.py' },
      ],
    });
    const modelId = created.info.model_id;
    expect(modelId).toMatch(/^m-[0-9a-f]{32}$/);
    expect(created).toEqual({
      info: {
        model_id: modelId,
        experiment_id: experimentId,
        name: 'model',
        creation_timestamp_ms: expect.any(Number),
        last_updated_timestamp_ms: expect.any(Number),
        // MLflow's layout, shown as the proxy serves it.
        artifact_uri: `mlflow-artifacts:/${experimentId}/models/${modelId}/artifacts`,
        status: 'LOGGED_MODEL_PENDING',
        source_run_id: runId,
        tags: [
          { key: 'mlflow.source.name', value: 'train.py' },
          { key: 'mlflow.user', value: 'ada' },
        ],
      },
      data: { params: [{ key: 'max_depth', value: '3' }], metrics: [] },
    });

    // log_model_artifacts: through the proxy, under the model's artifact_uri.
    const where = `${experimentId}/models/${modelId}/artifacts`;
    for (const [path, content] of [
      ['MLmodel', 'artifact_path: model\nflavors: {}\n'],
      ['model.json', '{}'],
    ] as const) {
      const put = await app.inject({ method: 'PUT', url: `${PROXY}/${where}/${path}`, payload: content });
      expect(put.statusCode, put.body).toBe(200);
    }
    const listed = await ok('GET', `${API}/logged-models/${modelId}/artifacts/directories`);
    expect(listed.root_uri).toBe(created.info.artifact_uri);
    expect((listed.files as { path: string }[]).map((file) => file.path).sort()).toEqual([
      'MLmodel',
      'model.json',
    ]);

    // log_outputs, then finalize_logged_model (the status as protobuf's JSON writes the enum).
    expect(
      await ok('POST', `${API}/runs/outputs`, { run_id: runId, models: [{ model_id: modelId, step: 0 }] }),
    ).toEqual({});
    const ready = (await ok('PATCH', `${API}/logged-models/${modelId}`, {
      model_id: modelId,
      status: 'LOGGED_MODEL_READY',
    })) as { model: LoggedModelJson };
    expect(ready.model.info.status).toBe('LOGGED_MODEL_READY');

    // Metrics a run logs for the model (mlflow.log_metric(..., model_id=...)).
    await ok('POST', `${API}/runs/log-batch`, {
      run_id: runId,
      metrics: [
        {
          key: 'accuracy',
          value: 0.91,
          timestamp: 5,
          step: 0,
          model_id: modelId,
          dataset_name: 'eval',
          dataset_digest: 'd1',
        },
        { key: 'loss', value: 0.3, timestamp: 5, step: 0 },
      ],
    });
    await ok('POST', `${API}/runs/log-metric`, {
      run_id: runId,
      key: 'loss',
      value: 'NaN',
      timestamp: 6,
      model_id: modelId,
    });
    const model = await getModel(modelId);
    expect(model.info.status).toBe('LOGGED_MODEL_READY');
    expect(model.data.metrics).toEqual([
      {
        key: 'accuracy',
        value: 0.91,
        timestamp: 5,
        step: 0,
        model_id: modelId,
        run_id: runId,
        dataset_name: 'eval',
        dataset_digest: 'd1',
      },
      { key: 'loss', value: 'NaN', timestamp: 6, step: 0, model_id: modelId, run_id: runId },
    ]);
    // The run keeps its own metrics, and answers its outputs.
    const { run } = (await ok('GET', `${API}/runs/get?run_id=${runId}`)) as {
      run: { data: { metrics: { key: string }[] }; outputs: unknown; inputs: unknown };
    };
    expect(run.data.metrics.map((m) => m.key)).toEqual(['accuracy', 'loss']);
    expect(run.outputs).toEqual({ model_outputs: [{ model_id: modelId, step: 0 }] });

    // A run that loads the model records it as an input (MLflow 3's log_inputs with models only).
    const consumer = await newRun(experimentId);
    expect(
      await ok('POST', `${API}/runs/log-inputs`, { run_id: consumer, models: [{ model_id: modelId }] }),
    ).toEqual({});
    const used = (await ok('GET', `${API}/runs/get?run_id=${consumer}`)).run as { inputs: unknown };
    expect(used.inputs).toEqual({ dataset_inputs: [], model_inputs: [{ model_id: modelId }] });

    // runs:/<run>/model resolves with a search by name, as the client does.
    const found = await ok('POST', `${API}/logged-models/search`, {
      experiment_ids: [experimentId],
      filter: "name = 'model'",
    });
    expect((found.models as LoggedModelJson[]).map((m) => [m.info.model_id, m.info.source_run_id])).toEqual([
      [modelId, runId],
    ]);
  });

  it('refuses a metric for an unknown model before logging anything, and bad finalizations', async () => {
    const experimentId = await newExperiment();
    const runId = await newRun(experimentId);
    expectRefused(
      await call('POST', `${API}/runs/log-batch`, {
        run_id: runId,
        metrics: [{ key: 'accuracy', value: 1, timestamp: 1, model_id: 'm-unknown' }],
      }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      "Logged model with ID 'm-unknown' not found.",
    );
    const { run } = await ok('GET', `${API}/runs/get?run_id=${runId}`);
    expect((run as { data: { metrics: unknown[] } }).data.metrics).toEqual([]);
    expectRefused(
      await call('POST', `${API}/runs/outputs`, { run_id: runId, models: [{ model_id: 'm-unknown' }] }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expectRefused(
      await call('POST', `${API}/runs/outputs`, { run_id: runId }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Missing value for required parameter 'models'",
    );
    expectRefused(
      await call('POST', `${API}/runs/log-inputs`, { run_id: runId }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Missing value for required parameter 'datasets'",
    );
    const model = await createModel({ experiment_id: experimentId });
    const refused = await call('PATCH', `${API}/logged-models/${model.info.model_id}`, { status: 'DONE' });
    expectRefused(refused, 400, 'INVALID_PARAMETER_VALUE', "parameter 'status'");
    expectRefused(
      await call('PATCH', `${API}/logged-models/${model.info.model_id}`, {}),
      400,
      'INVALID_PARAMETER_VALUE',
      "Missing value for required parameter 'status'",
    );
    // Its number works too (MLflow's handler reads it as an int).
    const failed = (await ok('PATCH', `${API}/logged-models/${model.info.model_id}`, { status: 3 })) as {
      model: LoggedModelJson;
    };
    expect(failed.model.info.status).toBe('LOGGED_MODEL_UPLOAD_FAILED');
    expectRefused(
      await call('PATCH', `${API}/logged-models/m-nope`, { status: 'LOGGED_MODEL_READY' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      "Logged model with ID 'm-nope' not found.",
    );
    expectRefused(
      await call('POST', `${API}/logged-models`, {}),
      400,
      'INVALID_PARAMETER_VALUE',
      "'experiment_id'",
    );
    expectRefused(
      await call('POST', `${API}/logged-models`, { experiment_id: '987654' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    await ok('POST', `${API}/experiments/delete`, { experiment_id: experimentId });
    expectRefused(
      await call('POST', `${API}/logged-models`, { experiment_id: experimentId }),
      400,
      'INVALID_PARAMETER_VALUE',
      `The experiment ${experimentId} must be in the 'active' state`,
    );
  });
});

describe('logged models: tags, params, delete', () => {
  it('sets and deletes tags, logs params and deletes a model', async () => {
    const experimentId = await newExperiment();
    const { info } = await createModel({ experiment_id: experimentId, name: 'tagged' });
    const id = info.model_id;
    expect(
      await ok('PATCH', `${API}/logged-models/${id}/tags`, {
        tags: [
          { key: 'stage', value: 'dev' },
          { key: 'owner', value: 'ada' },
        ],
      }),
    ).toEqual({});
    // The client sends no body to delete a tag; the key is in the path.
    expect(await ok('DELETE', `${API}/logged-models/${id}/tags/stage`)).toEqual({});
    expect((await getModel(id)).info.tags).toEqual([{ key: 'owner', value: 'ada' }]);
    expectRefused(
      await call('DELETE', `${API}/logged-models/${id}/tags/stage`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `No tag with key 'stage' found for model with ID '${id}'.`,
    );
    expect(
      await ok('POST', `${API}/logged-models/${id}/params`, {
        model_id: id,
        params: [{ key: 'lr', value: '0.1' }],
      }),
    ).toEqual({});
    expect((await getModel(id)).data.params).toEqual([{ key: 'lr', value: '0.1' }]);
    expectRefused(
      await call('POST', `${API}/logged-models/${id}/params`, { params: [{ key: 'lr', value: '0.2' }] }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Changing param values is not allowed',
    );
    expectRefused(
      await call('PATCH', `${API}/logged-models/${id}/tags`, { tags: [{ value: 'x' }] }),
      400,
      'INVALID_PARAMETER_VALUE',
      "'tags.0.key'",
    );
    expect(await ok('DELETE', `${API}/logged-models/${id}`, { model_id: id })).toEqual({});
    expectRefused(await call('GET', `${API}/logged-models/${id}`), 404, 'RESOURCE_DOES_NOT_EXIST');
    expect(await ok('DELETE', `${API}/logged-models/${id}`)).toEqual({});
    const { models } = await ok('POST', `${API}/logged-models/search`, { experiment_ids: [experimentId] });
    expect(models).toEqual([]);
  });
});

describe('logged-models/search', () => {
  it("filters, orders (the client's order_by objects) and pages as MLflow 3", async () => {
    const experimentId = await newExperiment();
    const runId = await newRun(experimentId);
    const ids = new Map<string, string>();
    for (const [name, lr, accuracy] of [
      ['a', '0.1', 0.7],
      ['b', '0.2', 0.9],
      ['c', '0.1', 0.8],
    ] as const) {
      const { info } = await createModel({
        experiment_id: experimentId,
        name,
        params: [{ key: 'lr', value: lr }],
        tags: [{ key: 'kind', value: name === 'b' ? 'tree' : 'linear' }],
      });
      ids.set(name, info.model_id);
      await ok('POST', `${API}/runs/log-metric`, {
        run_id: runId,
        key: 'accuracy',
        value: accuracy,
        timestamp: 1,
        model_id: info.model_id,
        dataset_name: 'test',
      });
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    await ok('PATCH', `${API}/logged-models/${ids.get('b')}`, { status: 'LOGGED_MODEL_READY' });
    const search = async (body: Record<string, unknown>) =>
      (await ok('POST', `${API}/logged-models/search`, { experiment_ids: [experimentId], ...body })) as {
        models?: LoggedModelJson[];
        next_page_token?: string;
      };
    const names = async (body: Record<string, unknown>) =>
      ((await search(body)).models ?? []).map((m) => m.info.name);
    expect(await names({})).toEqual(['c', 'b', 'a']);
    expect(await names({ filter: "params.lr = '0.1'", order_by: [{ field_name: 'name' }] })).toEqual([
      'a',
      'c',
    ]);
    expect(await names({ filter: 'metrics.accuracy > 0.75', order_by: [{ field_name: 'name' }] })).toEqual([
      'b',
      'c',
    ]);
    expect(await names({ filter: "status = 'READY'" })).toEqual(['b']);
    expect(await names({ filter: "tags.kind IN ('tree')" })).toEqual(['b']);
    expect(await names({ filter: 'metrics.accuracy > 0', datasets: [{ dataset_name: 'other' }] })).toEqual(
      [],
    );
    expect(
      await names({ order_by: [{ field_name: 'metrics.accuracy', ascending: false, dataset_name: 'test' }] }),
    ).toEqual(['b', 'c', 'a']);
    expect(await names({ order_by: [{ field_name: 'creation_time', ascending: 'true' }] })).toEqual([
      'a',
      'b',
      'c',
    ]);
    // Paging: max_results and the next page's token.
    const first = await search({ max_results: 2, order_by: [{ field_name: 'name' }] });
    expect(first.models!.map((m) => m.info.name)).toEqual(['a', 'b']);
    expect(first.next_page_token).toBeTruthy();
    const second = await search({
      max_results: 2,
      order_by: [{ field_name: 'name' }],
      page_token: first.next_page_token,
    });
    expect(second.models!.map((m) => m.info.name)).toEqual(['c']);
    expect(second).not.toHaveProperty('next_page_token');

    expectRefused(
      await call('POST', `${API}/logged-models/search`, {}),
      400,
      'INVALID_PARAMETER_VALUE',
      "Missing value for required parameter 'experiment_ids'",
    );
    expectRefused(
      await call('POST', `${API}/logged-models/search`, {
        experiment_ids: [experimentId],
        filter: 'metrics.accuracy >',
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      /filter/,
    );
    expectRefused(
      await call('POST', `${API}/logged-models/search`, {
        experiment_ids: [experimentId],
        order_by: [{ field_name: 'params.lr' }],
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      /order/,
    );
    expectRefused(
      await call('POST', `${API}/logged-models/search`, { experiment_ids: [experimentId], datasets: [{}] }),
      400,
      'INVALID_PARAMETER_VALUE',
      "'datasets.0.dataset_name'",
    );
  });
});
