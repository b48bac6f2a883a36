/**
 * The built CLI's workers, the path `npm start` takes: `npm run build` bundles the serving worker into one
 * file and the prediction log's writing thread into another (scripts/bundle-workers.mjs), which every other
 * test leaves aside (they run the sources through tsx). Here `dist/cli/main.js serve --workers 2` forks
 * two workers from the bundle, both answer predictions, explanations and the API docs, and the bundled
 * writing thread logs what they answered.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { SERVING_SEMI_SPACE } from '../../src/server/cluster-primary.js';
import { openOnsetStores } from '../../src/server/open-stores.js';
import { type Child, startScript, waitFor } from '../support/child-process.js';
import { trainAndPromote } from '../support/registry.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILT_CLI = join(ROOT, 'dist/cli/main.js');
const BUILT_WORKER = join(ROOT, 'dist/cli/serve-worker.js');
const BUILT_LOG_WORKER = join(ROOT, 'dist/monitoring/prediction-log/log-worker.js');
const built = existsSync(BUILT_CLI) && existsSync(BUILT_WORKER);
if (!built) console.warn('built workers: dist/ is missing; run npm run build (npm ci does) to test them');

const data = generateDataset({ rows: 300, seed: 41 });
const record = {
  patient_id: 'P1',
  data: Object.fromEntries(FEATURE_NAMES.map((name) => [name, data.columns[name][0]!])),
};

describe.skipIf(!built)('the built bin', () => {
  it('runs node with the serving workers’ young-generation cap, and npm start runs the bin', () => {
    const shebang = readFileSync(BUILT_CLI, 'utf8').split('\n', 1)[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${SERVING_SEMI_SPACE}`);
    // Started as a program, as npx and npm start start it, so the shebang's flag reaches node.
    const version = spawnSync(BUILT_CLI, ['--version'], { encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
    ).scripts;
    expect(scripts.start).toBe('./dist/cli/main.js up');
  });
});

describe.skipIf(!built)('the built CLI with 2 workers (npm start’s path)', () => {
  const home = mkdtempSync(join(tmpdir(), 'onset-built-workers-'));
  let child: Child | undefined;
  let address = '';

  beforeAll(async () => {
    const stores = await openOnsetStores(resolveConfig({ home }, {}));
    await trainAndPromote(stores, 'parkinson-disease-prediction', data, { n_estimators: 5, max_depth: 2 });
    await stores.close();
    child = startScript(BUILT_CLI, ['serve', '--workers', '2', '--port', '0'], {
      env: {
        ONSET_HOME: home,
        ONSET_LOG_FORMAT: 'json',
        ONSET_DRIFT_INTERVAL: 'off',
        ONSET_PERFORMANCE_INTERVAL: 'off',
      },
    });
    await waitFor(() => /Onset is up on \S+/.test(child!.stdout()), 90_000, 'onset serve to start', child);
    address = /Onset is up on (\S+)/.exec(child.stdout())![1]!;
  }, 120_000);
  afterAll(async () => {
    if (child?.process.exitCode === null) await child.kill();
    rmSync(home, { recursive: true, force: true });
  });

  it('forks its workers from one self-contained file', () => {
    // Bundled: nothing of Onset's own is imported from another file, and the text is Latin-1 (one byte a
    // character in V8's heap).
    for (const file of [BUILT_WORKER, BUILT_LOG_WORKER]) {
      const text = readFileSync(file, 'utf8');
      expect(text).not.toMatch(/from\s*["']\.\.?\//);
      expect(text).not.toMatch(/[\u0100-\uffff]/);
    }
    const listening = child!
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{') && line.includes('Server listening'))
      .map((line) => JSON.parse(line) as { worker?: number });
    expect(new Set(listening.map((line) => line.worker))).toEqual(new Set([1, 2]));
  });

  it('answers predictions, explanations and the API docs from the bundled workers', async () => {
    const post = (url: string) =>
      fetch(`${address}${url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(record),
      });
    // Enough requests that both workers answer some.
    const answers = await Promise.all(Array.from({ length: 20 }, () => post('/predict')));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      const body = (await answer.json()) as { probability: number; model: { version: string } };
      expect(body.model.version).toBe('1');
      expect(body.probability).toBeGreaterThan(0);
    }
    const explained = await post('/explain');
    expect(explained.status).toBe(200);
    expect(
      Object.keys(
        ((await explained.json()) as { explanation: { contributions: object } }).explanation.contributions,
      ),
    ).toHaveLength(32);
    const docs = await fetch(`${address}/docs/json`);
    expect(docs.status).toBe(200);
    expect(((await docs.json()) as { paths: Record<string, unknown> }).paths['/predict']).toBeDefined();
    const invalid = await fetch(`${address}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: { ...record.data, Age: 'sixty' } }),
    });
    expect(invalid.status).toBe(400);
  }, 60_000);

  it('logs what the workers answered through the bundled writing thread, all of it by the time it stops', async () => {
    const exited = new Promise((resolve) => child!.process.once('exit', resolve));
    child!.process.kill('SIGTERM');
    await exited;
    const stores = await openOnsetStores(resolveConfig({ home }, {}));
    try {
      const logged = await stores.predictionLog.listPredictions({ maxResults: 1_000 });
      // The 20 predictions and the explanation; the refused record is not a prediction.
      expect(logged.items).toHaveLength(21);
      expect(new Set(logged.items.map((item) => item.patientKey)).size).toBe(1);
      expect(logged.items[0]!.patientKey).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await stores.close();
    }
  }, 60_000);
});
