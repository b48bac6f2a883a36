/**
 * MLflow models in the registry, as MLflow's clients register them: folders of files logged through the
 * artifact proxy (mlflow-artifacts:/ locations), every source form, sources not logged yet, the manifest
 * that guards them, and the proxy's deletes and multipart uploads.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toRowMajor } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { createMatrix } from '../../src/math/matrix.js';
import { explainModel } from '../../src/ml/explain/explain.js';
import { loadModelPath } from '../../src/ml/formats/mlflow-model.js';
import { buildApp } from '../../src/server/app.js';
import { openStore } from '../../src/server/open-stores.js';
import { loadServedModel } from '../../src/serving/model-source.js';
import type { ArtifactStore } from '../../src/tracking/artifacts/artifact-store.js';
import { LocalArtifactStore } from '../../src/tracking/artifacts/local-artifact-store.js';
import { S3ArtifactStore } from '../../src/tracking/artifacts/s3-artifact-store.js';
import { findModelVersion, loadModelVersion } from '../../src/tracking/model-registry.js';
import { readTinyModel } from '../support/fixtures.js';
import { startS3 } from '../support/s3.js';

/** An artifact store the app runs on, and a way to place a file in it behind Onset's back. */
interface Backend {
  readonly artifacts: ArtifactStore;
  /** Writes a file into the store directly (no recorded sha256), as a process other than Onset would. */
  writeBehindBack(path: string, content: string): Promise<void>;
  close(): Promise<void>;
}

