import { writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { toRowMajor } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { createMatrix } from '../../src/math/matrix.js';
import { loadModelPath } from '../../src/ml/formats/mlflow-model.js';
import { serializeModelDocument } from '../../src/ml/model-document.js';
import { trainOnDataset } from '../../src/ml/train-on-dataset.js';
import { buildApp } from '../../src/server/app.js';
import { startServer } from '../../src/server/server.js';
import { LiveModel } from '../../src/serving/live-model.js';
import { loadServedModel, parseModelUri } from '../../src/serving/model-source.js';
import { runArtifactPrefix } from '../../src/tracking/artifact-paths.js';
import { logTrainingRun } from '../../src/tracking/training-logger.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('model-source');
const data = generateDataset({ rows: 200, seed: 41 });
const record = { data: Object.fromEntries(FEATURE_NAMES.map((name) => [name, data.columns[name][0]!])) };

describe('model URIs', () => {
  it('parses stages, versions, aliases, run artifacts and files, and explains bad ones', () => {
    expect(parseModelUri('models:/m/Production')).toEqual({
      kind: 'registry',
      name: 'm',
      reference: 'Production',
    });
    expect(parseModelUri('models:/m/3')).toEqual({ kind: 'registry', name: 'm', reference: '3' });
    expect(parseModelUri('models:/m@champion')).toEqual({
      kind: 'registry',
      name: 'm',
      reference: '@champion',
    });
    expect(parseModelUri(`runs:/${'a'.repeat(32)}/model`)).toEqual({
      kind: 'run',
      runId: 'a'.repeat(32),
      path: 'model',
    });
    expect(parseModelUri('file:///tmp/m.json')).toEqual({ kind: 'file', path: '/tmp/m.json' });
    expect(() => parseModelUri('models:/m')).toThrow(/models:\/NAME\/STAGE/);
    expect(() => parseModelUri('runs:/123/model')).toThrow(/32-digit run id/);
    expect(() => parseModelUri('s3://bucket/m.json')).toThrow(/Unsupported model URI/);
  });

  it("loads a run's artifact (checksum verified) and a file, and serves a file with onset serve's server", async () => {
    const { stores, home } = temporary;
    const result = trainOnDataset(data, { estimator: 'logistic' });
    const logged = await logTrainingRun(stores, { result, datasetPath: 'generated' });
    const fromRun = await loadServedModel(`runs:/${logged.runId}/model`, stores);
    expect(fromRun).toMatchObject({ runId: logged.runId, name: null, version: null });
    expect(fromRun.checksum).toMatch(/^[0-9a-f]{64}$/);
    writeFileSync(
      new URL(`${logged.artifactUri}/model/model.json`),
      serializeModelDocument(result.document).replace('logistic', 'logistic '),
    );
    await expect(loadServedModel(`runs:/${logged.runId}/model`, stores)).rejects.toThrow(/sha256|checksum/i);

    const file = join(home, 'model.json');
    writeFileSync(file, serializeModelDocument(result.document));
    const server = await startServer(resolveConfig({ home, port: 0, modelUri: file }, {}), {
      pipelines: false,
      logger: false,
    });
    try {
      const answer = await fetch(`${server.address}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(record),
      });
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { model: { name: string | null } }).model).toEqual({
        name: null,
        version: null,
        run_id: null,
      });
    } finally {
      await server.stop();
    }
  });
});

describe('models in MLflow format', () => {
  it("serves an MLflow XGBoost model from a run's folder (every file verified) and from a folder on disk", async () => {
    const { stores } = temporary;
    const fixture = fileURLToPath(
      new URL('../fixtures/mlflow-models/xgboost-classifier-ubj/', import.meta.url),
    );
    const result = trainOnDataset(data, { estimator: 'logistic' });
    const logged = await logTrainingRun(stores, { result, datasetPath: 'generated' });
    const prefix = runArtifactPrefix(stores.artifacts, logged.artifactUri);
    for (const file of await readdir(fixture)) {
      await stores.artifacts.put(`${prefix}/xgb/${file}`, await readFile(join(fixture, file)));
    }
    const direct = await loadModelPath(fixture);
    const x = createMatrix(toRowMajor(data), data.rowCount, FEATURE_NAMES.length);
    const fromRun = await loadServedModel(`runs:/${logged.runId}/xgb`, stores);
    expect(fromRun.document.training.imported_from).toBe('mlflow-xgboost');
    expect(Array.from(fromRun.model.predictProba(x))).toEqual(Array.from(direct.model.predictProba(x)));
    const fromFolder = await loadServedModel(fixture);
    expect(Array.from(fromFolder.model.predictProba(x))).toEqual(Array.from(direct.model.predictProba(x)));
    // The same files have the same fingerprint, served from a run or from a folder.
    expect(fromFolder.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(fromFolder.checksum).toBe(fromRun.checksum);

    // A file of the folder changed behind the store's back is refused.
    const [first] = await readdir(fixture);
    writeFileSync(new URL(`${logged.artifactUri}/xgb/${first}`), 'changed');
    await expect(loadServedModel(`runs:/${logged.runId}/xgb`, stores)).rejects.toThrow(/sha256|checksum/i);
    await expect(loadServedModel(`runs:/${logged.runId}/nothing`, stores)).rejects.toMatchObject({
      code: 'RESOURCE_DOES_NOT_EXIST',
    });
  });
});

describe('request limits', () => {
  it('refuses numbers JSON turns into infinity, and limits clients to the configured rate but the exempt ones', async () => {
    const { stores } = temporary;
    const result = trainOnDataset(data, { estimator: 'logistic' });
    const file = join(temporary.home, 'limited.json');
    writeFileSync(file, serializeModelDocument(result.document));
    const live = new LiveModel(file, undefined);
    await live.start();
    const app = await buildApp({
      ...stores,
      pipelines: undefined,
      serving: { live },
      rateLimitPerMinute: 2,
      rateLimitExempt: ['127.0.0.1'],
    });
    try {
      const body = JSON.stringify(record).replace(/"Age":[^,]+/, '"Age":1e999');
      const infinite = await app.inject({
        method: 'POST',
        url: '/predict',
        payload: body,
        headers: { 'content-type': 'application/json' },
      });
      expect(infinite.statusCode).toBe(400);
      expect(infinite.json().errors).toEqual([
        expect.objectContaining({ field: 'data.Age', reason: 'out_of_range' }),
      ]);
      const remote = { remoteAddress: '203.0.113.7' };
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++)
        statuses.push(
          (await app.inject({ method: 'POST', url: '/predict', payload: record, ...remote })).statusCode,
        );
      expect(statuses).toEqual([200, 200, 429]);
      const limited = await app.inject({ method: 'POST', url: '/predict', payload: record, ...remote });
      expect(limited.json()).toMatchObject({ error_code: 'REQUEST_LIMIT_EXCEEDED' });
      expect(limited.headers['retry-after']).toBeDefined();
      // The exempt address (here loopback, as configured) is not limited.
      for (let i = 0; i < 3; i++)
        expect((await app.inject({ method: 'POST', url: '/predict', payload: record })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('limits clients behind a reverse proxy on this host by their forwarded address, only from a trusted proxy', async () => {
    const { stores } = temporary;
    const file = join(temporary.home, 'proxied.json');
    writeFileSync(file, serializeModelDocument(trainOnDataset(data, { estimator: 'logistic' }).document));
    const live = new LiveModel(file, undefined);
    await live.start();
    const predict = (app: FastifyInstance, forwardedFor?: string) =>
      app
        .inject({
          method: 'POST',
          url: '/predict',
          payload: record,
          remoteAddress: '127.0.0.1',
          ...(forwardedFor ? { headers: { 'x-forwarded-for': forwardedFor } } : {}),
        })
        .then((answer) => answer.statusCode);
    // No exemption by default: a proxy on this host is one client, limited as one (never a silent hole).
    const untrusting = await buildApp({
      ...stores,
      pipelines: undefined,
      serving: { live },
      rateLimitPerMinute: 2,
    });
    // With the proxy trusted, each forwarded client has its own budget, and cannot be forged by others.
    const trusting = await buildApp({
      ...stores,
      pipelines: undefined,
      serving: { live },
      rateLimitPerMinute: 2,
      trustedProxies: ['127.0.0.1'],
    });
    try {
      expect([await predict(untrusting, '198.51.100.1'), await predict(untrusting, '198.51.100.2')]).toEqual([
        200, 200,
      ]);
      expect(await predict(untrusting, '198.51.100.3')).toBe(429);

      const first = [await predict(trusting, '198.51.100.1'), await predict(trusting, '198.51.100.1')];
      expect([...first, await predict(trusting, '198.51.100.1')]).toEqual([200, 200, 429]);
      expect(await predict(trusting, '198.51.100.2')).toBe(200);
      // A client that is not a trusted proxy cannot pick its address with the header.
      const direct = (forwardedFor: string) =>
        trusting
          .inject({
            method: 'POST',
            url: '/predict',
            payload: record,
            remoteAddress: '203.0.113.9',
            headers: { 'x-forwarded-for': forwardedFor },
          })
          .then((answer) => answer.statusCode);
      expect([await direct('10.0.0.1'), await direct('10.0.0.2'), await direct('10.0.0.3')]).toEqual([
        200, 200, 429,
      ]);
    } finally {
      await untrusting.close();
      await trusting.close();
    }
  });
});
