/**
 * The security findings of the hardening review, replayed as an attacker would against a real server (a
 * home with a Production model, an admin token and an API key): none of them may work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OnsetConfig, resolveConfig } from '../../src/config.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { checkExposure, checkLogSecret } from '../../src/server/listening.js';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { trainAndPromote } from '../support/registry.js';

const ADMIN = 'an-admin-t0ken';
const KEY = 'a-prediction-k3y';
const MODEL = 'parkinson-disease-prediction';
const home = mkdtempSync(join(tmpdir(), 'onset-access-'));
const data = generateDataset({ rows: 300, seed: 7 });
const record = {
  patient_id: 'P-1',
  data: Object.fromEntries(FEATURE_NAMES.map((name) => [name, data.columns[name][0]!])),
};
let server: RunningServer;
let base: string;
let modelPath: string;

const env = { ONSET_ADMIN_TOKEN: ADMIN, ONSET_API_KEY: KEY };
const admin = { authorization: `Bearer ${ADMIN}` };
const key = { 'x-api-key': KEY };

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers:
      body === undefined || Buffer.isBuffer(body)
        ? headers
        : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? null : Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    // an artifact's bytes
  }
  return { status: response.status, text, json };
}

beforeAll(async () => {
  const config = resolveConfig({ home, port: 0 }, env);
  const { openOnsetStores } = await import('../../src/server/open-stores.js');
  const stores = await openOnsetStores(config);
  try {
    const { artifactUri } = await trainAndPromote(stores, MODEL, data, { n_estimators: 10 });
    modelPath = `${artifactUri.slice(stores.artifacts.rootUri.length + 1)}/model/model.json`;
  } finally {
    await stores.close();
  }
  server = await startServer(config, { pipelines: true, logger: false });
  base = server.address;
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('with an admin token and an API key', () => {
  it('refuses to let anyone but the admin replace a model: no model poisoning', async () => {
    const before = await call('GET', `/api/2.0/mlflow-artifacts/artifacts/${modelPath}`, admin);
    expect(before.status).toBe(200);
    const served = (await call('POST', '/predict', key, record)).json.probability;
    const poison = Buffer.from('{"name":"poison"}');
    const refused: Record<string, string>[] = [
      {},
      key,
      { authorization: `Bearer ${KEY}` },
      { authorization: `Bearer ${ADMIN}x` },
    ];
    for (const headers of refused) {
      const put = await call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${modelPath}`, headers, poison);
      expect(put.status, JSON.stringify(headers)).toBe(401);
      expect(put.json.error_code).toBe('UNAUTHENTICATED');
    }
    const after = await call('GET', `/api/2.0/mlflow-artifacts/artifacts/${modelPath}`, admin);
    expect(after.text).toBe(before.text);
    await server.live.check();
    expect((await call('POST', '/predict', key, record)).json.probability).toBe(served);
  });

  it('keeps tracking writes for the admin: create, rename, delete, log, tag', async () => {
    const writes: [string, string, unknown][] = [
      ['POST', '/api/2.0/mlflow/experiments/create', { name: 'look-alike' }],
      ['POST', '/api/2.0/mlflow/experiments/update', { experiment_id: '0', new_name: 'renamed' }],
      ['POST', '/api/2.0/mlflow/experiments/delete', { experiment_id: '0' }],
      ['POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' }],
      ['POST', '/api/2.0/mlflow/runs/log-batch', { run_id: '0'.repeat(32), metrics: [] }],
      ['POST', '/api/2.0/mlflow/runs/set-tag', { run_id: '0'.repeat(32), key: 'k', value: 'v' }],
    ];
    for (const [method, path, body] of writes) {
      expect((await call(method, path, {}, body)).status, path).toBe(401);
      expect((await call(method, path, key, body)).status, path).toBe(401);
    }
    const experiment = await call('GET', '/api/2.0/mlflow/experiments/get?experiment_id=0', admin);
    expect(experiment.json.experiment).toMatchObject({ name: 'Default', lifecycle_stage: 'active' });
  });

  it('keeps models, run details and logs from the API key: it reaches predictions only', async () => {
    for (const path of [
      `/api/2.0/mlflow-artifacts/artifacts/${modelPath}`,
      '/api/2.0/mlflow/experiments/search',
      `/api/2.0/mlflow/registered-models/get?name=${MODEL}`,
      '/api/onset/pipeline-runs',
    ]) {
      expect((await call('GET', path)).status, path).toBe(401);
      expect((await call('GET', path, key)).status, path).toBe(401);
      expect((await call('GET', path, admin)).status, path).toBe(200);
    }
    expect((await call('GET', '/model')).status).toBe(401);
    expect((await call('GET', '/model', key)).json).toMatchObject({ name: MODEL });
    expect((await call('GET', '/model', admin)).status).toBe(200);
    expect((await call('GET', '/ready')).status).toBe(200);
    expect((await call('GET', '/health')).status).toBe(200);
    expect((await call('GET', '/metrics')).status).toBe(200);
  });

  it('refuses hostile artifact locations, even from the admin', async () => {
    for (const location of ['file:///etc', 'http://169.254.169.254/latest/meta-data/', 's3://other/x']) {
      const created = await call('POST', '/api/2.0/mlflow/experiments/create', admin, {
        name: `hostile ${location}`,
        artifact_location: location,
      });
      expect(created.status, location).toBe(400);
      expect(created.json.message).toMatch(/must be under this server's artifact root/);
    }
    const nul = await call('POST', '/api/2.0/mlflow/experiments/create', admin, {
      name: 'nul',
      artifact_location: `${server.stores.artifacts.rootUri}/a\u0000b`,
    });
    expect(nul.status).toBe(400);
    expect(
      (await call('GET', '/api/2.0/mlflow/experiments/get-by-name?experiment_name=nul', admin)).status,
    ).toBe(404);
  });

  it('records who made a stage transition from the credentials, not from what the client claims', async () => {
    const moved = await call(
      'POST',
      '/api/2.0/mlflow/model-versions/transition-stage',
      { ...admin, 'x-onset-user': 'someone-else' },
      { name: MODEL, version: '1', stage: 'Staging', user_id: 'mallory', comment: 'a test' },
    );
    expect(moved.status).toBe(200);
    const history = await server.stores.registry.getStageHistory(MODEL, '1');
    expect(history.at(-1)).toMatchObject({ toStage: 'Staging', user: 'admin', reason: 'a test' });
  });
});

describe('what error answers tell', () => {
  it('never echo a long value back, and never name the server home or installation', async () => {
    const big = 'x'.repeat(1_000_000);
    for (const [method, path, body] of [
      ['POST', '/api/2.0/mlflow/experiments/create', { name: 'n', artifact_location: big }],
      ['POST', '/api/2.0/mlflow/runs/update', { run_id: big }],
      ['POST', '/api/2.0/mlflow/runs/search', { filter: big }],
      ['POST', '/api/onset/schedules', { pipeline: 'train-gbdt', cron: big }],
      ['POST', '/predict/batch', { [big]: 1 }],
      ['GET', `/api/2.0/mlflow/runs/get?run_id=${big.slice(0, 6_000)}`, undefined],
    ] as const) {
      const answer = await call(method, path, { ...admin, ...key }, body);
      const at = path.slice(0, 60);
      expect(answer.status, at).toBeGreaterThanOrEqual(400);
      expect(answer.status, at).toBeLessThan(500);
      expect(answer.text.length, at).toBeLessThan(4_000);
      expect(/xxxx…\(\d+ characters\)/.test(answer.text), `${at}: ${answer.text.slice(0, 300)}`).toBe(true);
    }
    const outside = await call('POST', '/api/2.0/mlflow/model-versions/create', admin, {
      name: MODEL,
      source: 'file:///etc/passwd',
    });
    expect(outside.status).toBe(400);
    expect(outside.json.message).toMatch(/local path has to be contained within the artifact directory/);
    expect(outside.text).not.toContain(home);
    // A location the client gives under the home is echoed with the home named $ONSET_HOME.
    const located = await call('POST', '/api/2.0/mlflow/experiments/create', admin, {
      name: 'elsewhere',
      artifact_location: `file://${home}/elsewhere`,
    });
    expect(located.status).toBe(400);
    expect(located.json.message).toMatch(/\$ONSET_HOME\/elsewhere/);
    expect(located.text).not.toContain(home);
  });

  it('keep stack traces out of the pipeline API', async () => {
    const started = await call('POST', '/api/onset/pipelines/train-gbdt/runs', admin, {
      params: { data: join(home, 'no-such-file.csv') },
    });
    expect(started.status).toBe(202);
    const runId = (started.json.run as { run_id: string }).run_id;
    let run: { status: string; blocks: { error: unknown }[] } | undefined;
    for (let i = 0; i < 100; i++) {
      run = (await call('GET', `/api/onset/pipeline-runs/${runId}`, admin)).json.run as typeof run;
      if (run && run.status !== 'RUNNING') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(run?.status).toBe('FAILED');
    const failed = run!.blocks.find((block) => block.error !== null)!;
    expect(Object.keys(failed.error as object)).toEqual(['message']);
    // The stack stays on the server, for the operator.
    const stored = await server.stores.pipelines.getRun(runId);
    expect(stored.blocks.find((block) => block.error !== null)?.error?.stack).toMatch(/at /);
  });
});

describe('listening beyond loopback', () => {
  const LOG_SECRET = 'a-log-secret-of-at-least-32-characters';
  const config = (host: string, extra: Record<string, string> = {}): OnsetConfig =>
    resolveConfig({ home, host, port: 0 }, extra);

  it('refuses to start with an API open to anyone, saying which secret to set', async () => {
    expect(() => checkExposure(config('0.0.0.0'))).toThrow(
      /listen on 0\.0\.0\.0, beyond this machine, but the tracking, registry, artifact and pipeline APIs are open to anyone.*no ONSET_ADMIN_TOKEN.*the prediction API is open to anyone \(no ONSET_API_KEY\)\. Set ONSET_ADMIN_TOKEN and ONSET_API_KEY, or pass --allow-unauthenticated/,
    );
    expect(() => checkExposure(config('0.0.0.0', { ONSET_ADMIN_TOKEN: ADMIN }))).toThrow(/ONSET_API_KEY/);
    await expect(startServer(config('0.0.0.0'), { pipelines: false, logger: false })).rejects.toThrow(
      /beyond this machine/,
    );
    // Loopback, or both secrets set: nothing to say.
    expect(checkExposure(config('127.0.0.1'))).toBeUndefined();
    expect(checkExposure(config('0.0.0.0', env))).toBeUndefined();
  });

  it('refuses to start with the prediction log on and no ONSET_LOG_SECRET, saying what to set', async () => {
    const withoutSecret = config('0.0.0.0', env);
    expect(() => checkLogSecret(withoutSecret)).toThrow(
      /listen on 0\.0\.0\.0, beyond this machine, with the prediction log on but no secret for its patient keys: set ONSET_LOG_SECRET .*or turn the log off with ONSET_PREDICTION_LOG=off\.$/,
    );
    await expect(startServer(withoutSecret, { pipelines: false, logger: false })).rejects.toThrow(
      /set ONSET_LOG_SECRET/,
    );
    // Set, or the log off, or on loopback (where a secret is kept in the home): nothing to say.
    expect(() => checkLogSecret(config('0.0.0.0', { ...env, ONSET_LOG_SECRET: LOG_SECRET }))).not.toThrow();
    expect(() => checkLogSecret(config('0.0.0.0', { ...env, ONSET_PREDICTION_LOG: 'off' }))).not.toThrow();
    expect(() => checkLogSecret(config('127.0.0.1'))).not.toThrow();
  });

  it('starts when told to, with a loud warning, and shows every address it answers on', async () => {
    const allowed = config('0.0.0.0', {
      ONSET_ALLOW_UNAUTHENTICATED: 'true',
      ONSET_API_KEY: KEY,
      ONSET_LOG_SECRET: LOG_SECRET,
    });
    expect(checkExposure(allowed)).toMatch(/^WARNING: listening on 0\.0\.0\.0.*no ONSET_ADMIN_TOKEN/);
    const open = await startServer(allowed, { pipelines: false, logger: false });
    try {
      expect(open.exposureWarning).toMatch(/^WARNING/);
      expect(open.addresses).toContain(`http://127.0.0.1:${new URL(open.address).port}`);
      expect(open.addresses.length).toBeGreaterThanOrEqual(1);
    } finally {
      await open.stop();
    }
  });
});