const BACKENDS: Record<string, () => Promise<Backend>> = {
  'a local folder': async () => {
    const root = await mkdtemp(join(tmpdir(), 'onset-mlflow-models-artifacts-'));
    return {
      artifacts: new LocalArtifactStore(root),
      async writeBehindBack(path, content) {
        const file = join(root, ...path.split('/'));
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, content);
      },
      close: () => rm(root, { recursive: true, force: true }),
    };
  },
  'S3 (s3rver)': async () => {
    const s3 = await startS3();
    const prefix = `mlflow-models-${randomBytes(4).toString('hex')}`;
    const client = s3.client();
    return {
      artifacts: new S3ArtifactStore(`s3://${s3.bucket}/${prefix}`, {
        endpoint: s3.endpoint,
        region: s3.region,
        credentials: s3.credentials,
      }),
      async writeBehindBack(path, content) {
        await client.send(
          new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/${path}`, Body: content }),
        );
      },
      close: () => s3.stop(),
    };
  },
};

for (const [backendName, openBackend] of Object.entries(BACKENDS)) {
  describe(`MLflow models and the artifact proxy on ${backendName}`, () => {
    let directory: string;
    let app: FastifyInstance;
    let base: string;
    let stores: Awaited<ReturnType<typeof openStore>>;
    let backend: Backend;
    let artifacts: ArtifactStore;

    beforeAll(async () => {
      directory = await mkdtemp(join(tmpdir(), 'onset-mlflow-models-'));
      backend = await openBackend();
      artifacts = backend.artifacts;
      stores = await openStore(`sqlite:${join(directory, 'onset.db')}`, { artifactRoot: artifacts.rootUri });
      app = await buildApp({
        tracking: stores.tracking,
        registry: stores.registry,
        loggedModels: stores.loggedModels,
        artifacts,
      });
      base = await app.listen({ port: 0, host: '127.0.0.1' });
    }, 30_000);

    afterAll(async () => {
      await app?.close();
      await stores?.close();
      await backend?.close();
      await rm(directory, { recursive: true, force: true });
    });

    const API = '/api/2.0/mlflow';
    const registryStores = () => ({ ...stores, artifacts });
    const PROXY = '/api/2.0/mlflow-artifacts/artifacts';

    async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: body === undefined ? null : JSON.stringify(body),
      });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
    }

    async function put(path: string, content: string | Buffer) {
      const response = await fetch(`${base}${PROXY}/${path}`, { method: 'PUT', body: content });
      expect(response.status, path).toBe(200);
    }

    /** A run, as MLflow's client makes it, and where its artifacts are under the proxy. */
    async function newRun(experimentId = '0') {
      const { json } = await call('POST', `${API}/runs/create`, { experiment_id: experimentId });
      const info = (json.run as { info: { run_id: string; artifact_uri: string } }).info;
      expect(info.artifact_uri).toMatch(/^mlflow-artifacts:\//);
      return { runId: info.run_id, artifactUri: info.artifact_uri, prefix: info.artifact_uri.slice(18) };
    }

    /** Logs an MLflow model folder (an MLmodel file and the Onset document) to a run, as a client would. */
    async function logModelFolder(prefix: string, document: string) {
      await put(
        `${prefix}/model/MLmodel`,
        'artifact_path: model\nflavors:\n  onset:\n    data: model.json\n',
      );
      await put(`${prefix}/model/model.json`, document);
      await put(`${prefix}/model/env/requirements.txt`, 'onset\n');
    }

    describe('model versions from any source', () => {
      it('registers a model folder by runs:/, mlflow-artifacts:/, an artifact URI and models:/, with one manifest', async () => {
        const document = await readTinyModel();
        const { runId, artifactUri, prefix } = await newRun();
        await logModelFolder(prefix, document);
        await call('POST', `${API}/registered-models/create`, { name: 'folders' });

        const sources = [
          `runs:/${runId}/model`,
          `${artifactUri}/model`,
          `mlflow-artifacts://onset.example:9696/${prefix}/model`,
          `${artifacts.rootUri}/${prefix}/model`,
          'models:/folders/1',
        ];
        const checksums = new Set<string>();
        for (const [index, source] of sources.entries()) {
          const created = await call('POST', `${API}/model-versions/create`, {
            name: 'folders',
            source,
            run_id: source.startsWith('runs:/') ? runId : undefined,
            tags: [{ key: 'form', value: String(index) }],
          });
          expect(created.status, source).toBe(200);
          const version = created.json.model_version as { version: string; source: string; checksum: string };
          expect(version.source).toBe(source);
          checksums.add(version.checksum);
          const uri = await call(
            'GET',
            `${API}/model-versions/get-download-uri?name=folders&version=${version.version}`,
          );
          expect(uri.json.artifact_uri, source).toBe(`mlflow-artifacts:/${prefix}/model`);
        }
        // One folder, one manifest digest: sha256sum's lines of its three files, sorted by path.
        const files = await stores.registry.getModelFiles('folders', '1');
        expect(files?.map((file) => file.path)).toEqual(['MLmodel', 'env/requirements.txt', 'model.json']);
        const digest = createHash('sha256')
          .update(files!.map((file) => `${file.sha256}  ${file.path}\n`).join(''))
          .digest('hex');
        expect([...checksums]).toEqual([digest]);
        const loaded = await loadModelVersion(
          registryStores(),
          await findModelVersion(stores.registry, 'folders', '5'),
        );
        expect(loaded.model.estimator).toBe('logistic');
      });

      it('accepts a source not logged yet, records its files when first read, and refuses changes after', async () => {
        const document = await readTinyModel();
        const { runId, prefix } = await newRun();
        await call('POST', `${API}/registered-models/create`, { name: 'early' });
        const created = await call('POST', `${API}/model-versions/create`, {
          name: 'early',
          source: `runs:/${runId}/model`,
          run_id: runId,
        });
        expect(created.status).toBe(200);
        expect(created.json.model_version).toMatchObject({ status: 'READY' });
        expect(created.json.model_version).not.toHaveProperty('checksum');
        const pending = await findModelVersion(stores.registry, 'early', '1');
        await expect(loadModelVersion(registryStores(), pending)).rejects.toThrow(/holds no files \(yet\)/);

        await logModelFolder(prefix, document);
        const loaded = await loadModelVersion(registryStores(), pending);
        expect(loaded.version.checksum).toMatch(/^[0-9a-f]{64}$/);
        const got = await call('GET', `${API}/model-versions/get?name=early&version=1`);
        expect((got.json.model_version as { checksum: string }).checksum).toBe(loaded.version.checksum);

        // Replaced through the proxy after registration: the version refuses the new bytes.
        await put(`${prefix}/model/model.json`, document.replace('"onset-model"', '"onset-model" '));
        await expect(
          loadModelVersion(registryStores(), await findModelVersion(stores.registry, 'early', '1')),
        ).rejects.toThrow(/model\.json changed since registration/);
      });

      it('serves an XGBoost model logged by MLflow (UBJ, features by name) with explanations, and refuses a scikit-learn one', async () => {
        const fixtures = fileURLToPath(new URL('../fixtures/mlflow-models/', import.meta.url));
        await call('POST', `${API}/registered-models/create`, { name: 'from-python' });
        for (const folder of ['xgboost-classifier-ubj', 'sklearn-logistic']) {
          const { runId, prefix } = await newRun();
          for (const file of await readdir(join(fixtures, folder))) {
            await put(`${prefix}/model/${file}`, await readFile(join(fixtures, folder, file)));
          }
          const created = await call('POST', `${API}/model-versions/create`, {
            name: 'from-python',
            source: `runs:/${runId}/model`,
            run_id: runId,
          });
          expect(created.status, folder).toBe(200);
        }
        const served = await loadServedModel('models:/from-python/1', registryStores());
        const direct = await loadModelPath(join(fixtures, 'xgboost-classifier-ubj'));
        const rows = generateDataset({ rows: 50, seed: 9 });
        const x = createMatrix(toRowMajor(rows), 50, FEATURE_NAMES.length);
        expect(served.document.training.imported_from).toBe('mlflow-xgboost');
        expect(Array.from(served.model.predictProba(x))).toEqual(Array.from(direct.model.predictProba(x)));
        // Exact explanations: each row's contributions add up to its margin.
        const contributions = explainModel(served.model, x);
        const probabilities = served.model.predictProba(x);
        for (let row = 0; row < 50; row++) {
          const values = contributions.values.data.subarray(
            row * FEATURE_NAMES.length,
            (row + 1) * FEATURE_NAMES.length,
          );
          const margin = values.reduce((sum, value) => sum + value, contributions.bias);
          expect(1 / (1 + Math.exp(-margin))).toBeCloseTo(probabilities[row]!, 6);
        }

        await expect(loadServedModel('models:/from-python/2', registryStores())).rejects.toMatchObject({
          code: 'INVALID_PARAMETER_VALUE',
          message: expect.stringMatching(/sklearn/),
        });
      });

      it('registers an MLflow 3 logged model (models:/m-...), with its run, and lists the version on the model', async () => {
        const fixtures = fileURLToPath(
          new URL('../fixtures/mlflow-models/xgboost-classifier-ubj/', import.meta.url),
        );
        const { runId } = await newRun();
        // MLflow 3's log_model: a logged model, its files under its artifact_uri, then finalized.
        const created = await call('POST', `${API}/logged-models`, {
          experiment_id: '0',
          name: 'model',
          source_run_id: runId,
        });
        expect(created.status, JSON.stringify(created.json)).toBe(200);
        const info = (created.json.model as { info: { model_id: string; artifact_uri: string } }).info;
        expect(info.artifact_uri).toMatch(/^mlflow-artifacts:\//);
        for (const file of await readdir(fixtures)) {
          await put(
            `${info.artifact_uri.slice('mlflow-artifacts:/'.length)}/${file}`,
            await readFile(join(fixtures, file)),
          );
        }
        const finalized = await call('PATCH', `${API}/logged-models/${info.model_id}`, {
          model_id: info.model_id,
          status: 'LOGGED_MODEL_READY',
        });
        expect(finalized.status).toBe(200);

        await call('POST', `${API}/registered-models/create`, { name: 'from-mlflow-3' });
        // What MLflow 3's register_model sends: the model's URI and its id, no run id.
        const version = await call('POST', `${API}/model-versions/create`, {
          name: 'from-mlflow-3',
          source: `models:/${info.model_id}`,
          model_id: info.model_id,
        });
        expect(version.status, JSON.stringify(version.json)).toBe(200);
        expect(version.json.model_version).toMatchObject({
          version: '1',
          run_id: runId,
          source: `models:/${info.model_id}`,
        });
        const served = await loadServedModel('models:/from-mlflow-3/1', registryStores());
        const direct = await loadModelPath(fixtures);
        const x = createMatrix(toRowMajor(generateDataset({ rows: 20, seed: 3 })), 20, FEATURE_NAMES.length);
        expect(Array.from(served.model.predictProba(x))).toEqual(Array.from(direct.model.predictProba(x)));
        const download = await call(
          'GET',
          `${API}/model-versions/get-download-uri?name=from-mlflow-3&version=1`,
        );
        expect(download.json.artifact_uri).toBe(info.artifact_uri);

        // Registered twice: the model lists both versions, as MLflow's mlflow.modelVersions tag does.
        await call('POST', `${API}/model-versions/create`, {
          name: 'from-mlflow-3',
          source: `models:/${info.model_id}`,
          model_id: info.model_id,
        });
        const model = await call('GET', `${API}/logged-models/${info.model_id}`);
        const tags = (model.json.model as { info: { tags: { key: string; value: string }[] } }).info.tags;
        expect(tags).toContainEqual({
          key: 'mlflow.modelVersions',
          value: '[{"name": "from-mlflow-3", "version": "1"}, {"name": "from-mlflow-3", "version": "2"}]',
        });

        const unknown = await call('POST', `${API}/model-versions/create`, {
          name: 'from-mlflow-3',
          source: `models:/m-${'0'.repeat(32)}`,
        });
        expect(unknown.status).toBe(404);
        expect(unknown.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
        const versions = await call(
          'GET',
          `${API}/model-versions/search?filter=${encodeURIComponent("name='from-mlflow-3'")}`,
        );
        expect((versions.json.model_versions as unknown[]).length).toBe(2);
      });

      it('keeps a version whose run does not exist, as MLflow does, without serving it', async () => {
        await call('POST', `${API}/registered-models/create`, { name: 'runless' });
        const created = await call('POST', `${API}/model-versions/create`, {
          name: 'runless',
          source: 'runs:/run_id/model',
          run_id: 'run_id_1',
        });
        expect(created.status).toBe(200);
        expect(created.json.model_version).toMatchObject({
          run_id: 'run_id_1',
          source: 'runs:/run_id/model',
        });
        const uri = await call('GET', `${API}/model-versions/get-download-uri?name=runless&version=1`);
        expect(uri.json).toEqual({ artifact_uri: 'runs:/run_id/model' });
        await expect(
          loadModelVersion(registryStores(), await findModelVersion(stores.registry, 'runless', '1')),
        ).rejects.toThrow(/outside Onset's artifact store/);
      });

      it('refuses local paths outside the store, sources that leave the root, and files Onset did not write', async () => {
        const { runId, prefix } = await newRun();
        await call('POST', `${API}/registered-models/create`, { name: 'refused' });
        for (const source of [
          '/etc',
          'file:///etc/passwd',
          'mlflow-artifacts:/../../etc',
          `runs:/${runId}/../../../etc`,
          'models:/no-such-model/1',
        ]) {
          const response = await call('POST', `${API}/model-versions/create`, { name: 'refused', source });
          expect(response.status, source).toBeGreaterThanOrEqual(400);
          expect(response.status, source).toBeLessThan(500);
          expect(String(response.json.message), source).not.toMatch(/^Internal/);
        }
        const local = await call('POST', `${API}/model-versions/create`, {
          name: 'refused',
          source: '/tmp/model',
        });
        expect(local.json).toMatchObject({
          error_code: 'INVALID_PARAMETER_VALUE',
          message: expect.stringContaining(
            'the local path has to be contained within the artifact directory',
          ),
        });

        // A file written behind Onset's back (no recorded sha256) cannot be vouched for: 400, saying why.
        await backend.writeBehindBack(`${prefix}/stray.json`, '{}');
        const stray = await call('POST', `${API}/model-versions/create`, {
          name: 'refused',
          source: `runs:/${runId}/stray.json`,
          run_id: runId,
        });
        expect(stray.status).toBe(400);
        expect(String(stray.json.message)).toMatch(/not written through Onset|no recorded sha256/);
        const none = await call(
          'GET',
          `${API}/model-versions/search?filter=${encodeURIComponent("name='refused'")}`,
        );
        expect(none.json.model_versions ?? []).toEqual([]);
      });
    });

    describe('the artifact proxy', () => {
      it('shows experiments and runs under mlflow-artifacts:/, accepts such locations, and searches by them', async () => {
        const created = await call('POST', `${API}/experiments/create`, {
          name: 'proxied',
          artifact_location: 'mlflow-artifacts:/custom/place',
        });
        const id = String(created.json.experiment_id);
        const experiment = await call('GET', `${API}/experiments/get?experiment_id=${id}`);
        expect((experiment.json.experiment as { artifact_location: string }).artifact_location).toBe(
          'mlflow-artifacts:/custom/place',
        );
        expect((await stores.tracking.getExperiment(id)).artifactLocation).toBe(
          `${artifacts.rootUri}/custom/place`,
        );
        const { runId, artifactUri } = await newRun(id);
        expect(artifactUri).toBe(`mlflow-artifacts:/custom/place/${runId}/artifacts`);
        const found = await call('POST', `${API}/runs/search`, {
          experiment_ids: [id],
          filter: `attributes.artifact_uri = '${artifactUri}'`,
        });
        expect((found.json.runs as { info: { run_id: string } }[]).map((run) => run.info.run_id)).toEqual([
          runId,
        ]);
        const outside = await call('POST', `${API}/experiments/create`, {
          name: 'outside',
          artifact_location: 'mlflow-artifacts:/../escape',
        });
        expect(outside.status).toBe(400);
      });

      it('deletes files and folders, but never the files of a registered version', async () => {
        const document = await readTinyModel();
        const { runId, prefix } = await newRun();
        await logModelFolder(prefix, document);
        await put(`${prefix}/plots/roc.png`, Buffer.from([1, 2, 3]));
        await put(`${prefix}/notes.txt`, 'scratch');
        await call('POST', `${API}/registered-models/create`, { name: 'kept' });
        await call('POST', `${API}/model-versions/create`, {
          name: 'kept',
          source: `runs:/${runId}/model`,
          run_id: runId,
        });

        expect((await call('DELETE', `${PROXY}/${prefix}/notes.txt`)).status).toBe(200);
        expect((await call('DELETE', `${PROXY}/${prefix}/plots`)).status).toBe(200);
        for (const held of [`${prefix}/model/model.json`, `${prefix}/model`, prefix]) {
          const refused = await call('DELETE', `${PROXY}/${held}`);
          expect(refused.status, held).toBe(400);
          expect(String(refused.json.message)).toContain('model kept version 1');
        }
        const listed = await call('GET', `${API}/artifacts/list?run_id=${runId}`);
        expect((listed.json.files as { path: string }[]).map((file) => file.path)).toEqual(['model']);
        expect((await call('DELETE', `${PROXY}/..%2Fetc`)).status).toBe(400);

        await call('DELETE', `${API}/model-versions/delete`, { name: 'kept', version: '1' });
        expect((await call('DELETE', `${PROXY}/${prefix}/model`)).status).toBe(200);
        expect(await artifacts.exists(`${prefix}/model/model.json`)).toBe(false);
      });

      it('takes a file in parts (MLflow multipart upload), each with its upload token', async () => {
        const { prefix } = await newRun();
        const parts = [Buffer.alloc(70_000, 1), Buffer.alloc(70_000, 2), Buffer.from('end')];
        const created = await call('POST', `/api/2.0/mlflow-artifacts/mpu/create/${prefix}/data`, {
          path: '/home/someone/big.bin',
          num_parts: parts.length,
        });
        expect(created.status).toBe(200);
        const { upload_id, credentials } = created.json as {
          upload_id: string;
          credentials: { url: string; part_number: number; headers: Record<string, string> }[];
        };
        expect(credentials.map((c) => c.part_number)).toEqual([1, 2, 3]);
        expect(
          credentials[0]!.url.startsWith(`${base}/api/2.0/mlflow-artifacts/mpu/part/${upload_id}/`),
        ).toBe(true);

        // Without the token, a part is refused; with it, answered with its ETag. Sent out of order.
        const tokenless = await fetch(credentials[0]!.url, { method: 'PUT', body: parts[0] });
        expect(tokenless.status, await tokenless.text()).toBe(401);
        const etags: string[] = [];
        for (const index of [2, 0, 1]) {
          const response = await fetch(credentials[index]!.url, {
            method: 'PUT',
            body: parts[index],
            headers: credentials[index]!.headers,
          });
          expect(response.status).toBe(200);
          etags[index] = response.headers.get('etag')!;
        }
        // The staging folder is nobody's artifact.
        const root = await call('GET', `${PROXY}`);
        expect((root.json.files as { path: string }[]).map((file) => file.path)).not.toContain(
          '.onset-uploads',
        );
        expect((await call('GET', `${PROXY}/.onset-uploads/${upload_id}/1`)).status).toBe(400);

        const missing = await call('POST', `/api/2.0/mlflow-artifacts/mpu/complete/${prefix}/data`, {
          path: '/home/someone/big.bin',
          upload_id,
          parts: [{ part_number: 1, etag: etags[0] }],
        });
        expect(missing.status).toBe(400);
        const done = await call('POST', `/api/2.0/mlflow-artifacts/mpu/complete/${prefix}/data`, {
          path: '/home/someone/big.bin',
          upload_id,
          parts: etags.map((etag, index) => ({ part_number: index + 1, etag })),
        });
        expect(done.status).toBe(200);
        const whole = Buffer.concat(parts);
        expect(await artifacts.get(`${prefix}/data/big.bin`)).toEqual(whole);
        expect((await artifacts.stat(`${prefix}/data/big.bin`)).sha256).toBe(
          createHash('sha256').update(whole).digest('hex'),
        );
        expect(await artifacts.list('.onset-uploads')).toEqual([]);

        // An aborted upload leaves nothing; a finished one cannot be completed again.
        const again = await call('POST', `/api/2.0/mlflow-artifacts/mpu/complete/${prefix}/data`, {
          path: '/home/someone/big.bin',
          upload_id,
          parts: etags.map((etag, index) => ({ part_number: index + 1, etag })),
        });
        expect(again.status).toBe(404);
        const second = await call('POST', `/api/2.0/mlflow-artifacts/mpu/create/${prefix}/data`, {
          path: 'other.bin',
          num_parts: 1,
        });
        const secondId = String(second.json.upload_id);
        const aborted = await call('POST', `/api/2.0/mlflow-artifacts/mpu/abort/${prefix}/data`, {
          path: 'other.bin',
          upload_id: secondId,
        });
        expect(aborted.status).toBe(200);
        expect(await artifacts.list('.onset-uploads')).toEqual([]);
      });
    });
  });
}
