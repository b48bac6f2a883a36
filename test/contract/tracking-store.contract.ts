/**
 * The TrackingStore contract: every backend runs this suite (see `tracking-store.sqlite.test.ts` and
 * `tracking-store.postgres.test.ts`). A backend is done when it passes. One store is opened per suite;
 * tests keep apart by creating their own experiments with unique names.
 */

import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertStore } from '../../src/monitoring/alerts/alert-store.js';
import type { MonitoringCheckStore } from '../../src/monitoring/checks/monitoring-check-store.js';
import type { PredictionLogStore } from '../../src/monitoring/prediction-log/prediction-log-store.js';
import type { PipelineStore } from '../../src/pipelines/pipeline-store.js';
import type { Metric, Run } from '../../src/tracking/entities.js';
import type { LoggedModelStore } from '../../src/tracking/logged-model-store.js';
import type { RegistryStore } from '../../src/tracking/registry-store.js';
import { MAX_FILTER_COMPARISONS, MAX_IN_VALUES } from '../../src/tracking/search/filter-parser.js';
import type { TrackingStore } from '../../src/tracking/tracking-store.js';

export interface OpenedStores {
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  readonly loggedModels: LoggedModelStore;
  readonly pipelines: PipelineStore;
  readonly predictionLog: PredictionLogStore;
  readonly checks: MonitoringCheckStore;
  readonly alertHistory: AlertStore;
  close(): Promise<void>;
}

/** The artifact root the runners open their stores with. */
export const CONTRACT_ARTIFACT_ROOT = 's3://onset-contract/artifacts';

