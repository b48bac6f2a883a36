/**
 * The MLflow endpoints added for MLflow's own clients (issue 14): `runs/log-inputs` (datasets),
 * `runs/log-model` (the log-model history), `experiments/delete-experiment-tag`, the registry's
 * `delete-tag` endpoints, the bulk metric histories of MLflow's UI (`get-history-bulk`,
 * `get-history-bulk-interval`, at /api/2.0 and /ajax-api/2.0) and `experiments/search-datasets`; and the
 * error codes and words MLflow's REST tests (tests/tracking/test_rest_tracking.py, test_model_registry.py
 * of MLflow 2.12) check. Requests and answers in MLflow's JSON shapes, through the whole app.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('mlflow-compat');
const API = '/api/2.0/mlflow';
const AJAX = '/ajax-api/2.0/mlflow';
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
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH',
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

async function ok(method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) {
  const answer = await call(method, url, payload);
  expect(answer.status, `${method} ${url}: ${JSON.stringify(answer.json)}`).toBe(200);
  return answer.json;
}

/** A refused request: this status and code, and a message holding `words` (MLflow's, where it has some). */
function expectRefused(answer: Answer, status: number, code: string, words?: string | RegExp): void {
  expect(answer.status, JSON.stringify(answer.json)).toBe(status);
  expect(answer.json.error_code).toBe(code);
  if (typeof words === 'string') expect(answer.json.message).toContain(words);
  else if (words) expect(answer.json.message).toMatch(words);
}

const query = (params: Record<string, string | number | readonly (string | number)[]>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, String(item));
  }
  return `?${search.toString()}`;
};

let experimentCount = 0;
async function newExperiment(): Promise<string> {
  experimentCount += 1;
  const { experiment_id } = await ok('POST', `${API}/experiments/create`, {
    name: `compat-${experimentCount}`,
  });
  return experiment_id as string;
}

async function newRun(experimentId?: string): Promise<string> {
  const { run } = await ok('POST', `${API}/runs/create`, {
    experiment_id: experimentId ?? (await newExperiment()),
  });
  return (run as { info: { run_id: string } }).info.run_id;
}

interface RunJson {
  info: { run_id: string; experiment_id: string };
  data: { tags: { key: string; value: string }[] };
  inputs: { dataset_inputs: unknown[] };
}
const getRun = async (runId: string) => (await ok('GET', `${API}/runs/get?run_id=${runId}`)).run as RunJson;

