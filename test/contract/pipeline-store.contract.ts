/**
 * The PipelineStore contract, run against every backend (SQLite and PostgreSQL; see the
 * `tracking-store.*.test.ts` runners). Tests keep apart by using their own pipeline names.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineStore } from '../../src/pipelines/pipeline-store.js';
import type { OwnerProcess } from '../../src/util/process.js';
import { deadPid, expectCode, type OpenedStores, unique } from './tracking-store.contract.js';

export function describePipelineStoreContract(name: string, open: () => Promise<OpenedStores>): void {
  describe(`PipelineStore contract: ${name}`, () => {
    let stores: OpenedStores;
    let store: PipelineStore;
    const owner = { pid: process.pid, host: 'contract-host' };
    beforeAll(async () => {
      stores = await open();
      store = stores.pipelines;
    });
    afterAll(async () => {
      await stores?.close();
    });

    const newRun = (pipeline = unique('pipe'), runOwner: OwnerProcess | null = owner) =>
      store.createRun({
        pipeline,
        params: { seed: 42, data: 'x.csv', fast: true },
        trigger: 'cli',
        blocks: ['load', 'train', 'register'],
        owner: runOwner,
      });

    it('creates a RUNNING run with PENDING blocks in order, and reads it back', async () => {
      const run = await newRun();
      expect(run).toMatchObject({
        status: 'RUNNING',
        params: { seed: 42, data: 'x.csv', fast: true },
        trigger: 'cli',
        endTime: null,
        error: null,
        cancelRequested: false,
        owner,
        links: [],
      });
      expect(run.runId).toMatch(/^[0-9a-f]{32}$/);
      expect(run.blocks.map((b) => [b.block, b.status, b.attempts])).toEqual([
        ['load', 'PENDING', 0],
        ['train', 'PENDING', 0],
        ['register', 'PENDING', 0],
      ]);
      expect(await store.getRun(run.runId)).toEqual(run);
      await expectCode(
        store.getRun('0'.repeat(32)),
        'RESOURCE_DOES_NOT_EXIST',
        /Pipeline run 0+ does not exist/,
      );
    });

    it('updates block runs (errors with stacks, output summaries) and refuses unknown blocks', async () => {
      const run = await newRun();
      await store.updateBlockRun(run.runId, 'load', {
        status: 'SUCCEEDED',
        attempts: 1,
        startTime: 10,
        endTime: 20,
        output: { rows: 2105, source: 'built-in', ok: true, none: null },
      });
      await store.updateBlockRun(run.runId, 'train', {
        status: 'FAILED',
        attempts: 2,
        error: { message: 'boom', stack: 'Error: boom\n    at x' },
      });
      const read = await store.getRun(run.runId);
      expect(read.blocks[0]).toEqual({
        block: 'load',
        status: 'SUCCEEDED',
        attempts: 1,
        startTime: 10,
        endTime: 20,
        error: null,
        output: { rows: 2105, source: 'built-in', ok: true, none: null },
      });
      expect(read.blocks[1]?.error).toEqual({ message: 'boom', stack: 'Error: boom\n    at x' });
      await expectCode(
        store.updateBlockRun(run.runId, 'nope', { status: 'RUNNING' }),
        'RESOURCE_DOES_NOT_EXIST',
        /no block "nope"/,
      );
      await expectCode(
        store.updateBlockRun(run.runId, 'load', { status: 'DONE' as 'RUNNING' }),
        'INVALID_PARAMETER_VALUE',
      );
    });

    it('finishes a run once; a second finish changes nothing', async () => {
      const run = await newRun();
      expect(await store.finishRun(run.runId, { status: 'FAILED', error: 'block "train" failed' })).toBe(
        true,
      );
      expect(await store.finishRun(run.runId, { status: 'SUCCEEDED' })).toBe(false);
      const read = await store.getRun(run.runId);
      expect(read.status).toBe('FAILED');
      expect(read.error).toBe('block "train" failed');
      expect(read.endTime).toBeGreaterThan(0);
      await expectCode(store.finishRun('f'.repeat(32), { status: 'SUCCEEDED' }), 'RESOURCE_DOES_NOT_EXIST');
    });

    it('keeps logs in order, by block, and links once each', async () => {
      const run = await newRun();
      await store.appendLogs(run.runId, [
        { block: 'load', attempt: 1, timestamp: 5, level: 'info', message: 'read 2105 rows' },
        { block: 'train', attempt: 1, timestamp: 6, level: 'warn', message: 'slow' },
        { block: 'load', attempt: 2, timestamp: 7, level: 'error', message: 'é ünïcode ✓' },
      ]);
      expect((await store.getLogs(run.runId)).map((l) => l.message)).toEqual([
        'read 2105 rows',
        'slow',
        'é ünïcode ✓',
      ]);
      expect(await store.getLogs(run.runId, { block: 'load' })).toEqual([
        { block: 'load', attempt: 1, timestamp: 5, level: 'info', message: 'read 2105 rows' },
        { block: 'load', attempt: 2, timestamp: 7, level: 'error', message: 'é ünïcode ✓' },
      ]);
      await store.addLink(run.runId, { kind: 'tracking_run', target: 'abc', block: 'train' });
      await store.addLink(run.runId, { kind: 'tracking_run', target: 'abc', block: 'train' });
      await store.addLink(run.runId, { kind: 'model_version', target: 'm/3', block: 'register' });
      expect((await store.getRun(run.runId)).links).toEqual([
        { kind: 'model_version', target: 'm/3', block: 'register' },
        { kind: 'tracking_run', target: 'abc', block: 'train' },
      ]);
      await expectCode(store.getLogs('0'.repeat(32)), 'RESOURCE_DOES_NOT_EXIST');
    });

    it('lists runs newest first, filtered by pipeline and status, in pages', async () => {
      const pipeline = unique('listed');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await newRun(pipeline)).runId);
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      await store.finishRun(ids[1]!, { status: 'SUCCEEDED' });
      const first = await store.listRuns({ pipeline, maxResults: 2 });
      expect(first.items.map((r) => r.runId)).toEqual([ids[4], ids[3]]);
      const second = await store.listRuns({ pipeline, maxResults: 2, pageToken: first.nextPageToken! });
      const third = await store.listRuns({ pipeline, maxResults: 2, pageToken: second.nextPageToken! });
      expect([...second.items, ...third.items].map((r) => r.runId)).toEqual([ids[2], ids[1], ids[0]]);
      expect(third.nextPageToken).toBeNull();
      expect((await store.listRuns({ pipeline, status: 'SUCCEEDED' })).items.map((r) => r.runId)).toEqual([
        ids[1],
      ]);
      await expectCode(
        store.listRuns({ status: 'DONE' as 'RUNNING' }),
        'INVALID_PARAMETER_VALUE',
        /known: RUNNING/,
      );
      await expectCode(store.listRuns({ maxResults: 0 }), 'INVALID_PARAMETER_VALUE');
    });

    it('records cancellation requests for running runs only', async () => {
      const run = await newRun();
      expect((await store.requestCancel(run.runId)).cancelRequested).toBe(true);
      await store.finishRun(run.runId, { status: 'CANCELLED' });
      await expectCode(store.requestCancel(run.runId), 'INVALID_STATE', /already ended \(CANCELLED\)/);
    });

    it('fails the runs of dead processes of this host only, with their unfinished blocks', async () => {
      const host = unique('host');
      const dead = await newRun(undefined, { pid: deadPid(), host });
      await store.updateBlockRun(dead.runId, 'load', { status: 'SUCCEEDED' });
      await store.updateBlockRun(dead.runId, 'train', { status: 'RUNNING' });
      const alive = await newRun(undefined, { pid: process.pid, host });
      const elsewhere = await newRun(undefined, { pid: deadPid(), host: `${host}-other` });
      const unowned = await newRun(undefined, null);
      // This process's pid, recorded for a process that started at another time: the pid was reused.
      const reused = await newRun(undefined, { pid: process.pid, host, started: 'another-boot/1' });
      expect((await store.getRun(reused.runId)).owner).toEqual({
        pid: process.pid,
        host,
        started: 'another-boot/1',
      });
      const isAlive = (owner: { pid: number; started?: string | undefined }) =>
        owner.pid === process.pid && owner.started === undefined;
      expect(await store.failAbandonedRuns('the process died', host, isAlive)).toBe(2);
      expect(await store.failAbandonedRuns('the process died', host, isAlive)).toBe(0);
      const failed = await store.getRun(dead.runId);
      expect(failed.status).toBe('FAILED');
      expect(failed.error).toBe('the process died');
      expect(failed.blocks.map((b) => b.status)).toEqual(['SUCCEEDED', 'FAILED', 'UPSTREAM_FAILED']);
      expect((await store.getRun(reused.runId)).status).toBe('FAILED');
      for (const run of [alive, elsewhere, unowned])
        expect((await store.getRun(run.runId)).status).toBe('RUNNING');
    });

    it('keeps schedules; a firing is claimed by one caller only; disabled schedules are not claimed', async () => {
      const schedule = await store.createSchedule({
        pipeline: 'train-all',
        cron: '0 3 * * *',
        timezone: 'UTC',
        params: { trials: 0 },
        nextRunTime: 1_000,
      });
      expect(schedule).toMatchObject({
        pipeline: 'train-all',
        cron: '0 3 * * *',
        timezone: 'UTC',
        params: { trials: 0 },
        enabled: true,
        nextRunTime: 1_000,
        lastRunId: null,
      });
      expect((await store.listSchedules()).map((s) => s.scheduleId)).toContain(schedule.scheduleId);
      const claims = await Promise.all([
        store.claimScheduleFiring(schedule.scheduleId, 1_000, 2_000),
        store.claimScheduleFiring(schedule.scheduleId, 1_000, 2_000),
      ]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      await store.recordScheduleRun(schedule.scheduleId, 'run-1');
      expect(await store.getSchedule(schedule.scheduleId)).toMatchObject({
        nextRunTime: 2_000,
        lastRunId: 'run-1',
      });
      expect((await store.setScheduleEnabled(schedule.scheduleId, false)).enabled).toBe(false);
      expect(await store.claimScheduleFiring(schedule.scheduleId, 2_000, 3_000)).toBe(false);
      await store.deleteSchedule(schedule.scheduleId);
      await expectCode(store.getSchedule(schedule.scheduleId), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(store.deleteSchedule(schedule.scheduleId), 'RESOURCE_DOES_NOT_EXIST');
    });
  });
}
