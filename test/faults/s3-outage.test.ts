/**
 * Faults of S3 (the s3rver emulator) under an s3:// artifact root: stopped (connections refused) and slow
 * or silent (a TCP proxy in front of it delays or holds every byte). Artifact reads and writes must fail
 * with TEMPORARILY_UNAVAILABLE within the documented bound (ONSET_S3_TIMEOUT_MS per attempt, 3 attempts),
 * never hang; a failed training run must be left FAILED with no model version registered from it; the
 * server's /health must keep answering meanwhile; and everything must work again once S3 does.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { trainOnDataset } from '../../src/ml/train-on-dataset.js';
import { buildApp } from '../../src/server/app.js';
import { type OnsetStores, openOnsetStores } from '../../src/server/open-stores.js';
import { loadModelVersion, registerModelVersion } from '../../src/tracking/model-registry.js';
import { ARTIFACT_PROXY } from '../../src/tracking/rest/artifact-routes.js';
import { DEFAULT_EXPERIMENT, logTrainingRun } from '../../src/tracking/training-logger.js';
import { asyncErrorOf } from '../support/onset-error.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/** ONSET_S3_TIMEOUT_MS for these tests: short, so that a silent S3 fails fast. */
const TIMEOUT_MS = 1500;
/** The documented bound: 3 attempts of TIMEOUT_MS, plus the SDK's backoff and a margin for a busy machine. */
const BOUND_MS = 3 * TIMEOUT_MS + 3000;

const dir = mkdtempSync(join(tmpdir(), 'onset-s3-outage-'));
const result = trainOnDataset(generateDataset({ rows: 300, seed: 5 }), { estimator: 'logistic' });
let s3: TestS3;
let proxy: TcpProxy;
let restoreEnvironment: () => void;

beforeAll(async () => {
  s3 = await startS3();
  restoreEnvironment = s3.useEnvironment();
  proxy = await startTcpProxy(Number(new URL(s3.endpoint).port));
}, 30_000);

