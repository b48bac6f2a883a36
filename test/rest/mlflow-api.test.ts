import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
// The npm `mlflow` package: a real MLflow REST client, written against MLflow's own server. Its index
// exports the class as module.exports, while its types describe a module with a default export.
import mlflowPackage from 'mlflow';
import { RunStatus } from 'mlflow/lib/enum.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { openStore } from '../../src/server/open-stores.js';
import { LocalArtifactStore } from '../../src/tracking/artifacts/local-artifact-store.js';
import { findModelVersion, loadModelVersion } from '../../src/tracking/model-registry.js';
import { readTinyModel } from '../support/fixtures.js';

type MlflowClass = typeof import('mlflow/lib/mlflow.js')['default'];
const MLflow = mlflowPackage as unknown as MlflowClass;

let directory: string;
let app: FastifyInstance;
let guarded: FastifyInstance;
let base: string;
let guardedBase: string;
let stores: Awaited<ReturnType<typeof openStore>>;
let artifacts: LocalArtifactStore;

beforeAll(async () => {
  // The client logs every request body; keep test output readable.
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  directory = await mkdtemp(join(tmpdir(), 'onset-rest-'));
  artifacts = new LocalArtifactStore(join(directory, 'artifacts'));
  stores = await openStore(`sqlite:${join(directory, 'onset.db')}`, { artifactRoot: artifacts.rootUri });
  app = await buildApp({
    tracking: stores.tracking,
    registry: stores.registry,
    loggedModels: stores.loggedModels,
    artifacts,
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  guarded = await buildApp({
    tracking: stores.tracking,
    registry: stores.registry,
    loggedModels: stores.loggedModels,
    artifacts,
    adminToken: 's3cret',
  });
  guardedBase = await guarded.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app?.close();
  await guarded?.close();
  await stores?.close();
  await rm(directory, { recursive: true, force: true });
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  root = base,
) {
  const response = await fetch(`${root}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('MLflow REST API, through the npm mlflow client', () => {
  it('creates experiments and runs, logs metrics, params and tags, and reads them back', async () => {
    const client = new MLflow({ endpoint: base });
    const { experiment_id } = await client.Experiments.create({
      name: 'client-experiment',
      artifact_location: '',
    });
    expect(experiment_id).toMatch(/^\d+$/);
    const { experiment } = await client.Experiments.get({ experiment_id });
    expect(experiment.name).toBe('client-experiment');
    const { experiments } = await client.Experiments.list({});
    expect(experiments.map((e: { name: string }) => e.name)).toContain('client-experiment');

    const { run } = await client.Runs.create({
      experiment_id,
      user_id: 'clinician',
      start_time: 1_700_000_000_000,
    });
    const run_id = run.info.run_id as string;
    for (let step = 0; step < 5; step++) {
      await client.Runs.logMetric({
        run_id,
        key: 'valid_logloss',
        value: 0.7 - step * 0.1,
        timestamp: 1_700_000_000_000 + step,
        step,
      });
    }
    await client.Runs.logParameter({ run_id, key: 'max_depth', value: '3' });
    await client.Runs.setTag({ run_id, key: 'team', value: 'neuro' });
    await client.Runs.logBatch({
      run_id,
      metrics: [{ key: 'cv_roc_auc', value: 0.97, timestamp: 1_700_000_000_100, step: 0 }],
      params: [{ key: 'learning_rate', value: '0.1' }],
      tags: [{ key: 'stage', value: 'dev' }],
    });
    await client.Runs.update({ run_id, status: RunStatus.FINISHED, end_time: 1_700_000_001_000 });

    const fetched = (await client.Runs.get({ run_id })).run;
    expect(fetched.info.status).toBe('FINISHED');
    expect(fetched.info.end_time).toBe(1_700_000_001_000);
    expect(fetched.data.params).toEqual(
      expect.arrayContaining([
        { key: 'max_depth', value: '3' },
        { key: 'learning_rate', value: '0.1' },
      ]),
    );
    const latest = fetched.data.metrics.find((m: { key: string }) => m.key === 'valid_logloss');
    expect(latest?.step).toBe(4);
    expect(latest?.value).toBeCloseTo(0.3, 12);

    const history = await client.Metrics.getHistory({ run_id, metric_key: 'valid_logloss' });
    expect(history.metrics.map((m: { step: number }) => m.step)).toEqual([0, 1, 2, 3, 4]);

    const { runs } = await client.Runs.search({
      experiment_ids: [experiment_id],
      filter: "metrics.cv_roc_auc > 0.9 and params.max_depth = '3' and tags.team = 'neuro'",
    });
    expect(runs.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([run_id]);
    const none = await client.Runs.search({
      experiment_ids: [experiment_id],
      filter: 'metrics.cv_roc_auc > 0.99',
    });
    expect(none.runs ?? []).toEqual([]);
  });
});

describe('MLflow REST API: errors and limits', () => {
  it('answers MLflow error codes and statuses', async () => {
    const missing = await call('GET', '/api/2.0/mlflow/runs/get?run_id=0123456789abcdef0123456789abcdef');
    expect(missing.status).toBe(404);
    expect(missing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');

    await call('POST', '/api/2.0/mlflow/experiments/create', { name: 'twice' });
    const duplicate = await call('POST', '/api/2.0/mlflow/experiments/create', { name: 'twice' });
    expect(duplicate.status).toBe(400);
    expect(duplicate.json.error_code).toBe('RESOURCE_ALREADY_EXISTS');

    const noName = await call('POST', '/api/2.0/mlflow/experiments/create', {});
    expect(noName.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: "Missing value for required parameter 'name'.",
      errors: [{ field: 'name', message: 'is required', reason: 'missing' }],
    });

    const malformed = await call('POST', '/api/2.0/mlflow/experiments/create', '{"name": ');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error_code).toBe('BAD_REQUEST');

    const unknown = await call('GET', '/api/2.0/mlflow/runs/frobnicate');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error_code).toBe('ENDPOINT_NOT_FOUND');

    const badFilter = await call('POST', '/api/2.0/mlflow/runs/search', {
      experiment_ids: ['0'],
      filter: "params.a > '1'",
    });
    expect(badFilter.status).toBe(400);
    expect(String(badFilter.json.message)).toContain("Invalid comparator '>'");
  });

  it('enforces log-batch limits without writing anything', async () => {
    const { json } = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' });
    const runId = (json.run as { info: { run_id: string } }).info.run_id;
    const metrics = Array.from({ length: 1001 }, (_, i) => ({
      key: `m${i}`,
      value: i,
      timestamp: 1,
      step: 0,
    }));
    const tooMany = await call('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    const run = await call('GET', `/api/2.0/mlflow/runs/get?run_id=${runId}`);
    expect((run.json.run as { data: { metrics: unknown[] } }).data.metrics).toEqual([]);
  });
});

describe('artifact proxy and registry', () => {
  it('uploads, lists and downloads artifacts, refusing paths that leave the root', async () => {
    const put = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/shared/notes.txt`, {
      method: 'PUT',
      body: 'hello',
    });
    expect(put.status).toBe(200);
    const got = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/shared/notes.txt`);
    expect(await got.text()).toBe('hello');
    const list = await call('GET', '/api/2.0/mlflow-artifacts/artifacts?path=shared');
    expect(list.json.files).toEqual([{ path: 'notes.txt', is_dir: false, file_size: 5 }]);
    for (const attack of [
      '..%2f..%2fetc%2fpasswd',
      '%252e%252e%252fsecret',
      'a%5c..%5c..%5cwin.ini',
      'a%00b',
    ]) {
      const response = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${attack}`, {
        method: 'PUT',
        body: 'x',
      });
      expect(response.status, attack).toBe(400);
    }
  });

  it('registers a version from a run artifact, moves it through stages and aliases, and refuses a changed artifact', async () => {
    const { json } = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' });
    const info = (json.run as { info: { run_id: string; artifact_uri: string } }).info;
    // Runs' artifacts are shown as MLflow's proxy shows them: under mlflow-artifacts:/.
    expect(info.artifact_uri).toMatch(/^mlflow-artifacts:\/0\/[0-9a-f]{32}\/artifacts$/);
    const prefix = info.artifact_uri.slice('mlflow-artifacts:/'.length);
    const document = await readTinyModel();
    await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${prefix}/model/model.json`, {
      method: 'PUT',
      body: document,
    });

    expect((await call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'pd' })).status).toBe(200);
    const created = await call('POST', '/api/2.0/mlflow/model-versions/create', {
      name: 'pd',
      source: `runs:/${info.run_id}/model`,
      run_id: info.run_id,
    });
    const version = created.json.model_version as {
      version: string;
      checksum: string;
      current_stage: string;
    };
    expect(version).toMatchObject({ version: '1', current_stage: 'None' });
    expect(version.checksum).toMatch(/^[0-9a-f]{64}$/);

    const moved = await call('POST', '/api/2.0/mlflow/model-versions/transition-stage', {
      name: 'pd',
      version: '1',
      stage: 'production',
      archive_existing_versions: true,
    });
    expect((moved.json.model_version as { current_stage: string }).current_stage).toBe('Production');
    await call('POST', '/api/2.0/mlflow/registered-models/alias', {
      name: 'pd',
      alias: 'champion',
      version: '1',
    });
    const byAlias = await call('GET', '/api/2.0/mlflow/registered-models/alias?name=pd&alias=champion');
    expect((byAlias.json.model_version as { version: string }).version).toBe('1');
    const latest = await call('POST', '/api/2.0/mlflow/registered-models/get-latest-versions', {
      name: 'pd',
      stages: ['Production'],
    });
    expect((latest.json.model_versions as { version: string }[]).map((v) => v.version)).toEqual(['1']);
    const uri = await call('GET', '/api/2.0/mlflow/model-versions/get-download-uri?name=pd&version=1');
    expect(uri.json.artifact_uri).toBe(`${info.artifact_uri}/model`);
    expect(await stores.registry.getModelFiles('pd', '1')).toEqual([
      {
        path: 'model.json',
        size: Buffer.byteLength(document),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ]);

    const registryStores = { tracking: stores.tracking, registry: stores.registry, artifacts };
    const champion = await findModelVersion(stores.registry, 'pd', '@champion');
    const loaded = await loadModelVersion(registryStores, champion);
    expect(loaded.model.estimator).toBe('logistic');

    // Replace the artifact behind the registry's back: loading must refuse it.
    await artifacts.put(`${prefix}/model/model.json`, document.replace('"onset-model"', '"onset-model" '));
    await expect(
      loadModelVersion(registryStores, await findModelVersion(stores.registry, 'pd', 'Production')),
    ).rejects.toThrow('changed since registration');
  });

  it('confines model version sources in the artifact store to its root, and keeps URIs elsewhere as given', async () => {
    const { json } = await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' });
    const runId = (json.run as { info: { run_id: string } }).info.run_id;
    await call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'confined' });
    const sources = [
      `runs:/${runId}/../../../../etc/passwd`,
      `runs:/${runId}/model/%2e%2e/%2e%2e/%2e%2e/secret`,
      'file:///etc/passwd',
      '/etc/passwd',
      '../outside/model.json',
    ];
    for (const source of sources) {
      const response = await call('POST', '/api/2.0/mlflow/model-versions/create', {
        name: 'confined',
        source,
        run_id: runId,
      });
      expect(response.status, source).toBe(400);
      expect(response.json.error_code, source).toBe('INVALID_PARAMETER_VALUE');
    }
    const versions = await call('GET', "/api/2.0/mlflow/model-versions/search?filter=name%3D'confined'");
    expect(versions.json.model_versions ?? []).toEqual([]);

    // A URI elsewhere is the client's business, as in MLflow: registered, never read, not served.
    const elsewhere = await call('POST', '/api/2.0/mlflow/model-versions/create', {
      name: 'confined',
      source: 's3://another-bucket/model',
    });
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.json.model_version).not.toHaveProperty('checksum');
    const uri = await call('GET', '/api/2.0/mlflow/model-versions/get-download-uri?name=confined&version=1');
    expect(uri.json).toEqual({ artifact_uri: 's3://another-bucket/model' });
  });

  it('requires the admin token for registry reads and writes when one is configured, and changes nothing without it', async () => {
    const admin = { authorization: 'Bearer s3cret' };
    const denied = await call(
      'POST',
      '/api/2.0/mlflow/registered-models/create',
      { name: 'guarded' },
      {},
      guardedBase,
    );
    expect(denied.status).toBe(401);
    expect(denied.json.error_code).toBe('UNAUTHENTICATED');
    expect(
      (await call('GET', '/api/2.0/mlflow/registered-models/get?name=guarded', undefined, {}, guardedBase))
        .status,
    ).toBe(401);
    expect(
      (await call('GET', '/api/2.0/mlflow/registered-models/get?name=guarded', undefined, admin, guardedBase))
        .status,
    ).toBe(404);
    const allowed = await call(
      'POST',
      '/api/2.0/mlflow/registered-models/create',
      { name: 'guarded' },
      { authorization: 'Bearer s3cret' },
      guardedBase,
    );
    expect(allowed.status).toBe(200);
    const transition = await call(
      'DELETE',
      '/api/2.0/mlflow/registered-models/delete',
      { name: 'guarded' },
      { authorization: 'Bearer wrong' },
      guardedBase,
    );
    expect(transition.status).toBe(401);
    expect(
      (await call('GET', '/api/2.0/mlflow/registered-models/get?name=guarded', undefined, admin, guardedBase))
        .status,
    ).toBe(200);
  });
});
