import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { defineBlock } from '../../src/pipelines/block.js';
import { definePipeline, executionOrder, resolveParams } from '../../src/pipelines/pipeline.js';
import { type PipelineEvent, runPipeline, startPipelineRun } from '../../src/pipelines/runner.js';
import { type OnsetStores, openOnsetStores } from '../../src/server/open-stores.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('runner');
const _home = temporary.home;
let stores: OnsetStores;
beforeAll(() => {
  stores = temporary.stores;
});

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A block that records when it starts and ends, outputs nothing and takes `ms`. */
function timed(name: string, after: string[], ms: number, timeline: string[]) {
  return defineBlock({
    name,
    kind: 'transformer',
    description: `${name} for ${ms} ms`,
    inputs: {},
    after,
    output: 'nothing',
    async run(_inputs, context) {
      timeline.push(`start ${name}`);
      context.log.info(`${name} working`);
      await wait(ms);
      timeline.push(`end ${name}`);
      return null;
    },
  });
}

describe('pipeline definitions', () => {
  const source = defineBlock({
    name: 'source',
    kind: 'loader',
    description: 'gives a condition',
    inputs: {},
    output: 'condition',
    run: async () => true,
  });

  it('reports every wiring problem at once: missing upstream, type mismatch, duplicate names, bad kinds', () => {
    const wrongType = defineBlock({
      name: 'train',
      kind: 'trainer',
      description: 'wants a split',
      inputs: { split: { from: 'source', type: 'split' }, data: { from: 'nowhere', type: 'data' } },
      output: 'nothing',
      run: async () => null,
    });
    let message = '';
    try {
      definePipeline({
        name: 'broken',
        description: 'x',
        blocks: [
          source,
          wrongType,
          { ...source },
          { ...timed('odd', ['ghost'], 1, []), kind: 'magic' as 'loader' },
        ],
      });
    } catch (error) {
      message = (error as Error).message;
      expect(error).toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
    }
    expect(message).toMatch(/Pipeline "broken" is invalid/);
    expect(message).toMatch(/"train" expects input "split" of type split, but "source" outputs condition/);
    expect(message).toMatch(
      /"train" takes input "data" from "nowhere", which is not a block of this pipeline/,
    );
    expect(message).toMatch(/two blocks are named "source"/);
    expect(message).toMatch(/"odd" has kind "magic"/);
    expect(message).toMatch(/"odd" runs after "ghost"/);
  });

  it('finds cycles and names them', () => {
    expect(() =>
      definePipeline({
        name: 'loop',
        description: 'x',
        blocks: [timed('a', ['c'], 1, []), timed('b', ['a'], 1, []), timed('c', ['b'], 1, [])],
      }),
    ).toThrow(/cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)/);
  });

  it('checks parameter declarations and values, converting --param strings', () => {
    const pipeline = definePipeline({
      name: 'params',
      description: 'x',
      params: {
        trials: { type: 'integer', default: 0, min: 0, description: 'tuning trials' },
        metric: {
          type: 'string',
          default: 'roc_auc',
          choices: ['roc_auc', 'accuracy'],
          description: 'metric',
        },
        fast: { type: 'boolean', default: false, description: 'fast' },
      },
      blocks: [source],
    });
    expect(resolveParams(pipeline, { trials: '5', fast: 'true' })).toEqual({
      trials: 5,
      metric: 'roc_auc',
      fast: true,
    });
    expect(() => resolveParams(pipeline, { trials: '2.5', metric: 'f1', seeds: 1 })).toThrow(
      /"trials": expected an integer, got 2.5; parameter "metric": "f1" is not one of roc_auc, accuracy; unknown parameter "seeds"; known: trials, metric, fast/,
    );
    expect(() =>
      definePipeline({
        name: 'bad-default',
        description: 'x',
        params: { n: { type: 'integer', default: -1, min: 0, description: 'n' } },
        blocks: [source],
      }),
    ).toThrow(/parameter "n" has an invalid default: -1 is below the minimum 0/);
  });
});