afterAll(async () => {
  await proxy?.close();
  restoreEnvironment?.();
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Stores in a fresh home, with artifacts on a fresh prefix of the emulator's bucket through `endpoint`. */
function openStores(endpoint: string): Promise<OnsetStores> {
  const name = randomBytes(4).toString('hex');
  return openOnsetStores(
    resolveConfig(
      {},
      {
        ONSET_HOME: join(dir, name),
        ONSET_ARTIFACT_URI: `s3://${s3.bucket}/${name}`,
        ONSET_S3_ENDPOINT: endpoint,
        ONSET_S3_TIMEOUT_MS: String(TIMEOUT_MS),
      },
    ),
  );
}

/** `action`'s OnsetError, checked to be TEMPORARILY_UNAVAILABLE and to come within the bound. */
async function unavailable(action: () => Promise<unknown>): Promise<string> {
  const started = Date.now();
  const error = await asyncErrorOf(action);
  expect(Date.now() - started).toBeLessThan(BOUND_MS);
  expect(error.code, error.message).toBe('TEMPORARILY_UNAVAILABLE');
  return error.message;
}

/** Logs a training run and registers its model as a version of `name`. */
async function trainAndRegister(stores: OnsetStores, name: string) {
  const logged = await logTrainingRun(stores, { result, datasetPath: 'generated' });
  return registerModelVersion(stores, {
    name,
    source: logged.modelSource,
    runId: logged.runId,
    createModelIfMissing: true,
  });
}

describe('S3 unavailable and slow', () => {
  it('stopped: writes and reads fail clearly and fast, a failed run is left FAILED and registers nothing, and all works once S3 is back', async () => {
    const stores = await openStores(s3.endpoint);
    try {
      const first = await trainAndRegister(stores, 'outage');
      await s3.interrupt();

      const written = await unavailable(() => logTrainingRun(stores, { result, datasetPath: 'generated' }));
      expect(written).toMatch(
        /^cannot reach S3 to write \S+\/model\/model\.json in s3:\/\/onset\/\w+ \(http/,
      );
      expect(await unavailable(() => loadModelVersion(stores, first))).toMatch(
        /^cannot reach S3 to (stat|read)/,
      );
      await unavailable(() =>
        registerModelVersion(stores, {
          name: 'other',
          source: first.source,
          runId: first.runId,
          createModelIfMissing: true,
        }),
      );

      // Nothing half-done in the tracking store: the interrupted run FAILED (none left RUNNING), no version
      // or model registered from it.
      const { experimentId } = await stores.tracking.getExperimentByName(DEFAULT_EXPERIMENT);
      const runs = (await stores.tracking.searchRuns({ experimentIds: [experimentId] })).items;
      expect(runs.map((run) => run.info.status).sort()).toEqual(['FAILED', 'FINISHED']);
      expect((await stores.registry.searchModelVersions({})).items.map((v) => [v.name, v.version])).toEqual([
        ['outage', '1'],
      ]);
      await expect(stores.registry.getRegisteredModel('other')).rejects.toMatchObject({
        code: 'RESOURCE_DOES_NOT_EXIST',
      });

      await s3.resume();
      // What was written before the outage is intact, and the same client writes again.
      expect((await loadModelVersion(stores, first)).version.version).toBe('1');
      const second = await trainAndRegister(stores, 'outage');
      expect(second.version).toBe('2');
      expect((await loadModelVersion(stores, second)).document.estimator).toBe('logistic');
    } finally {
      await s3.resume();
      await stores.close();
    }
  }, 40_000);

  it('slow or silent: requests complete when slow, fail within the bound when silent, and /health keeps answering', async () => {
    const stores = await openStores(proxy.url);
    let app: FastifyInstance | undefined;
    try {
      app = await buildApp({
        tracking: stores.tracking,
        registry: stores.registry,
        loggedModels: stores.loggedModels,
        artifacts: stores.artifacts,
      });
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const content = randomBytes(256 * 1024);

      // Slow: every chunk late, but never silent for the timeout: the requests complete.
      proxy.delay(250);
      const started = Date.now();
      await stores.artifacts.put('slow/a.bin', content);
      expect(await stores.artifacts.get('slow/a.bin')).toEqual(content);
      expect(Date.now() - started).toBeGreaterThan(500);

      // Silent: the connection is accepted and nothing comes back. An upload through the server fails
      // with 503 within the bound, and /health answers at once all the while.
      proxy.stall();
      const uploadStarted = Date.now();
      const upload = fetch(`${base}${ARTIFACT_PROXY}/slow/b.bin`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: content,
      });
      for (let i = 0; i < 5; i++) {
        const healthStarted = Date.now();
        const health = await fetch(`${base}/health`);
        expect(health.status).toBe(200);
        expect(Date.now() - healthStarted).toBeLessThan(1000);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      const answer = await upload;
      expect(Date.now() - uploadStarted).toBeLessThan(BOUND_MS);
      expect(answer.status).toBe(503);
      expect(await answer.json()).toMatchObject({
        error_code: 'TEMPORARILY_UNAVAILABLE',
        message: expect.stringMatching(/^S3 did not answer within 1500 ms to write slow\/b\.bin/),
      });
      expect(await unavailable(() => stores.artifacts.get('slow/a.bin'))).toMatch(/ONSET_S3_TIMEOUT_MS/);

      // Back to normal: the upload that failed can be made, and both artifacts read back.
      proxy.delay(0);
      const retried = await fetch(`${base}${ARTIFACT_PROXY}/slow/b.bin`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: content,
      });
      expect(retried.status).toBe(200);
      expect(await stores.artifacts.get('slow/b.bin')).toEqual(content);
      expect(await stores.artifacts.get('slow/a.bin')).toEqual(content);
    } finally {
      proxy.delay(0);
      await app?.close();
      await stores.close();
    }
  }, 40_000);
});