export async function expectCode(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected an OnsetError ${code}`).toMatchObject({ name: 'OnsetError', code });
  if (message) expect((error as Error).message).toMatch(message);
}

let counter = 0;
/** A name no other test (or earlier run against the same database) uses. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** A process id that is certainly not alive: a child that has exited. */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid ?? 999_999;
}

const metric = (key: string, value: number, step = 0, timestamp = 1_000 + step): Metric => ({
  key,
  value,
  step,
  timestamp,
});

export function describeTrackingStoreContract(name: string, open: () => Promise<OpenedStores>): void {
  describe(`TrackingStore contract: ${name}`, () => {
    let stores: OpenedStores;
    let store: TrackingStore;

    beforeAll(async () => {
      stores = await open();
      store = stores.tracking;
    });

    afterAll(async () => {
      await stores?.close();
    });

    async function newExperiment(prefix = 'exp'): Promise<string> {
      return store.createExperiment({ name: unique(prefix) });
    }

    describe('experiments', () => {
      it('has the Default experiment with id 0, created by the migrations', async () => {
        const experiment = await store.getExperiment('0');
        expect(experiment).toMatchObject({
          experimentId: '0',
          name: 'Default',
          artifactLocation: `${CONTRACT_ARTIFACT_ROOT}/0`,
          lifecycleStage: 'active',
        });
        expect((await store.getExperimentByName('Default')).experimentId).toBe('0');
      });

      it('creates experiments with a default artifact location, tags and timestamps', async () => {
        const name = unique('created');
        const before = Date.now();
        const id = await store.createExperiment({ name, tags: [{ key: 'team', value: 'ml' }] });
        expect(id).toMatch(/^\d+$/);
        const experiment = await store.getExperiment(id);
        expect(experiment).toEqual({
          experimentId: id,
          name,
          artifactLocation: `${CONTRACT_ARTIFACT_ROOT}/${id}`,
          lifecycleStage: 'active',
          creationTime: experiment.creationTime,
          lastUpdateTime: experiment.lastUpdateTime,
          tags: [{ key: 'team', value: 'ml' }],
        });
        expect(experiment.creationTime).toBeGreaterThanOrEqual(before);
        expect(await store.getExperimentByName(name)).toEqual(experiment);
        const location = `${CONTRACT_ARTIFACT_ROOT}/team-a/x`;
        const custom = await store.createExperiment({ name: unique('custom'), artifactLocation: location });
        expect((await store.getExperiment(custom)).artifactLocation).toBe(location);
      });

      it('refuses an artifact location outside the artifact root, with a control character or a ..', async () => {
        const hostile = [
          's3://b/x',
          'file:///etc',
          'http://169.254.169.254/latest/meta-data',
          `${CONTRACT_ARTIFACT_ROOT}-other/1`,
          `${CONTRACT_ARTIFACT_ROOT}/a\u0000b`,
          `${CONTRACT_ARTIFACT_ROOT}/../elsewhere`,
          `${CONTRACT_ARTIFACT_ROOT}/a/%2e%2e/%2e%2e/b`,
        ];
        for (const artifactLocation of hostile) {
          const name = unique('hostile');
          await expectCode(store.createExperiment({ name, artifactLocation }), 'INVALID_PARAMETER_VALUE');
          // Nothing was created.
          await expectCode(store.getExperimentByName(name), 'RESOURCE_DOES_NOT_EXIST');
        }
        await expectCode(
          store.createExperiment({ name: unique('h'), artifactLocation: 'file:///etc' }),
          'INVALID_PARAMETER_VALUE',
          /must be under this server's artifact root/,
        );
      });

      it('refuses duplicate names, bad names and unknown ids', async () => {
        const name = unique('dup');
        await store.createExperiment({ name });
        await expectCode(store.createExperiment({ name }), 'RESOURCE_ALREADY_EXISTS', /already exists/);
        await expectCode(store.createExperiment({ name: '' }), 'INVALID_PARAMETER_VALUE');
        await expectCode(store.getExperiment('987654321'), 'RESOURCE_DOES_NOT_EXIST', /987654321/);
        await expectCode(store.getExperiment('not-a-number'), 'RESOURCE_DOES_NOT_EXIST');
        await expectCode(store.getExperimentByName(unique('missing')), 'RESOURCE_DOES_NOT_EXIST');
        await expectCode(
          store.createExperiment({ name: unique('bad-tag'), tags: [{ key: '', value: 'x' }] }),
          'INVALID_PARAMETER_VALUE',
        );
      });

      it('renames, refusing taken names and deleted experiments', async () => {
        const id = await newExperiment();
        const taken = unique('taken');
        await store.createExperiment({ name: taken });
        const renamed = unique('renamed');
        await store.renameExperiment(id, renamed);
        expect((await store.getExperiment(id)).name).toBe(renamed);
        await expectCode(store.renameExperiment(id, taken), 'RESOURCE_ALREADY_EXISTS');
        await expectCode(store.renameExperiment('987654321', unique('x')), 'RESOURCE_DOES_NOT_EXIST');
        await store.deleteExperiment(id);
        await expectCode(store.renameExperiment(id, unique('again')), 'INVALID_STATE');
      });

      it('deletes and restores an experiment together with the runs its deletion deleted', async () => {
        const id = await newExperiment();
        const kept = await store.createRun({ experimentId: id });
        const deletedBefore = await store.createRun({ experimentId: id });
        await store.deleteRun(deletedBefore.info.runId);
        await new Promise((resolve) => setTimeout(resolve, 5));
        await store.deleteExperiment(id);
        expect((await store.getExperiment(id)).lifecycleStage).toBe('deleted');
        expect((await store.getRun(kept.info.runId)).info.lifecycleStage).toBe('deleted');
        // MLflow's code and words for a write to a deleted experiment (renaming one is INVALID_STATE).
        await expectCode(
          store.createRun({ experimentId: id }),
          'INVALID_PARAMETER_VALUE',
          new RegExp(`The experiment ${id} must be in the 'active' state`),
        );
        await expectCode(store.setExperimentTag(id, { key: 'k', value: 'v' }), 'INVALID_PARAMETER_VALUE');
        const name = (await store.getExperiment(id)).name;
        await expectCode(store.createExperiment({ name }), 'RESOURCE_ALREADY_EXISTS');
        await store.restoreExperiment(id);
        expect((await store.getExperiment(id)).lifecycleStage).toBe('active');
        expect((await store.getRun(kept.info.runId)).info.lifecycleStage).toBe('active');
        expect((await store.getRun(deletedBefore.info.runId)).info.lifecycleStage).toBe('deleted');
        await expectCode(store.deleteExperiment('987654321'), 'RESOURCE_DOES_NOT_EXIST');
        await expectCode(store.restoreExperiment('987654321'), 'RESOURCE_DOES_NOT_EXIST');
      });

      it('sets experiment tags, overwriting a key', async () => {
        const id = await newExperiment();
        await store.setExperimentTag(id, { key: 'a', value: '1' });
        await store.setExperimentTag(id, { key: 'a', value: '2' });
        await store.setExperimentTag(id, { key: 'b', value: '3' });
        expect((await store.getExperiment(id)).tags).toEqual([
          { key: 'a', value: '2' },
          { key: 'b', value: '3' },
        ]);
        await expectCode(
          store.setExperimentTag(id, { key: 'a', value: 'x'.repeat(8_001) }),
          'INVALID_PARAMETER_VALUE',
        );
        await expectCode(
          store.setExperimentTag('987654321', { key: 'a', value: '1' }),
          'RESOURCE_DOES_NOT_EXIST',
        );
      });

      it('searches experiments by name, tags and times, with order, view type and paging', async () => {
        const prefix = unique('search');
        const ids: string[] = [];
        for (const [index, suffix] of ['b', 'a', 'C', 'd', 'e'].entries()) {
          ids.push(
            await store.createExperiment({
              name: `${prefix}-${suffix}`,
              tags: [{ key: 'group', value: index % 2 === 0 ? 'even' : 'odd' }],
            }),
          );
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        await store.deleteExperiment(ids[4]!);
        const names = async (query: Parameters<TrackingStore['searchExperiments']>[0]) =>
          (await store.searchExperiments(query)).items.map((experiment) =>
            experiment.name.slice(prefix.length + 1),
          );
        expect(await names({ filter: `name LIKE '${prefix}-%'`, orderBy: ['name'] })).toEqual([
          'C',
          'a',
          'b',
          'd',
        ]);
        expect(await names({ filter: `name LIKE '${prefix}-c'` })).toEqual([]);
        expect(await names({ filter: `name ILIKE '${prefix}-c'` })).toEqual(['C']);
        expect(await names({ filter: `name = '${prefix}-a'` })).toEqual(['a']);
        expect(
          await names({ filter: `name LIKE '${prefix}%' AND tags.group = 'even'`, orderBy: ['name DESC'] }),
        ).toEqual(['b', 'C']);
        // Default order: newest first.
        expect(await names({ filter: `name LIKE '${prefix}%'` })).toEqual(['d', 'C', 'a', 'b']);
        expect(await names({ filter: `name LIKE '${prefix}%'`, viewType: 'DELETED_ONLY' })).toEqual(['e']);
        expect(await names({ filter: `name LIKE '${prefix}%'`, viewType: 'ALL' })).toHaveLength(5);
        const created = (await store.getExperiment(ids[2]!)).creationTime;
        expect(
          await names({
            filter: `name LIKE '${prefix}%' AND creation_time >= ${created}`,
            orderBy: ['name'],
          }),
        ).toEqual(['C', 'd']);
        const seen: string[] = [];
        let pageToken: string | undefined;
        let pages = 0;
        do {
          const page = await store.searchExperiments({
            filter: `name LIKE '${prefix}%'`,
            orderBy: ['name ASC'],
            maxResults: 3,
            ...(pageToken ? { pageToken } : {}),
          });
          seen.push(...page.items.map((experiment) => experiment.name));
          pageToken = page.nextPageToken ?? undefined;
          pages += 1;
        } while (pageToken);
        expect(pages).toBe(2);
        expect(seen).toHaveLength(4);
        await expectCode(store.searchExperiments({ pageToken: 'garbage!' }), 'INVALID_PARAMETER_VALUE');
        await expectCode(store.searchExperiments({ maxResults: 0 }), 'INVALID_PARAMETER_VALUE');
        await expectCode(store.searchExperiments({ maxResults: 50_001 }), 'INVALID_PARAMETER_VALUE');
        await expectCode(store.searchExperiments({ filter: 'metrics.x > 1' }), 'INVALID_PARAMETER_VALUE');
        await expectCode(store.searchExperiments({ filter: 'name = ' }), 'INVALID_PARAMETER_VALUE');
      });
    });

    describe('runs', () => {
      it('creates runs with a 32-hex id, a name, RUNNING status and an artifact URI', async () => {
        const experimentId = await newExperiment();
        const location = (await store.getExperiment(experimentId)).artifactLocation;
        const run = await store.createRun({
          experimentId,
          runName: 'first',
          userId: 'ada',
          startTime: 1_700_000_000_000,
          tags: [{ key: 'source', value: 'test' }],
        });
        expect(run.info).toEqual({
          runId: run.info.runId,
          runName: 'first',
          experimentId,
          userId: 'ada',
          status: 'RUNNING',
          startTime: 1_700_000_000_000,
          endTime: null,
          artifactUri: `${location}/${run.info.runId}/artifacts`,
          lifecycleStage: 'active',
        });
        expect(run.info.runId).toMatch(/^[0-9a-f]{32}$/);
        expect(run.data.metrics).toEqual([]);
        expect(run.data.params).toEqual([]);
        expect(run.data.tags).toContainEqual({ key: 'source', value: 'test' });
        expect(run.data.tags).toContainEqual({ key: 'mlflow.runName', value: 'first' });
        expect(await store.getRun(run.info.runId)).toEqual(run);
        const unnamed = await store.createRun({ experimentId });
        expect(unnamed.info.runName.length).toBeGreaterThan(0);
        expect(unnamed.info.runId).not.toBe(run.info.runId);
        expect(Math.abs(unnamed.info.startTime - Date.now())).toBeLessThan(60_000);
        await expectCode(store.createRun({ experimentId: '987654321' }), 'RESOURCE_DOES_NOT_EXIST');
        await expectCode(store.getRun('0123456789abcdef0123456789abcdef'), 'RESOURCE_DOES_NOT_EXIST');
      });

      it('updates status, end time and name', async () => {
        const run = await store.createRun({ experimentId: await newExperiment() });
        const finished = await store.updateRun(run.info.runId, { status: 'FINISHED', endTime: 1_234 });
        expect(finished).toMatchObject({ status: 'FINISHED', endTime: 1_234 });
        const renamed = await store.updateRun(run.info.runId, { runName: 'renamed' });
        expect(renamed).toMatchObject({ runName: 'renamed', status: 'FINISHED', endTime: 1_234 });
        const fetched = await store.getRun(run.info.runId);
        expect(fetched.info).toEqual(renamed);
        expect(fetched.data.tags).toContainEqual({ key: 'mlflow.runName', value: 'renamed' });
        const other = await store.createRun({ experimentId: run.info.experimentId });
        const killed = await store.updateRun(other.info.runId, { status: 'KILLED' });
        expect(killed.endTime).not.toBeNull();
        await expectCode(
          store.updateRun(run.info.runId, { status: 'DONE' as never }),
          'INVALID_PARAMETER_VALUE',
          /RUNNING, SCHEDULED, FINISHED, FAILED, KILLED/,
        );
        await expectCode(store.updateRun('f'.repeat(32), { status: 'FINISHED' }), 'RESOURCE_DOES_NOT_EXIST');
      });

      it('deletes and restores runs; a deleted run refuses writes but can be read', async () => {
        const run = await store.createRun({ experimentId: await newExperiment() });
        await store.deleteRun(run.info.runId);
        expect((await store.getRun(run.info.runId)).info.lifecycleStage).toBe('deleted');
        // MLflow's code and words (`_check_run_is_active`).
        await expectCode(
          store.logBatch(run.info.runId, { metrics: [metric('m', 1)] }),
          'INVALID_PARAMETER_VALUE',
          new RegExp(`The run ${run.info.runId} must be in the 'active' state. Current state is deleted.`),
        );
        await expectCode(store.updateRun(run.info.runId, { status: 'FINISHED' }), 'INVALID_PARAMETER_VALUE');
        await expectCode(store.deleteTag(run.info.runId, 'mlflow.runName'), 'INVALID_PARAMETER_VALUE');
        await store.restoreRun(run.info.runId);
        expect((await store.getRun(run.info.runId)).info.lifecycleStage).toBe('active');
        await store.logBatch(run.info.runId, { metrics: [metric('m', 1)] });
        await expectCode(store.deleteRun('e'.repeat(32)), 'RESOURCE_DOES_NOT_EXIST');
        await expectCode(store.restoreRun('e'.repeat(32)), 'RESOURCE_DOES_NOT_EXIST');
      });
    });

    describe('logBatch', () => {
      let runId: string;
      beforeAll(async () => {
        runId = (await store.createRun({ experimentId: await newExperiment('batch') })).info.runId;
      });

      it('keeps full metric histories and the latest value by step, then timestamp', async () => {
        await store.logBatch(runId, {
          metrics: [metric('loss', 0.9, 0, 10), metric('loss', 0.5, 2, 30), metric('loss', 0.7, 1, 20)],
        });
        await store.logBatch(runId, { metrics: [metric('loss', 0.4, 2, 40), metric('loss', 0.8, 1, 50)] });
        const run = await store.getRun(runId);
        expect(run.data.metrics).toEqual([{ key: 'loss', value: 0.4, step: 2, timestamp: 40 }]);
        const history = await store.getMetricHistory(runId, 'loss');
        expect(history.nextPageToken).toBeNull();
        expect(history.items.map((item) => [item.step, item.timestamp, item.value])).toEqual([
          [0, 10, 0.9],
          [1, 20, 0.7],
          [1, 50, 0.8],
          [2, 30, 0.5],
          [2, 40, 0.4],
        ]);
        // An older value logged later does not replace the latest one.
        await store.logBatch(runId, { metrics: [metric('loss', 9, 1, 60)] });
        expect((await store.getRun(runId)).data.metrics[0]).toEqual({
          key: 'loss',
          value: 0.4,
          step: 2,
          timestamp: 40,
        });
        expect((await store.getMetricHistory(runId, 'unknown-key')).items).toEqual([]);
        await expectCode(store.getMetricHistory('d'.repeat(32), 'loss'), 'RESOURCE_DOES_NOT_EXIST');
      });

      it('round-trips NaN and ±Infinity in histories and latest values', async () => {
        const values = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0.5, 1e308, 5e-324];
        await store.logBatch(runId, {
          metrics: values.map((value, step) => metric('special', value, step)),
        });
        await store.logBatch(runId, {
          metrics: [
            metric('nan', Number.NaN),
            metric('inf', Number.POSITIVE_INFINITY),
            metric('ninf', -Infinity),
          ],
        });
        const history = await store.getMetricHistory(runId, 'special');
        expect(history.items.map((item) => item.value)).toEqual(values);
        const latest = new Map(
          (await store.getRun(runId)).data.metrics.map((item) => [item.key, item.value]),
        );
        expect(latest.get('nan')).toBeNaN();
        expect(latest.get('inf')).toBe(Number.POSITIVE_INFINITY);
        expect(latest.get('ninf')).toBe(Number.NEGATIVE_INFINITY);
        expect(latest.get('special')).toBe(5e-324);
      });

      it('pages metric histories', async () => {
        await store.logBatch(runId, {
          metrics: Array.from({ length: 25 }, (_, step) => metric('paged', step / 10, step)),
        });
        const steps: number[] = [];
        let pageToken: string | undefined;
        let pages = 0;
        do {
          const page = await store.getMetricHistory(runId, 'paged', {
            maxResults: 10,
            ...(pageToken ? { pageToken } : {}),
          });
          steps.push(...page.items.map((item) => item.step));
          pageToken = page.nextPageToken ?? undefined;
          pages += 1;
        } while (pageToken);
        expect(pages).toBe(3);
        expect(steps).toEqual(Array.from({ length: 25 }, (_, step) => step));
        await expectCode(
          store.getMetricHistory(runId, 'paged', { pageToken: 'nope' }),
          'INVALID_PARAMETER_VALUE',
        );
      });

      it('makes params write-once: the same value again is fine, another value is refused', async () => {
        await store.logBatch(runId, { params: [{ key: 'depth', value: '6' }] });
        await store.logBatch(runId, { params: [{ key: 'depth', value: '6' }] });
        await expectCode(
          store.logBatch(runId, { params: [{ key: 'depth', value: '7' }] }),
          'INVALID_PARAMETER_VALUE',
          /depth.*6.*7/,
        );
        await expectCode(
          store.logBatch(runId, {
            params: [
              { key: 'lr', value: '0.1' },
              { key: 'lr', value: '0.2' },
            ],
          }),
          'INVALID_PARAMETER_VALUE',
        );
        await store.logBatch(runId, {
          params: [
            { key: 'eta', value: '0.3' },
            { key: 'eta', value: '0.3' },
          ],
        });
        const params = (await store.getRun(runId)).data.params;
        expect(params).toContainEqual({ key: 'depth', value: '6' });
        expect(params).toContainEqual({ key: 'eta', value: '0.3' });
        expect(params.find((param) => param.key === 'lr')).toBeUndefined();
      });

      it('is all or nothing: a refused batch writes none of its metrics, params or tags', async () => {
        const run = await store.createRun({ experimentId: await newExperiment() });
        await store.logBatch(run.info.runId, { params: [{ key: 'fixed', value: 'a' }] });
        await expectCode(
          store.logBatch(run.info.runId, {
            metrics: [metric('atomic', 1)],
            params: [
              { key: 'fresh', value: 'x' },
              { key: 'fixed', value: 'b' },
            ],
            tags: [{ key: 'atomic', value: 'yes' }],
          }),
          'INVALID_PARAMETER_VALUE',
        );
        const data = (await store.getRun(run.info.runId)).data;
        expect(data.metrics).toEqual([]);
        expect(data.params).toEqual([{ key: 'fixed', value: 'a' }]);
        expect(data.tags.find((tag) => tag.key === 'atomic')).toBeUndefined();
        expect((await store.getMetricHistory(run.info.runId, 'atomic')).items).toEqual([]);
      });

      it('sets tags, overwriting a key, and deletes them; mlflow.runName renames the run', async () => {
        await store.logBatch(runId, {
          tags: [
            { key: 'stage', value: 'a' },
            { key: 'stage', value: 'b' },
          ],
        });
        await store.logBatch(runId, { tags: [{ key: 'mlflow.runName', value: 'via-tag' }] });
        const run = await store.getRun(runId);
        expect(run.data.tags).toContainEqual({ key: 'stage', value: 'b' });
        expect(run.info.runName).toBe('via-tag');
        await store.deleteTag(runId, 'stage');
        expect((await store.getRun(runId)).data.tags.find((tag) => tag.key === 'stage')).toBeUndefined();
        await expectCode(store.deleteTag(runId, 'stage'), 'RESOURCE_DOES_NOT_EXIST', /stage/);
        await expectCode(store.deleteTag('c'.repeat(32), 'stage'), 'RESOURCE_DOES_NOT_EXIST');
      });

      it("enforces MLflow's limits, accepting values exactly at them", async () => {
        const run = await store.createRun({ experimentId: await newExperiment() });
        const id = run.info.runId;
        const invalid = (batch: Parameters<TrackingStore['logBatch']>[1]) =>
          expectCode(store.logBatch(id, batch), 'INVALID_PARAMETER_VALUE');
        await invalid({ metrics: Array.from({ length: 1_001 }, (_, i) => metric(`m${i}`, i)) });
        await invalid({ params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'v' })) });
        await invalid({ tags: Array.from({ length: 101 }, (_, i) => ({ key: `t${i}`, value: 'v' })) });
        await invalid({ metrics: [metric('k'.repeat(251), 1)] });
        await invalid({ params: [{ key: 'long', value: 'v'.repeat(6_001) }] });
        await invalid({ tags: [{ key: 'long', value: 'v'.repeat(8_001) }] });
        await invalid({ metrics: [{ key: 'str', value: '1' as unknown as number, step: 0, timestamp: 0 }] });
        await invalid({ metrics: [{ key: 'frac', value: 1, step: 0.5, timestamp: 0 }] });
        await invalid({ metrics: [{ key: 'ts', value: 1, step: 0, timestamp: Number.NaN }] });
        await invalid({ metrics: [metric('../escape', 1)] });
        await invalid({ params: [{ key: 'bad|key', value: 'v' }] });
        await invalid({ params: [{ key: 'num', value: 5 as unknown as string }] });
        expect((await store.getRun(id)).data.metrics).toEqual([]);
        await store.logBatch(id, {
          metrics: Array.from({ length: 1_000 }, (_, i) => metric(`m${i % 10}`, i, i)),
          params: Array.from({ length: 100 }, (_, i) => ({
            key: `p${i}`,
            value: i === 0 ? 'v'.repeat(6_000) : 'v',
          })),
          tags: Array.from({ length: 100 }, (_, i) => ({
            key: `t${i}`,
            value: i === 0 ? 'v'.repeat(8_000) : 'v',
          })),
        });
        await store.logBatch(id, { metrics: [metric('k'.repeat(250), 1)] });
        const data = (await store.getRun(id)).data;
        expect(data.metrics).toHaveLength(11);
        expect(data.params).toHaveLength(100);
        expect(data.params.find((param) => param.key === 'p0')?.value).toHaveLength(6_000);
        expect(data.tags.find((tag) => tag.key === 't0')?.value).toHaveLength(8_000);
        expect((await store.getMetricHistory(id, 'm3')).items).toHaveLength(100);
        await expectCode(
          store.logBatch('b'.repeat(32), { metrics: [metric('m', 1)] }),
          'RESOURCE_DOES_NOT_EXIST',
        );
      });
    });

    describe('searchRuns', () => {
      let experimentId: string;
      let other: string;
      const runs: Record<string, Run> = {};
      const ids = (page: { items: readonly Run[] }) => page.items.map((run) => run.info.runName);

      beforeAll(async () => {
        experimentId = await newExperiment('runs');
        other = await newExperiment('runs-other');
        const specs = [
          {
            name: 'alpha',
            auc: 0.91,
            loss: 0.3,
            depth: '6',
            model: 'gbdt',
            start: 1_000,
            status: 'FINISHED',
          },
          {
            name: 'beta',
            auc: 0.85,
            loss: 0.2,
            depth: '4',
            model: 'GBDT-large',
            start: 2_000,
            status: 'FAILED',
          },
          {
            name: 'gamma',
            auc: Number.NaN,
            loss: 0.5,
            depth: '8',
            model: 'linear',
            start: 3_000,
            status: 'RUNNING',
          },
          {
            name: 'delta',
            auc: 0.95,
            loss: undefined,
            depth: undefined,
            model: undefined,
            start: 4_000,
            status: 'RUNNING',
          },
          {
            name: '50%_off',
            auc: Number.POSITIVE_INFINITY,
            loss: 0.1,
            depth: '6',
            model: 'x',
            start: 5_000,
            status: 'KILLED',
          },
        ] as const;
        for (const spec of specs) {
          const run = await store.createRun({
            experimentId,
            runName: spec.name,
            startTime: spec.start,
            userId: spec.name === 'alpha' ? 'ada' : 'bob',
          });
          const metrics: Metric[] = [metric('auc', 0.1, 0), metric('auc', spec.auc, 1)];
          if (spec.loss !== undefined) metrics.push(metric('loss', spec.loss));
          await store.logBatch(run.info.runId, {
            metrics,
            params: spec.depth ? [{ key: 'depth', value: spec.depth }] : [],
            tags: spec.model ? [{ key: 'model', value: spec.model }] : [],
          });
          if (spec.status !== 'RUNNING') {
            await store.updateRun(run.info.runId, { status: spec.status, endTime: spec.start + 500 });
          }
          runs[spec.name] = await store.getRun(run.info.runId);
        }
        const elsewhere = await store.createRun({
          experimentId: other,
          runName: 'elsewhere',
          startTime: 6_000,
        });
        await store.logBatch(elsewhere.info.runId, { metrics: [metric('auc', 0.99)] });
        const deleted = await store.createRun({ experimentId, runName: 'deleted', startTime: 7_000 });
        await store.deleteRun(deleted.info.runId);
      });

      const search = (filter?: string, orderBy?: readonly string[], more: object = {}) =>
        store.searchRuns({
          experimentIds: [experimentId],
          ...(filter === undefined ? {} : { filter }),
          ...(orderBy ? { orderBy } : {}),
          ...more,
        });

      it('returns runs with their data, newest first by default', async () => {
        const page = await search();
        expect(ids(page)).toEqual(['50%_off', 'delta', 'gamma', 'beta', 'alpha']);
        expect(page.nextPageToken).toBeNull();
        expect(page.items[4]).toEqual(runs.alpha);
        expect(ids(await store.searchRuns({ experimentIds: [experimentId, other] }))).toHaveLength(6);
        expect(ids(await store.searchRuns({ experimentIds: [] }))).toEqual([]);
      });

      it('filters on latest metric values with every numeric comparator (NaN only matches !=)', async () => {
        expect(ids(await search('metrics.auc > 0.9', ['attributes.run_name']))).toEqual([
          '50%_off',
          'alpha',
          'delta',
        ]);
        expect(ids(await search('metrics.auc >= 0.95', ['run_name']))).toEqual(['50%_off', 'delta']);
        expect(ids(await search('metrics.auc < 0.9'))).toEqual(['beta']);
        expect(ids(await search('metrics.auc <= 0.91', ['run_name']))).toEqual(['alpha', 'beta']);
        expect(ids(await search('metrics.auc = 0.85'))).toEqual(['beta']);
        expect(ids(await search('metrics.auc != 0.85', ['run_name']))).toEqual([
          '50%_off',
          'alpha',
          'delta',
          'gamma',
        ]);
        expect(ids(await search('metrics.loss < 1', ['run_name']))).toEqual([
          '50%_off',
          'alpha',
          'beta',
          'gamma',
        ]);
        expect(ids(await search('metrics.auc > 0.8 and metrics.loss <= 0.2', ['run_name']))).toEqual([
          '50%_off',
          'beta',
        ]);
        expect(ids(await search('metrics.missing > 0'))).toEqual([]);
      });

      it('filters on params and tags: =, !=, LIKE (case-sensitive), ILIKE, IS NULL, IS NOT NULL', async () => {
        expect(ids(await search("params.depth = '6'", ['run_name']))).toEqual(['50%_off', 'alpha']);
        expect(ids(await search("params.depth != '6'", ['run_name']))).toEqual(['beta', 'gamma']);
        expect(ids(await search("params.depth LIKE '%'", ['run_name']))).toHaveLength(4);
        expect(ids(await search("tags.model LIKE 'gbdt%'"))).toEqual(['alpha']);
        expect(ids(await search("tags.model ILIKE 'gbdt%'", ['run_name']))).toEqual(['alpha', 'beta']);
        expect(ids(await search("tags.model LIKE 'GBDT-_arge'"))).toEqual(['beta']);
        expect(ids(await search('tags.model IS NULL'))).toEqual(['delta']);
        expect(ids(await search('tags.model IS NOT NULL'))).toHaveLength(4);
        expect(ids(await search("tags.`mlflow.runName` = 'gamma'"))).toEqual(['gamma']);
        expect(ids(await search("params.depth = '6' and tags.model = 'gbdt' and metrics.auc > 0.9"))).toEqual(
          ['alpha'],
        );
      });

      it('filters on attributes: run_id IN / NOT IN, run_name LIKE with escapes, status, user, times', async () => {
        const alpha = runs.alpha!.info.runId;
        const beta = runs.beta!.info.runId;
        expect(ids(await search(`attributes.run_id IN ('${alpha}', '${beta}')`, ['run_name']))).toEqual([
          'alpha',
          'beta',
        ]);
        expect(ids(await search(`run_id NOT IN ('${alpha}', '${beta}')`, ['run_name']))).toEqual([
          '50%_off',
          'delta',
          'gamma',
        ]);
        expect(ids(await search(`attributes.run_id = '${alpha}'`))).toEqual(['alpha']);
        expect(ids(await search(`attributes.run_id != '${alpha}'`))).toHaveLength(4);
        expect(ids(await search("attributes.run_name LIKE '%a'", ['run_name']))).toEqual([
          'alpha',
          'beta',
          'delta',
          'gamma',
        ]);
        expect(ids(await search("attributes.run_name LIKE '50\\%\\_%'"))).toEqual(['50%_off']);
        expect(ids(await search("attributes.run_name LIKE '5_\\%%'"))).toEqual(['50%_off']);
        expect(ids(await search("attributes.run_name LIKE 'ALPHA'"))).toEqual([]);
        expect(ids(await search("attributes.run_name ILIKE 'ALPHA'"))).toEqual(['alpha']);
        expect(ids(await search("attributes.status = 'RUNNING'", ['run_name']))).toEqual(['delta', 'gamma']);
        expect(ids(await search("attributes.status != 'RUNNING'"))).toHaveLength(3);
        expect(ids(await search("attributes.user_id = 'ada'"))).toEqual(['alpha']);
        expect(ids(await search('attributes.start_time > 2000', ['run_name']))).toEqual([
          '50%_off',
          'delta',
          'gamma',
        ]);
        expect(ids(await search('attributes.start_time <= 2000', ['run_name']))).toEqual(['alpha', 'beta']);
        expect(ids(await search('attributes.end_time < 3000', ['run_name']))).toEqual(['alpha', 'beta']);
        expect(ids(await search('attributes.created = 1000'))).toEqual(['alpha']);
        expect(ids(await search("attributes.artifact_uri LIKE '%artifacts'"))).toHaveLength(5);
        // The URI the run answers with (its stored location is relative to the artifact root).
        expect(ids(await search(`attributes.artifact_uri = '${runs.alpha!.info.artifactUri}'`))).toEqual([
          'alpha',
        ]);
      });

      it('orders by metrics (NaN, then missing, last), params, tags and attributes', async () => {
        expect(ids(await search(undefined, ['metrics.auc DESC']))).toEqual([
          '50%_off',
          'delta',
          'alpha',
          'beta',
          'gamma',
        ]);
        expect(ids(await search(undefined, ['metrics.auc ASC']))).toEqual([
          'beta',
          'alpha',
          'delta',
          '50%_off',
          'gamma',
        ]);
        expect(ids(await search(undefined, ['metrics.loss']))).toEqual([
          '50%_off',
          'beta',
          'alpha',
          'gamma',
          'delta',
        ]);
        expect(ids(await search(undefined, ['metrics.loss DESC']))).toEqual([
          'gamma',
          'alpha',
          'beta',
          '50%_off',
          'delta',
        ]);
        expect(ids(await search(undefined, ['params.depth DESC', 'run_name']))).toEqual([
          'gamma',
          '50%_off',
          'alpha',
          'beta',
          'delta',
        ]);
        expect(ids(await search(undefined, ['tags.model']))).toEqual([
          'beta',
          'alpha',
          'gamma',
          '50%_off',
          'delta',
        ]);
        expect(ids(await search(undefined, ['attributes.run_name DESC']))).toEqual([
          'gamma',
          'delta',
          'beta',
          'alpha',
          '50%_off',
        ]);
        expect(ids(await search(undefined, ['attributes.start_time']))).toEqual([
          'alpha',
          'beta',
          'gamma',
          'delta',
          '50%_off',
        ]);
        expect(ids(await search(undefined, ['attributes.end_time DESC', 'run_name']))).toEqual([
          '50%_off',
          'beta',
          'alpha',
          'delta',
          'gamma',
        ]);
        expect(ids(await search(undefined, ['attributes.status', 'run_name']))).toEqual([
          'beta',
          'alpha',
          '50%_off',
          'delta',
          'gamma',
        ]);
        expect(ids(await search('metrics.auc > 0.8', ['metrics.loss DESC']))).toEqual([
          'alpha',
          'beta',
          '50%_off',
          'delta',
        ]);
      });

      it('pages with opaque tokens and validates max_results and tokens', async () => {
        const seen: string[] = [];
        let pageToken: string | undefined;
        let pages = 0;
        do {
          const page = await search(undefined, ['run_name'], {
            maxResults: 2,
            ...(pageToken ? { pageToken } : {}),
          });
          seen.push(...ids(page));
          pageToken = page.nextPageToken ?? undefined;
          pages += 1;
        } while (pageToken);
        expect(pages).toBe(3);
        expect(seen).toEqual(['50%_off', 'alpha', 'beta', 'delta', 'gamma']);
        const exact = await search(undefined, undefined, { maxResults: 5 });
        expect(exact.items).toHaveLength(5);
        expect(exact.nextPageToken).toBeNull();
        await expectCode(
          search(undefined, undefined, { pageToken: 'bm90IGEgdG9rZW4' }),
          'INVALID_PARAMETER_VALUE',
        );
        await expectCode(
          search(undefined, undefined, { maxResults: 50_001 }),
          'INVALID_PARAMETER_VALUE',
          /50000/,
        );
        await expectCode(search(undefined, undefined, { maxResults: -1 }), 'INVALID_PARAMETER_VALUE');
        expect((await search(undefined, undefined, { maxResults: 50_000 })).items).toHaveLength(5);
      });

      it('counts what a search finds, from a page token on, under the same filter and view type', async () => {
        const count = (query: object = {}) => store.countRuns({ experimentIds: [experimentId], ...query });
        expect(await count()).toBe(5);
        expect(await count({ filter: 'metrics.auc > 0.9' })).toBe(3);
        expect(await count({ filter: 'tags.model IS NULL' })).toBe(1);
        expect(await count({ viewType: 'ALL', maxResults: 1, orderBy: ['run_name'] })).toBe(6);
        expect(await store.countRuns({ experimentIds: [experimentId, other] })).toBe(6);
        expect(await store.countRuns({ experimentIds: [] })).toBe(0);
        // What is left from each page's token on: the runs of that page and the pages after it.
        const first = await search(undefined, ['run_name'], { maxResults: 2 });
        expect(await count({ pageToken: first.nextPageToken! })).toBe(3);
        const second = await search(undefined, ['run_name'], {
          maxResults: 2,
          pageToken: first.nextPageToken!,
        });
        expect(await count({ pageToken: second.nextPageToken! })).toBe(1);
        await expectCode(count({ filter: 'metrics.auc >' }), 'INVALID_PARAMETER_VALUE');
        await expectCode(count({ pageToken: 'bm90IGEgdG9rZW4' }), 'INVALID_PARAMETER_VALUE');
      });

      it('honours the view type', async () => {
        expect(ids(await search(undefined, undefined, { viewType: 'DELETED_ONLY' }))).toEqual(['deleted']);
        expect(ids(await search(undefined, undefined, { viewType: 'ALL' }))).toHaveLength(6);
      });

      it('refuses malformed filters and order_by clauses', async () => {
        await expectCode(search('metrics.auc >'), 'INVALID_PARAMETER_VALUE');
        await expectCode(search("metrics.auc > 'high'"), 'INVALID_PARAMETER_VALUE');
        await expectCode(search("params.depth > '3'"), 'INVALID_PARAMETER_VALUE');
        await expectCode(search("attributes.nonsense = 'x'"), 'INVALID_PARAMETER_VALUE');
        await expectCode(search("metrics.auc > 0.5 OR params.depth = '6'"), 'INVALID_PARAMETER_VALUE');
        await expectCode(search(undefined, ['metrics.auc SIDEWAYS']), 'INVALID_PARAMETER_VALUE');
        await expectCode(store.searchRuns({ experimentIds: ['abc'] }), 'INVALID_PARAMETER_VALUE');
      });

      it('answers the longest filter it accepts, and refuses longer ones before they reach the database', async () => {
        const terms = (n: number) =>
          Array.from({ length: n }, (_, i) => `metrics.auc > ${-i - 1}`).join(' AND ');
        expect(ids(await search(terms(MAX_FILTER_COMPARISONS), ['attributes.run_name']))).toEqual([
          '50%_off',
          'alpha',
          'beta',
          'delta',
        ]);
        await expectCode(search(terms(2_000)), 'INVALID_PARAMETER_VALUE', /at most 200 comparisons/);
        const list = (n: number) =>
          `attributes.run_id IN (${Array.from({ length: n }, (_, i) => `'${i}'`).join(',')})`;
        expect(ids(await search(list(MAX_IN_VALUES)))).toEqual([]);
        await expectCode(search(list(5_000)), 'INVALID_PARAMETER_VALUE', /at most 1000 values, found 5000/);
      });
    });

    describe('failAbandonedRuns', () => {
      it('fails RUNNING runs whose owning process on this host is gone, and only those', async () => {
        const experimentId = await newExperiment('abandoned');
        const dead = String(deadPid());
        const orphan = await store.createRun({ experimentId, runName: 'orphan' });
        await store.logBatch(orphan.info.runId, { tags: [{ key: 'onset.pid', value: dead }] });
        const finished = await store.createRun({ experimentId, runName: 'finished' });
        await store.logBatch(finished.info.runId, { tags: [{ key: 'onset.pid', value: dead }] });
        await store.updateRun(finished.info.runId, { status: 'FINISHED' });
        const alive = await store.createRun({ experimentId, runName: 'alive' });
        const elsewhere = await store.createRun({ experimentId, runName: 'elsewhere' });
        await store.logBatch(elsewhere.info.runId, {
          tags: [
            { key: 'onset.pid', value: dead },
            { key: 'onset.host', value: 'another-host.invalid' },
          ],
        });
        expect(alive.data.tags).toContainEqual({ key: 'onset.pid', value: String(process.pid) });

        expect(await store.failAbandonedRuns('owner process died')).toBeGreaterThanOrEqual(1);
        const failed = await store.getRun(orphan.info.runId);
        expect(failed.info.status).toBe('FAILED');
        expect(failed.info.endTime).not.toBeNull();
        expect(failed.data.tags).toContainEqual({ key: 'onset.failure_reason', value: 'owner process died' });
        expect((await store.getRun(finished.info.runId)).info.status).toBe('FINISHED');
        expect((await store.getRun(alive.info.runId)).info.status).toBe('RUNNING');
        expect((await store.getRun(elsewhere.info.runId)).info.status).toBe('RUNNING');
        expect(await store.failAbandonedRuns('again')).toBe(0);
      });

      it.skipIf(process.platform !== 'linux')(
        'fails RUNNING runs whose pid now belongs to a later process, or to a zombie',
        async () => {
          const experimentId = await newExperiment('reused');
          const alive = await store.createRun({ experimentId, runName: 'alive' });
          const started = alive.data.tags.find((tag) => tag.key === 'onset.process_start')?.value;
          expect(started).toMatch(/\/\d+$/);
          // This process's pid, recorded for a process that started at another time.
          const reused = await store.createRun({
            experimentId,
            runName: 'reused',
            owner: { pid: process.pid, host: hostname(), started: `${started!.split('/')[0]}/1` },
          });
          const parent = spawn('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 60'], {
            stdio: ['ignore', 'pipe', 'ignore'],
          });
          try {
            const zombiePid = await new Promise<number>((resolve) =>
              parent.stdout!.once('data', (data) => resolve(Number(String(data).trim()))),
            );
            await new Promise((resolve) => setTimeout(resolve, 300));
            const zombie = await store.createRun({
              experimentId,
              runName: 'zombie',
              owner: { pid: zombiePid, host: hostname() },
            });
            expect(await store.failAbandonedRuns('owner process gone')).toBeGreaterThanOrEqual(2);
            expect((await store.getRun(reused.info.runId)).info.status).toBe('FAILED');
            expect((await store.getRun(zombie.info.runId)).info.status).toBe('FAILED');
            expect((await store.getRun(alive.info.runId)).info.status).toBe('RUNNING');
          } finally {
            parent.kill('SIGKILL');
          }
        },
      );
    });
  });
}
