/**
 * `onset serve --workers 2` and `onset up --workers 2` as a user runs them: the CLI in a process of its
 * own, forking its workers, with the registry changed from this process meanwhile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { type OnsetStores, openOnsetStores } from '../../src/server/open-stores.js';
import { type Child, startCli, waitFor } from '../support/child-process.js';
import { onlyForward, startPredictionClients } from '../support/prediction-clients.js';
import { trainAndPromote } from '../support/registry.js';

const NAME = 'parkinson-disease-prediction';
const data = generateDataset({ rows: 300, seed: 31 });
const records = Array.from({ length: 20 }, (_, i) => ({
  patient_id: `P${i}`,
  data: Object.fromEntries(FEATURE_NAMES.map((name) => [name, data.columns[name][i]!])),
}));

const post = (address: string, url: string, body: unknown) =>
  fetch(`${address}${url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function promoteNew(stores: OnsetStores, rounds: number): Promise<string> {
  return (await trainAndPromote(stores, NAME, data, { n_estimators: rounds, max_depth: 2 })).version;
}

/** The JSON log lines a process wrote (ONSET_LOG_FORMAT=json), its workers' too. */
function logLines(child: Child): Record<string, unknown>[] {
  return child
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The worker processes that said they listen, by worker number: the latest pid of each. */
function workerPids(child: Child): Map<number, number> {
  const pids = new Map<number, number>();
  for (const line of logLines(child)) {
    if (typeof line.worker === 'number' && String(line.msg).startsWith('Server listening'))
      pids.set(line.worker, line.pid as number);
  }
  return pids;
}

/** The value of one series in a Prometheus text answer (the sum of all series of `name` without labels). */
function sample(text: string, name: string, labels?: RegExp): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name || (labels && !labels.test(match[2] ?? ''))) continue;
    total += Number(match[3]);
  }
  return total;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startOnset(
  command: 'serve' | 'up',
  home: string,
  env: NodeJS.ProcessEnv,
): Promise<{ child: Child; address: string }> {
  const child = startCli([command, '--workers', '2', '--port', '0'], {
    env: {
      ...env,
      ONSET_HOME: home,
      ONSET_MODEL_POLL_INTERVAL: '200ms',
      ONSET_LOG_FORMAT: 'json',
      ONSET_DRIFT_INTERVAL: 'off',
      ONSET_PERFORMANCE_INTERVAL: 'off',
    },
  });
  await waitFor(() => /Onset is up on \S+/.test(child.stdout()), 90_000, `onset ${command} to start`, child);
  const address = /Onset is up on (\S+)/.exec(child.stdout())![1]!;
  return { child, address };
}

/** A home with a first Production version, and `onset <command> --workers 2` serving it. */
function onsetWithAModel(command: 'serve' | 'up', env: NodeJS.ProcessEnv = {}) {
  const home = mkdtempSync(join(tmpdir(), `onset-${command}-workers-`));
  const context = {} as { stores: OnsetStores; child: Child; address: string };
  beforeAll(async () => {
    context.stores = await openOnsetStores(resolveConfig({ home }, {}));
    await promoteNew(context.stores, 5);
    Object.assign(context, await startOnset(command, home, env));
  }, 120_000);
  afterAll(async () => {
    if (context.child?.process.exitCode === null) await context.child.kill();
    await context.stores?.close();
    rmSync(home, { recursive: true, force: true });
  });
  return context;
}

