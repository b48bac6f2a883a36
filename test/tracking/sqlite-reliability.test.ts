/**
 * Reliability of the SQLite store across processes: concurrent writers lose nothing, concurrent first
 * opens migrate once, and a writer killed with SIGKILL mid-loop leaves every batch all or nothing and its
 * run to be failed by failAbandonedRuns.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/server/open-stores.js';
import { type Child, startScript, waitFor } from '../support/child-process.js';
import { PIPELINE_MIGRATION_ROWS, TRACKING_MIGRATION_ROWS } from '../support/migrations.js';

const CHILD = fileURLToPath(new URL('./fixtures/log-batches.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'onset-reliability-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function child(args: readonly string[]): Child {
  return startScript(CHILD, args);
}

describe('SQLite store reliability', () => {
  it('migrates a fresh file once when several processes open it at the same time', async () => {
    const path = join(dir, 'fresh.db');
    const go = join(dir, 'fresh.go');
    const children = [0, 1, 2, 3].map((i) => child([path, 'create', `exp-${i}`, go]));
    // Everything loaded in every process, then one start signal: the opens overlap.
    await waitFor(() => children.every((c) => c.stdout().includes('ready')), 45_000, 'the processes to load');
    writeFileSync(go, '');
    const results = await Promise.all(children.map((c) => c.exited));
    results.forEach((result, i) => {
      expect(result, children[i]!.stderr()).toMatchObject({ code: 0 });
    });
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare('SELECT name FROM onset_tracking_migrations').all()).toEqual(TRACKING_MIGRATION_ROWS);
    expect(raw.prepare('SELECT name FROM onset_pipelines_migrations').all()).toEqual(PIPELINE_MIGRATION_ROWS);
    expect(
      (raw.prepare('SELECT name FROM experiments').all() as { name: string }[]).map((row) => row.name).sort(),
    ).toEqual(['Default', 'exp-0', 'exp-1', 'exp-2', 'exp-3']);
    raw.close();
  }, 60_000);

  it('loses nothing when two processes log 500 batches each to the same store at once', async () => {
    const path = join(dir, 'concurrent.db');
    const stores = await openStore(path, { artifactRoot: 'file:///tmp/x' });
    const experimentId = await stores.tracking.createExperiment({ name: 'concurrent' });
    const run = await stores.tracking.createRun({ experimentId });
    const runId = run.info.runId;
    const children = ['a', 'b'].map((label) => child([path, 'log', runId, label, '500']));
    const results = await Promise.all(children.map((c) => c.exited));
    results.forEach((result, i) => {
      expect(result, children[i]!.stderr()).toMatchObject({ code: 0 });
    });

    const fetched = await stores.tracking.getRun(runId);
    for (const label of ['a', 'b']) {
      for (let j = 0; j < 10; j++) {
        const history = await stores.tracking.getMetricHistory(runId, `${label}.m${j}`);
        expect(history.items.map((metric) => metric.step)).toEqual(Array.from({ length: 500 }, (_, i) => i));
        expect(fetched.data.metrics).toContainEqual({
          key: `${label}.m${j}`,
          value: 499 + j / 10,
          step: 499,
          timestamp: 499,
        });
      }
      expect(fetched.data.params.filter((param) => param.key.startsWith(`${label}.p`))).toHaveLength(500);
      expect(fetched.data.tags).toContainEqual({ key: `${label}.last`, value: '499' });
    }
    await stores.close();
  });

  it('keeps every batch all-or-nothing when a writer is killed, and fails its abandoned run', async () => {
    const path = join(dir, 'killed.db');
    const stores = await openStore(path, { artifactRoot: 'file:///tmp/x' });
    const experimentId = await stores.tracking.createExperiment({ name: 'killed' });
    const writer = child([path, 'own', experimentId, 'k']);
    await waitFor(() => /batch [1-9]\d\d/.test(writer.stdout()), 20_000, 'the writer to log 100 batches');
    const exit = await writer.kill();
    expect(exit.signal).toBe('SIGKILL');
    const runId = /run ([0-9a-f]{32})/.exec(writer.stdout())?.[1];
    expect(runId).toBeDefined();

    const raw = new Database(path);
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();
    const run = await stores.tracking.getRun(runId!);
    expect(run.info.status).toBe('RUNNING');
    expect(run.data.tags).toContainEqual({ key: 'onset.pid', value: String(writer.process.pid) });
    const steps = (await stores.tracking.getMetricHistory(runId!, 'k.m0')).items.map((metric) => metric.step);
    const logged = steps.length;
    expect(logged).toBeGreaterThanOrEqual(100);
    expect(steps).toEqual(Array.from({ length: logged }, (_, i) => i));
    for (let j = 1; j < 10; j++) {
      expect((await stores.tracking.getMetricHistory(runId!, `k.m${j}`)).items).toHaveLength(logged);
    }
    expect(run.data.params).toHaveLength(logged);
    expect(run.data.tags).toContainEqual({ key: 'k.last', value: String(logged - 1) });
    expect(new Set(run.data.metrics.map((metric) => metric.step))).toEqual(new Set([logged - 1]));

    expect(await stores.tracking.failAbandonedRuns('writer process died')).toBe(1);
    const failed = await stores.tracking.getRun(runId!);
    expect(failed.info.status).toBe('FAILED');
    expect(failed.info.endTime).not.toBeNull();
    expect(failed.data.tags).toContainEqual({ key: 'onset.failure_reason', value: 'writer process died' });
    await stores.close();
  });
});