describe('runs/log-inputs', () => {
  // What MLflow 2.12's client sends for mlflow.log_input(from_pandas(df, source=path), "train", {"foo": "baz"}).
  const pandasInput = {
    tags: [
      { key: 'foo', value: 'baz' },
      { key: 'mlflow.data.context', value: 'train' },
    ],
    dataset: {
      name: 'dataset',
      digest: 'f0f3e026',
      source_type: 'local',
      source: '{"uri": "/tmp/temp.csv"}',
      schema:
        '{"mlflow_colspec": [{"type": "long", "name": "a", "required": true}, {"type": "long", "name": "b", "required": true}]}',
      profile: '{"num_rows": 2, "num_elements": 6}',
    },
  };

  it('records datasets, answered in runs/get and runs/search as run.inputs.dataset_inputs', async () => {
    const experimentId = await newExperiment();
    const runId = await newRun(experimentId);
    expect((await getRun(runId)).inputs).toEqual({ dataset_inputs: [], model_inputs: [] });
    const minimal = {
      tags: [{ key: 'tag1', value: 'value1' }],
      dataset: { name: 'name1', digest: 'digest1', source_type: 'source_type1', source: 'source1' },
    };
    expect(
      await ok('POST', `${API}/runs/log-inputs`, { run_id: runId, datasets: [pandasInput, minimal] }),
    ).toEqual({});
    const expected = { dataset_inputs: [pandasInput, minimal], model_inputs: [] };
    expect((await getRun(runId)).inputs).toEqual(expected);
    const { runs } = await ok('POST', `${API}/runs/search`, { experiment_ids: [experimentId] });
    expect((runs as RunJson[])[0]!.inputs).toEqual(expected);
    // The same dataset again: nothing changes; an empty list is no error.
    await ok('POST', `${API}/runs/log-inputs`, { run_id: runId, datasets: [{ ...minimal, tags: [] }] });
    await ok('POST', `${API}/runs/log-inputs`, { run_id: runId, datasets: [] });
    expect((await getRun(runId)).inputs).toEqual(expected);
    // runs/search filters on them.
    const search = async (filter: string) =>
      (
        ((await ok('POST', `${API}/runs/search`, { experiment_ids: [experimentId], filter })).runs ??
          []) as RunJson[]
      ).length;
    expect(await search("datasets.name = 'dataset' and datasets.context = 'train'")).toBe(1);
    expect(await search("datasets.digest IN ('digest1')")).toBe(1);
    expect(await search("datasets.context = 'evaluation'")).toBe(0);
  });

  it('answers 400 naming the field for bad input, with MLflow words for missing fields', async () => {
    const runId = await newRun();
    const post = (body: unknown) => call('POST', `${API}/runs/log-inputs`, body);
    expectRefused(
      await post({ datasets: [pandasInput] }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Missing value for required parameter 'run_id'",
    );
    expectRefused(
      await post({ run_id: runId }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Missing value for required parameter 'datasets'",
    );
    const refused = await post({
      run_id: runId,
      datasets: [{ dataset: { digest: 'd', source_type: 's', source: 'x' } }],
    });
    expectRefused(refused, 400, 'INVALID_PARAMETER_VALUE', "'datasets.0.dataset.name'");
    expect(refused.json.errors).toEqual([
      { field: 'datasets.0.dataset.name', message: 'is required', reason: 'missing' },
    ]);
    expectRefused(
      await post({ run_id: runId, datasets: 'x' }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Invalid value x for parameter 'datasets' supplied",
    );
    expectRefused(
      await post({
        run_id: runId,
        datasets: [{ ...pandasInput, tags: [{ key: 'k', value: 'v'.repeat(501) }] }],
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      'InputTag value exceeds the maximum length of 500',
    );
    expectRefused(
      await post({
        run_id: runId,
        datasets: [{ ...pandasInput, dataset: { ...pandasInput.dataset, digest: 'd'.repeat(37) } }],
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Dataset digest exceeds the maximum length of 36',
    );
    expectRefused(
      await post({ run_id: 'f'.repeat(32), datasets: [pandasInput] }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      /^Run with id=f{32} not found/,
    );
    await ok('POST', `${API}/runs/delete`, { run_id: runId });
    expectRefused(
      await post({ run_id: runId, datasets: [pandasInput] }),
      400,
      'INVALID_PARAMETER_VALUE',
      `The run ${runId} must be in the 'active' state`,
    );
  });
});

describe('runs/log-model', () => {
  const model = (runId: string, path: string) => ({
    run_id: runId,
    artifact_path: path,
    utc_time_created: '2024-05-01 10:00:00.000000',
    flavors: { python_function: { loader_module: 'mlflow.pyfunc', env: { conda: 'conda.yaml' } } },
    model_uuid: `uuid-${path}`,
    mlflow_version: '2.12.2',
  });

  it("appends the model JSON to the run's mlflow.log-model.history tag", async () => {
    const runId = await newRun();
    for (const path of ['model/path/0', 'model/path/1']) {
      const answer = await ok('POST', `${API}/runs/log-model`, {
        run_id: runId,
        model_json: JSON.stringify(model(runId, path)),
      });
      expect(answer).toEqual({});
    }
    const tag = (await getRun(runId)).data.tags.find((t) => t.key === 'mlflow.log-model.history');
    expect(JSON.parse(tag!.value)).toEqual([model(runId, 'model/path/0'), model(runId, 'model/path/1')]);
  });

  it("answers 400 for JSON that is not MLflow's logged model, 404 for an unknown run", async () => {
    const runId = await newRun();
    const post = (body: unknown) => call('POST', `${API}/runs/log-model`, body);
    expectRefused(
      await post({ run_id: runId, model_json: '{not json' }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Malformed model info',
    );
    expectRefused(
      await post({ run_id: runId, model_json: '[1]' }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Malformed model info',
    );
    expectRefused(
      await post({ run_id: runId, model_json: JSON.stringify({ artifact_path: 'm', flavors: {} }) }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Model json is missing mandatory fields: utc_time_created, run_id',
    );
    expectRefused(
      await post({ run_id: runId }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Missing value for required parameter 'model_json'",
    );
    expectRefused(
      await post({ run_id: 'e'.repeat(32), model_json: JSON.stringify(model('x', 'm')) }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    expect((await getRun(runId)).data.tags.map((t) => t.key)).not.toContain('mlflow.log-model.history');
  });
});

describe('experiments/delete-experiment-tag', () => {
  it('deletes a tag (POST, as MLflow 3 sends it); 404 for a missing tag, 400 for a deleted experiment', async () => {
    const id = await newExperiment();
    await ok('POST', `${API}/experiments/set-experiment-tag`, { experiment_id: id, key: 'team', value: 'a' });
    await ok('POST', `${API}/experiments/set-experiment-tag`, { experiment_id: id, key: 'keep', value: 'b' });
    expect(
      await ok('POST', `${API}/experiments/delete-experiment-tag`, { experiment_id: id, key: 'team' }),
    ).toEqual({});
    const { experiment } = await ok('GET', `${API}/experiments/get?experiment_id=${id}`);
    expect((experiment as { tags: unknown[] }).tags).toEqual([{ key: 'keep', value: 'b' }]);
    expectRefused(
      await call('POST', `${API}/experiments/delete-experiment-tag`, { experiment_id: id, key: 'team' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `No tag with name: team in experiment with id ${id}`,
    );
    expectRefused(
      await call('POST', `${API}/experiments/delete-experiment-tag`, { experiment_id: id }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Missing value for required parameter 'key'",
    );
    await ok('POST', `${API}/experiments/delete`, { experiment_id: id });
    expectRefused(
      await call('POST', `${API}/experiments/delete-experiment-tag`, { experiment_id: id, key: 'keep' }),
      400,
      'INVALID_PARAMETER_VALUE',
      `The experiment ${id} must be in the 'active' state`,
    );
  });
});

describe('registry delete-tag', () => {
  it('deletes tags of registered models and versions (DELETE, as the client sends them)', async () => {
    const runId = await newRun();
    await ok('POST', `${API}/registered-models/create`, {
      name: 'tagged',
      tags: [
        { key: 'key', value: 'value' },
        { key: 'numeric value', value: '12345' },
      ],
    });
    // A version needs an artifact of the run (Onset's registry checks it); the proxy writes one.
    const { run } = await ok('GET', `${API}/runs/get?run_id=${runId}`);
    const artifactUri = (run as { info: { artifact_uri: string } }).info.artifact_uri;
    const root = temporary.stores.artifacts.rootUri;
    const put = await app.inject({
      method: 'PUT',
      url: `/api/2.0/mlflow-artifacts/artifacts/${artifactUri.slice(root.length + 1)}/model.json`,
      payload: '{}',
    });
    expect(put.statusCode).toBe(200);
    await ok('POST', `${API}/model-versions/create`, {
      name: 'tagged',
      source: `runs:/${runId}/model.json`,
      run_id: runId,
      tags: [
        { key: 'key', value: 'value' },
        { key: 'numeric value', value: '12345' },
      ],
    });
    expect(await ok('DELETE', `${API}/registered-models/delete-tag`, { name: 'tagged', key: 'key' })).toEqual(
      {},
    );
    const { registered_model } = await ok('GET', `${API}/registered-models/get?name=tagged`);
    expect((registered_model as { tags: unknown }).tags).toEqual([{ key: 'numeric value', value: '12345' }]);
    expect(
      await ok('DELETE', `${API}/model-versions/delete-tag`, { name: 'tagged', version: '1', key: 'key' }),
    ).toEqual({});
    const { model_version } = await ok('GET', `${API}/model-versions/get?name=tagged&version=1`);
    expect((model_version as { tags: unknown }).tags).toEqual([{ key: 'numeric value', value: '12345' }]);
    // A tag the model or version does not have: no error, as MLflow.
    await ok('DELETE', `${API}/registered-models/delete-tag`, { name: 'tagged', key: 'key' });
    await ok('DELETE', `${API}/model-versions/delete-tag`, { name: 'tagged', version: '1', key: 'key' });

    expectRefused(
      await call('DELETE', `${API}/registered-models/delete-tag`, { name: 'ghost', key: 'key' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'Registered Model with name=ghost not found',
    );
    expectRefused(
      await call('DELETE', `${API}/model-versions/delete-tag`, { name: 'tagged', version: '7', key: 'key' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'Model Version (name=tagged, version=7) not found',
    );
    expectRefused(
      await call('DELETE', `${API}/model-versions/delete-tag`, {
        name: 'tagged',
        version: 'one',
        key: 'key',
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      'Model version must be an integer',
    );
    expectRefused(
      await call('DELETE', `${API}/model-versions/delete-tag`, { name: 'tagged', version: '1' }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Missing value for required parameter 'key'",
    );
    // The methods MLflow declares: DELETE only.
    expectRefused(
      await call('POST', `${API}/registered-models/delete-tag`, { name: 'tagged', key: 'x' }),
      405,
      'ENDPOINT_NOT_FOUND',
    );
  });
});

describe('metrics/get-history-bulk-interval', () => {
  const logged = async (runId: string, steps: readonly number[], timestamp = 1) => {
    await ok('POST', `${API}/runs/log-batch`, {
      run_id: runId,
      metrics: steps.map((step) => ({ key: 'metricA', value: 10, timestamp, step })),
    });
  };
  const interval = async (prefix: string, params: Record<string, string | number | readonly string[]>) =>
    (await ok('GET', `${prefix}/metrics/get-history-bulk-interval${query(params)}`)).metrics as {
      step: number;
      timestamp: number;
      run_id: string;
    }[];

  // MLflow's test_get_metric_history_bulk_interval_respects_max_results, at both prefixes.
  it.each([API, AJAX])('samples steps as MLflow does (%s)', async (prefix) => {
    const experimentId = await newExperiment();
    const run1 = await newRun(experimentId);
    await logged(run1, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const five = await interval(prefix, { run_ids: [run1], metric_key: 'metricA', max_results: 5 });
    expect(five).toEqual(
      [0, 2, 4, 6, 8, 9].map((step) => ({ key: 'metricA', value: 10, timestamp: 1, step, run_id: run1 })),
    );
    // With a step range.
    const ranged = await interval(prefix, {
      run_ids: [run1],
      metric_key: 'metricA',
      start_step: 0,
      end_step: 4,
      max_results: 5,
    });
    expect(ranged.map((m) => m.step)).toEqual([0, 1, 2, 3, 4]);
    // Several runs: steps sampled over all of them, each run's first and last kept.
    const run2 = await newRun(experimentId);
    await logged(
      run2,
      Array.from({ length: 20 }, (_, i) => i),
    );
    const both = await interval(prefix, { run_ids: [run1, run2], metric_key: 'metricA', max_results: 5 });
    expect(both.map((m) => [m.run_id === run1 ? 1 : 2, m.step])).toEqual([
      ...[0, 4, 8, 9].map((step) => [1, step]),
      ...[0, 4, 8, 9, 12, 16, 19].map((step) => [2, step]),
    ]);
    // Several values at one step: all of them, by timestamp.
    await logged(run1, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 2);
    const twice = await interval(prefix, { run_ids: [run1], metric_key: 'metricA', max_results: 5 });
    expect(twice.map((m) => [m.step, m.timestamp])).toEqual(
      [0, 2, 4, 6, 8, 9].flatMap((step) => [
        [step, 1],
        [step, 2],
      ]),
    );
  });

  // MLflow's test_get_metric_history_bulk_interval_rejects_invalid_requests.
  it('refuses bad requests with 400 and MLflow words', async () => {
    const refused = async (params: Record<string, string | number | readonly string[]>, words: string) =>
      expectRefused(
        await call('GET', `${AJAX}/metrics/get-history-bulk-interval${query(params)}`),
        400,
        'INVALID_PARAMETER_VALUE',
        words,
      );
    await refused({ metric_key: 'key' }, "Missing value for required parameter 'run_ids'.");
    await refused(
      { run_ids: Array.from({ length: 101 }, (_, i) => `id_${i}`), metric_key: 'key' },
      'GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received 101 run_ids.',
    );
    await refused(
      { run_ids: ['123'], metric_key: 'key', max_results: 0 },
      'max_results must be between 1 and 2500',
    );
    await refused(
      { run_ids: ['123'], metric_key: 'key', max_results: 2501 },
      'max_results must be between 1 and 2500',
    );
    await refused({ run_ids: ['123'], metric_key: '' }, "Missing value for required parameter 'metric_key'");
    await refused({ run_ids: ['123'], max_results: 5 }, "Missing value for required parameter 'metric_key'");
    await refused(
      { run_ids: ['123'], metric_key: 'key', start_step: 1, end_step: 0, max_results: 5 },
      'end_step must be greater than start_step. Found start_step=1 and end_step=0.',
    );
    await refused(
      { run_ids: ['123'], metric_key: 'key', start_step: 1, max_results: 5 },
      'If either start step or end step are specified, both must be specified.',
    );
    await refused(
      { run_ids: ['123'], metric_key: 'key', start_step: 'one', end_step: 2 },
      "parameter 'start_step'",
    );
    expectRefused(
      await call(
        'GET',
        `${API}/metrics/get-history-bulk-interval${query({ run_ids: ['0'.repeat(32)], metric_key: 'k' })}`,
      ),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });
});

describe('metrics/get-history-bulk', () => {
  // MLflow's test_get_metric_history_bulk_returns_expected_metrics_in_expected_order.
  it('answers every value of several runs, runs by id, values by timestamp, step and value', async () => {
    const experimentId = await newExperiment();
    const [run1, run2, run3] = [
      await newRun(experimentId),
      await newRun(experimentId),
      await newRun(experimentId),
    ];
    const historyA = [
      { key: 'metricA', timestamp: 1, step: 2, value: 10.0 },
      { key: 'metricA', timestamp: 1, step: 3, value: 11.0 },
      { key: 'metricA', timestamp: 1, step: 3, value: 12.0 },
      { key: 'metricA', timestamp: 2, step: 3, value: 12.0 },
    ];
    const historyB = [
      { key: 'metricB', timestamp: 7, step: -2, value: -100.0 },
      { key: 'metricB', timestamp: 8, step: 0, value: 0.0 },
      { key: 'metricB', timestamp: 8, step: 0, value: 1.0 },
      { key: 'metricB', timestamp: 9, step: 1, value: 12.0 },
    ];
    for (const metric of [...historyA, ...historyB]) {
      await ok('POST', `${API}/runs/log-metric`, { run_id: run1, ...metric });
      await ok('POST', `${API}/runs/log-metric`, { run_id: run2, ...metric, value: metric.value + 1 });
    }
    const bulk = async (prefix: string, params: Record<string, string | number | readonly string[]>) =>
      (await ok('GET', `${prefix}/metrics/get-history-bulk${query(params)}`)).metrics;
    expect(await bulk(AJAX, { run_id: [run1!], metric_key: 'metricA' })).toEqual(
      historyA.map((m) => ({ ...m, run_id: run1 })),
    );
    const plusOne = (runId: string, history: typeof historyA) =>
      history.map((m) => ({ ...m, value: m.value + 1, run_id: runId }));
    expect(await bulk(API, { run_id: [run2!], metric_key: 'metricB' })).toEqual(plusOne(run2!, historyB));
    const byRunId = (a: { run_id: string }, b: { run_id: string }) =>
      a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0;
    expect(await bulk(AJAX, { run_id: [run1!, run2!], metric_key: 'metricA' })).toEqual(
      [...historyA.map((m) => ({ ...m, run_id: run1! })), ...plusOne(run2!, historyA)].sort(byRunId),
    );
    expect(await bulk(AJAX, { run_id: [run1!, run2!, run3!], metric_key: 'metricB' })).toEqual(
      [...historyB.map((m) => ({ ...m, run_id: run1! })), ...plusOne(run2!, historyB)].sort(byRunId),
    );
    // max_results bounds the whole answer.
    expect(await bulk(AJAX, { run_id: [run1!], metric_key: 'metricA', max_results: 2 })).toEqual(
      historyA.slice(0, 2).map((m) => ({ ...m, run_id: run1 })),
    );
  });

  // MLflow's test_get_metric_history_bulk_rejects_invalid_requests.
  it('refuses bad requests with 400 and MLflow words', async () => {
    const refused = async (params: Record<string, string | readonly string[]>, words: string) =>
      expectRefused(
        await call('GET', `${AJAX}/metrics/get-history-bulk${query(params)}`),
        400,
        'INVALID_PARAMETER_VALUE',
        words,
      );
    await refused({ metric_key: 'key' }, 'GetMetricHistoryBulk request must specify at least one run_id');
    await refused(
      { run_id: Array.from({ length: 1000 }, (_, i) => `id_${i}`), metric_key: 'key' },
      'GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received 1000 run_ids.',
    );
    await refused({ run_id: ['123'] }, 'GetMetricHistoryBulk request must specify a metric_key');
  });
});

describe('experiments/search-datasets', () => {
  // MLflow's test_search_dataset_handler_returns_expected_results and _rejects_invalid_requests.
  it("lists an experiment's datasets with their contexts; 400 without experiments or with too many", async () => {
    const experimentId = await newExperiment();
    const runId = await newRun(experimentId);
    await ok('POST', `${API}/runs/log-inputs`, {
      run_id: runId,
      datasets: [
        {
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
          dataset: { name: 'name1', digest: 'digest1', source_type: 'source_type1', source: 'source1' },
        },
      ],
    });
    for (const prefix of [API, AJAX]) {
      expect(
        await ok('POST', `${prefix}/experiments/search-datasets`, { experiment_ids: [experimentId] }),
      ).toEqual({
        dataset_summaries: [
          { experiment_id: experimentId, name: 'name1', digest: 'digest1', context: 'training' },
        ],
      });
    }
    const words = 'SearchDatasets request must specify at least one experiment_id.';
    expectRefused(
      await call('POST', `${AJAX}/experiments/search-datasets`, {}),
      400,
      'INVALID_PARAMETER_VALUE',
      words,
    );
    expectRefused(
      await call('POST', `${AJAX}/experiments/search-datasets`, { experiment_ids: [] }),
      400,
      'INVALID_PARAMETER_VALUE',
      words,
    );
    expectRefused(
      await call('POST', `${AJAX}/experiments/search-datasets`, {
        experiment_ids: Array.from({ length: 1000 }, (_, i) => `id_${i}`),
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      'SearchDatasets request cannot specify more than 20 experiment_ids. Received 1000 experiment_ids.',
    );
  });
});

describe("MLflow's error codes and words", () => {
  it('answers a write to a deleted run or experiment with 400 INVALID_PARAMETER_VALUE', async () => {
    const experimentId = await newExperiment();
    const runId = await newRun(experimentId);
    await ok('POST', `${API}/runs/delete`, { run_id: runId });
    const words = `The run ${runId} must be in the 'active' state. Current state is deleted.`;
    for (const [path, body] of [
      ['/runs/log-metric', { run_id: runId, key: 'm', value: 1, timestamp: 1 }],
      ['/runs/log-parameter', { run_id: runId, key: 'p', value: '1' }],
      ['/runs/set-tag', { run_id: runId, key: 't', value: '1' }],
      ['/runs/delete-tag', { run_id: runId, key: 'mlflow.runName' }],
      ['/runs/log-batch', { run_id: runId, params: [{ key: 'p', value: '1' }] }],
      ['/runs/update', { run_id: runId, status: 'FINISHED' }],
    ] as const) {
      expectRefused(await call('POST', `${API}${path}`, body), 400, 'INVALID_PARAMETER_VALUE', words);
    }
    await ok('POST', `${API}/experiments/delete`, { experiment_id: experimentId });
    expectRefused(
      await call('POST', `${API}/runs/create`, { experiment_id: experimentId }),
      400,
      'INVALID_PARAMETER_VALUE',
      `The experiment ${experimentId} must be in the 'active' state`,
    );
    // Renaming a deleted experiment stays INVALID_STATE, as in MLflow.
    expectRefused(
      await call('POST', `${API}/experiments/update`, { experiment_id: experimentId, new_name: 'x' }),
      400,
      'INVALID_STATE',
    );
  });

  // test_rest_tracking.py: test_delete_tag, test_log_metric_validation, test_set_tag_validation,
  // test_create_experiment_validation.
  it('says what MLflow says of unknown runs and tags and of values of the wrong type', async () => {
    const runId = await newRun();
    expectRefused(
      await call('POST', `${API}/runs/delete-tag`, { run_id: 'fake_run_id', key: 'taggity' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      /Run .+ not found/,
    );
    expectRefused(
      await call('POST', `${API}/runs/delete-tag`, { run_id: runId, key: 'fakeTag' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'No tag with name: fakeTag',
    );
    const refused = async (path: string, body: object, words: string) =>
      expectRefused(await call('POST', `${API}${path}`, body), 400, 'INVALID_PARAMETER_VALUE', words);
    const metric = { run_id: runId, key: 'foo', value: 31, timestamp: 59, step: 41 };
    await refused(
      '/runs/log-metric',
      { ...metric, run_id: 31 },
      "Invalid value 31 for parameter 'run_id' supplied",
    );
    await refused(
      '/runs/log-metric',
      { ...metric, key: 31 },
      "Invalid value 31 for parameter 'key' supplied",
    );
    await refused(
      '/runs/log-metric',
      { ...metric, step: 'foo' },
      "Invalid value foo for parameter 'step' supplied",
    );
    await refused(
      '/runs/log-metric',
      { ...metric, timestamp: 'foo' },
      "Invalid value foo for parameter 'timestamp' supplied",
    );
    await refused(
      '/runs/log-metric',
      { ...metric, run_id: null },
      "Missing value for required parameter 'run_id'",
    );
    await refused('/runs/log-metric', { ...metric, key: null }, "Missing value for required parameter 'key'");
    await refused(
      '/runs/set-tag',
      { run_id: runId, key: 'param', value: 41 },
      "Invalid value 41 for parameter 'value' supplied",
    );
    await refused('/experiments/create', { name: 123 }, "Invalid value 123 for parameter 'name'");
    await refused('/experiments/create', {}, "Missing value for required parameter 'name'");
    await refused('/experiments/create', { name: 'e', tags: '5' }, "Invalid value 5 for parameter 'tags'");
    await refused(
      '/runs/log-batch',
      { run_id: runId, metrics: 'foo' },
      "Invalid value foo for parameter 'metrics' supplied",
    );
  });

  // test_model_registry.py.
  it('says what MLflow says of registered models and versions', async () => {
    await ok('POST', `${API}/registered-models/create`, { name: 'words' });
    expectRefused(
      await call('POST', `${API}/registered-models/create`, { name: 'words' }),
      400,
      'RESOURCE_ALREADY_EXISTS',
      /Registered Model .+ already exists/,
    );
    expectRefused(
      await call('GET', `${API}/registered-models/get?name=words-2`),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      'Registered Model with name=words-2 not found',
    );
    expectRefused(
      await call('POST', `${API}/registered-models/rename`, { name: 'words-2', new_name: 'x' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
      /Registered Model .+ not found/,
    );
    expectRefused(
      await call('GET', `${API}/model-versions/get?name=words&version=something not correct`),
      400,
      'INVALID_PARAMETER_VALUE',
      'Model version must be an integer',
    );
    for (const [method, path, body] of [
      ['DELETE', '/model-versions/delete', { name: 'words', version: '1' }],
      ['PATCH', '/model-versions/update', { name: 'words', version: '1', description: 'x' }],
      ['POST', '/model-versions/transition-stage', { name: 'words', version: '1', stage: 'Staging' }],
    ] as const) {
      expectRefused(
        await call(method, `${API}${path}`, body),
        404,
        'RESOURCE_DOES_NOT_EXIST',
        /Model Version .+ not found/,
      );
    }
  });
});