describe('onset serve --workers 2', () => {
  // Predictions are written only when a feedback needs them, or at the end.
  const onset = onsetWithAModel('serve', { ONSET_PREDICTION_LOG_FLUSH_MS: '3600000' });

  it('labels at once a prediction either worker answered: a feedback writes every worker’s waiting predictions first', async () => {
    const { address } = onset;
    const answered = await Promise.all(
      records.map(async (record) => {
        const answer = await post(address, '/predict', record);
        expect(answer.status).toBe(200);
        return ((await answer.json()) as { prediction_id: string }).prediction_id;
      }),
    );
    // One after another: each may reach a worker other than the one holding its prediction.
    const statuses: number[] = [];
    for (const id of answered) {
      statuses.push((await post(address, '/feedback', { prediction_id: id, diagnosis: 1 })).status);
    }
    expect(statuses).toEqual(answered.map(() => 200));
  }, 60_000);

  it('swaps Production in both workers under concurrent requests without failing one; versions only move forward', async () => {
    const { address, child } = onset;
    expect(child.stdout()).toContain('2 workers on one port');
    expect([...workerPids(child).keys()].sort()).toEqual([1, 2]);
    const clients = startPredictionClients(address, records);
    const served = (version: string) => () => clients.seen.some((versions) => versions.includes(version));
    for (const rounds of [10, 20]) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const version = await promoteNew(onset.stores, rounds);
      await waitFor(served(version), 30_000, `version ${version} to be served`, child);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    await clients.stop();
    expect(clients.failures).toEqual([]);
    expect(new Set(clients.seen.flat())).toEqual(new Set(['1', '2', '3']));
    // Each client sees versions only move forward, though its requests went to both workers.
    expect(onlyForward(clients.seen)).toBe(true);
    // Both workers loaded version 3.
    const loaded = logLines(child).filter((line) => line.msg === 'model loaded' && line.version === '3');
    expect(new Set(loaded.map((line) => line.worker))).toEqual(new Set([1, 2]));

    // /metrics adds up both workers: every prediction answered, counted once.
    const metrics = await (await fetch(`${address}/metrics`)).text();
    expect(sample(metrics, 'onset_predictions_total')).toBe(clients.answered() + records.length);
    expect(sample(metrics, 'onset_workers')).toBe(2);
    expect(sample(metrics, 'onset_model_info', /version="3"/)).toBe(1);
    expect(sample(metrics, 'onset_worker_restarts_total')).toBe(0);
  }, 120_000);

  it('replaces a worker that crashes, counts it, and the new one serves the version the other serves', async () => {
    const { address, child } = onset;
    const before = workerPids(child);
    process.kill(before.get(1)!, 'SIGKILL');
    await waitFor(
      () => workerPids(child).get(1) !== before.get(1),
      60_000,
      'a replacement for worker 1 to listen',
      child,
    );
    const replacement = workerPids(child).get(1)!;
    await waitFor(
      () => logLines(child).some((line) => line.msg === 'worker replaced' && line.pid === replacement),
      30_000,
      'the primary to say the worker is replaced',
      child,
    );
    const loaded = logLines(child).filter((line) => line.msg === 'model loaded' && line.pid === replacement);
    expect(loaded.map((line) => line.version)).toEqual(['3']);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => post(address, '/predict', records[i % records.length])),
    );
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    const metrics = await (await fetch(`${address}/metrics`)).text();
    expect(sample(metrics, 'onset_worker_restarts_total')).toBe(1);
    expect(sample(metrics, 'onset_workers')).toBe(2);
  }, 120_000);

  it('stops on SIGTERM: requests in flight in both workers are answered, then every process exits', async () => {
    const { address, child } = onset;
    const pids = [...workerPids(child).values()];
    const batch = { records: Array.from({ length: 1000 }, (_, i) => records[i % records.length]) };
    const inFlight = [0, 1, 2, 3].map(() => post(address, '/predict/batch?explain=true', batch));
    await new Promise((resolve) => setTimeout(resolve, 50));
    child.process.kill('SIGTERM');
    const answers = await Promise.all(inFlight);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    await waitFor(() => pids.every((pid) => !alive(pid)), 10_000, 'the workers to exit');
    await expect(post(address, '/predict', records[0])).rejects.toThrow();
  }, 120_000);
});

describe('onset up --workers 2', () => {
  const onset = onsetWithAModel('up');

  it('answers predictions in the workers and everything else from the platform, on one port', async () => {
    const { address, child } = onset;
    expect(child.stdout()).toContain(`web UI                     ${address}/`);
    const prediction = await post(address, '/predict', records[0]);
    expect(prediction.status).toBe(200);
    const { prediction_id: id } = (await prediction.json()) as { prediction_id: string };
    // The tracking API, the pipelines and the UI are the platform's.
    const models = (await (await fetch(`${address}/api/2.0/mlflow/registered-models/search`)).json()) as {
      registered_models: { name: string }[];
    };
    expect(models.registered_models.map((model) => model.name)).toEqual([NAME]);
    expect((await fetch(`${address}/api/onset/pipelines`)).status).toBe(200);
    const page = await fetch(`${address}/`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    // Feedback on what a worker logged (written within the log's flush interval, 500 ms).
    let feedback = 0;
    for (let tries = 0; feedback !== 200 && tries < 50; tries++) {
      feedback = (await post(address, '/feedback', { prediction_id: id, diagnosis: 1 })).status;
      if (feedback !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(feedback).toBe(200);
    // A version promoted meanwhile reaches both workers.
    const version = await promoteNew(onset.stores, 10);
    await waitFor(
      () =>
        new Set(
          logLines(child)
            .filter(
              (line) => line.msg === 'model loaded' && line.version === version && line.worker !== undefined,
            )
            .map((line) => line.worker),
        ).size === 2,
      30_000,
      `both workers to load version ${version}`,
      child,
    );
    const answer = (await (await post(address, '/predict', records[1])).json()) as {
      model: { version: string };
    };
    expect(answer.model.version).toBe(version);
    const metrics = await (await fetch(`${address}/metrics`)).text();
    // The platform's series (its HTTP routes) and the workers' (predictions), in one answer.
    expect(sample(metrics, 'onset_http_requests_total', /route="\/api\/onset\/pipelines"/)).toBe(1);
    expect(sample(metrics, 'onset_predictions_total')).toBe(2);
    expect(sample(metrics, 'onset_workers')).toBe(2);
    child.process.kill('SIGINT');
    expect(await child.exited).toEqual({ code: 0, signal: null });
  }, 120_000);
});