describe('running pipelines', () => {
  it('runs blocks after their upstream, independent ones at once up to the limit, and records everything', async () => {
    const timeline: string[] = [];
    // a -> (b, c, d) -> e; b, c, d are independent; the limit is 2.
    const pipeline = definePipeline({
      name: 'diamond',
      description: 'x',
      concurrency: 2,
      blocks: [
        timed('e', ['b', 'c', 'd'], 5, timeline),
        timed('a', [], 5, timeline),
        timed('b', ['a'], 60, timeline),
        timed('c', ['a'], 60, timeline),
        timed('d', ['a'], 60, timeline),
      ],
    });
    expect(executionOrder(pipeline)).toEqual(['a', 'b', 'c', 'd', 'e']);
    const run = await runPipeline(pipeline, { stores });
    expect(run.status).toBe('SUCCEEDED');
    expect(timeline.slice(0, 4)).toEqual(['start a', 'end a', 'start b', 'start c']);
    // d starts only when b or c ended (limit 2); e only after all three ended.
    expect(timeline.indexOf('start d')).toBeGreaterThan(
      Math.min(timeline.indexOf('end b'), timeline.indexOf('end c')),
    );
    expect(timeline.indexOf('start e')).toBeGreaterThan(
      Math.max(timeline.indexOf('end b'), timeline.indexOf('end c'), timeline.indexOf('end d')),
    );
    expect(run.blocks.map((b) => [b.block, b.status, b.attempts])).toEqual([
      ['a', 'SUCCEEDED', 1],
      ['b', 'SUCCEEDED', 1],
      ['c', 'SUCCEEDED', 1],
      ['d', 'SUCCEEDED', 1],
      ['e', 'SUCCEEDED', 1],
    ]);
    for (const block of run.blocks) expect(block.endTime! >= block.startTime!).toBe(true);
    const logs = await stores.pipelines.getLogs(run.runId, { block: 'c' });
    expect(logs.map((line) => [line.block, line.level, line.message])).toEqual([['c', 'info', 'c working']]);
    expect((await stores.pipelines.listRuns({ pipeline: 'diamond' })).items[0]?.runId).toBe(run.runId);
  });

  it('retries a failing block with growing backoff, then stops its downstream blocks after the last failure', async () => {
    let calls = 0;
    const events: PipelineEvent[] = [];
    const flaky = defineBlock({
      name: 'flaky',
      kind: 'loader',
      description: 'fails twice, then works',
      inputs: {},
      output: 'condition',
      retry: { attempts: 3, backoffMs: 20 },
      async run() {
        calls += 1;
        if (calls < 3) throw new Error(`transient failure ${calls}`);
        return true;
      },
    });
    const ran: string[] = [];
    const broken = defineBlock({
      name: 'broken',
      kind: 'trainer',
      description: 'always fails',
      inputs: { go: { from: 'flaky', type: 'condition' } },
      output: 'nothing',
      retry: { attempts: 2, backoffMs: 1 },
      async run() {
        ran.push('broken');
        throw new Error('the model exploded');
      },
    });
    const after = defineBlock({
      name: 'after',
      kind: 'registrar',
      description: 'must not run',
      inputs: {},
      after: ['broken'],
      output: 'nothing',
      async run() {
        ran.push('after');
        return null;
      },
    });
    const started = Date.now();
    const run = await runPipeline(
      definePipeline({ name: 'retries', description: 'x', blocks: [flaky, broken, after] }),
      {
        stores,
        onEvent: (event) => events.push(event),
      },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(20 + 40);
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('block "broken" failed after 2 attempt(s): the model exploded');
    expect(run.blocks.map((b) => [b.block, b.status, b.attempts])).toEqual([
      ['flaky', 'SUCCEEDED', 3],
      ['broken', 'FAILED', 2],
      ['after', 'UPSTREAM_FAILED', 0],
    ]);
    expect(run.blocks[1]?.error?.stack).toMatch(/the model exploded\n\s+at /);
    expect(ran).toEqual(['broken', 'broken']);
    expect(
      events.filter((e) => e.type === 'block-retry').map((e) => (e as { delayMs: number }).delayMs),
    ).toEqual([20, 40, 1]);
    const logs = await stores.pipelines.getLogs(run.runId, { block: 'flaky' });
    expect(logs.map((l) => `${l.attempt} ${l.level} ${l.message}`)).toEqual([
      '1 error attempt 1 of 3 failed: transient failure 1',
      '1 warn retrying in 0.0 s',
      '2 error attempt 2 of 3 failed: transient failure 2',
      '2 warn retrying in 0.0 s',
    ]);
  });

  it('skips what is downstream of a sensor that says no, and the run still succeeds', async () => {
    const gate = defineBlock({
      name: 'gate',
      kind: 'sensor',
      description: 'no',
      inputs: {},
      output: 'condition',
      run: async () => false,
    });
    const next = timed('next', ['gate'], 1, []);
    const last = timed('last', ['next'], 1, []);
    const run = await runPipeline(
      definePipeline({ name: 'sensor', description: 'x', blocks: [gate, next, last] }),
      { stores },
    );
    expect(run.status).toBe('SUCCEEDED');
    expect(run.blocks.map((b) => b.status)).toEqual(['SUCCEEDED', 'SKIPPED', 'SKIPPED']);
  });

  it('cancels: the running block sees the signal, pending blocks never start, and the run is CANCELLED', async () => {
    const timeline: string[] = [];
    const slow = defineBlock({
      name: 'slow',
      kind: 'trainer',
      description: 'waits for cancellation',
      inputs: {},
      output: 'nothing',
      async run(_inputs, context) {
        timeline.push('start slow');
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
        timeline.push('slow saw the abort');
        return null;
      },
    });
    const handle = await startPipelineRun(
      definePipeline({
        name: 'cancel-me',
        description: 'x',
        blocks: [slow, timed('later', ['slow'], 1, timeline)],
      }),
      { stores, cancelPollMs: 20 },
    );
    await wait(50);
    // Another process asks through the store; this runner notices within a poll.
    await stores.pipelines.requestCancel(handle.runId);
    const run = await handle.finished;
    expect(run.status).toBe('CANCELLED');
    expect(run.error).toBe('cancelled: cancel requested');
    expect(run.blocks.map((b) => b.status)).toEqual(['CANCELLED', 'CANCELLED']);
    expect(timeline).toEqual(['start slow', 'slow saw the abort']);
    await expect(stores.pipelines.requestCancel(run.runId)).rejects.toThrow(/already ended \(CANCELLED\)/);
  });

  it('refuses invalid parameters before recording a run', async () => {
    const pipeline = definePipeline({
      name: 'no-params',
      description: 'x',
      blocks: [timed('only', [], 1, [])],
    });
    const before = (await stores.pipelines.listRuns({ pipeline: 'no-params' })).items.length;
    await expect(runPipeline(pipeline, { stores, params: { seed: 1 } })).rejects.toThrow(
      /unknown parameter "seed"; it takes none/,
    );
    expect((await stores.pipelines.listRuns({ pipeline: 'no-params' })).items.length).toBe(before);
  });
});

describe('crash recovery', () => {
  it('marks a run FAILED on restart when the process running it was killed mid-run', async () => {
    const crashHome = mkdtempSync(join(tmpdir(), 'onset-crash-'));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'hanging-pipeline.ts'), crashHome],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const runId = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /running (\w+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`the child exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const reopened = await openOnsetStores(resolveConfig({ home: crashHome }));
    try {
      expect(reopened.abandonedPipelineRunsFailed).toBe(1);
      const run = await reopened.pipelines.getRun(runId);
      expect(run.status).toBe('FAILED');
      expect(run.error).toMatch(/ended without finishing/);
      expect(run.blocks.map((b) => [b.block, b.status])).toEqual([
        ['first', 'SUCCEEDED'],
        ['hang', 'FAILED'],
        ['never', 'UPSTREAM_FAILED'],
      ]);
    } finally {
      await reopened.close();
      rmSync(crashHome, { recursive: true, force: true });
    }
  }, 30_000);
});
