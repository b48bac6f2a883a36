import { setTimeout as sleep } from 'node:timers/promises';
import { OnsetError } from '../errors.js';
import { currentProcess, type OwnerProcess } from '../util/process.js';
import {
  type AnyBlock,
  type BlockContext,
  type BlockLogger,
  type PipelineStores,
  upstreamOf,
} from './block.js';
import { executionOrder, type PipelineDefinition, resolveParams } from './pipeline.js';
import type {
  BlockLogLine,
  BlockRunStatus,
  LogLevel,
  OutputSummary,
  PipelineParamValue,
  PipelineRun,
  PipelineStore,
} from './pipeline-store.js';

/** What a runner reports as it goes (the CLI draws live progress from these). */
export type PipelineEvent =
  | { readonly type: 'block-started'; readonly block: string; readonly attempt: number }
  | {
      readonly type: 'block-finished';
      readonly block: string;
      readonly status: BlockRunStatus;
      /** Seconds of the last attempt (0 for blocks that never ran). */
      readonly seconds: number;
      readonly output: OutputSummary | null;
      readonly error: string | null;
    }
  | {
      readonly type: 'block-retry';
      readonly block: string;
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: string;
    }
  | {
      readonly type: 'block-progress';
      readonly block: string;
      readonly done: number;
      readonly total: number;
      readonly label: string | undefined;
    }
  | { readonly type: 'log'; readonly line: BlockLogLine };

export interface PipelineRunnerOptions {
  readonly stores: PipelineStores;
  /** Parameter values (strings are converted to the declared types); the rest take their defaults. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** What started the run (default `cli`). */
  readonly trigger?: string;
  /** Aborting it cancels the run. */
  readonly signal?: AbortSignal;
  /** Blocks run at once at most (default: the pipeline's, else 2). */
  readonly concurrency?: number;
  readonly onEvent?: (event: PipelineEvent) => void;
  /** How often the store is asked whether someone requested cancellation (ms, default 1000). */
  readonly cancelPollMs?: number;
  /** The process recorded as running it (default this one; it is failed on restart if it dies). */
  readonly owner?: OwnerProcess | null;
}

export interface PipelineRunHandle {
  readonly runId: string;
  /** Settles with the ended run (it never rejects for a failed block: the run records the failure). */
  readonly finished: Promise<PipelineRun>;
  cancel(reason?: string): void;
}

/** Thrown into a block's retry wait and recorded when a run is cancelled. */
function cancellation(signal: AbortSignal): OnsetError {
  const reason =
    signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'cancelled');
  return new OnsetError('INVALID_STATE', `cancelled: ${reason}`);
}

function describe(error: unknown): { message: string; stack: string | null } {
  if (error instanceof Error) return { message: error.message, stack: error.stack ?? null };
  return { message: String(error), stack: null };
}

/**
 * Starts a pipeline run and returns as soon as it is recorded: the run goes on in the background (blocks
 * in dependency order, independent ones at once up to the concurrency limit, retries with backoff,
 * per-block logs and output summaries written to the store). Parameters are checked first: an invalid
 * one throws before any run is recorded.
 */
export async function startPipelineRun(
  pipeline: PipelineDefinition,
  options: PipelineRunnerOptions,
): Promise<PipelineRunHandle> {
  const params = resolveParams(pipeline, options.params ?? {});
  const order = executionOrder(pipeline);
  const store = options.stores.pipelines;
  const run = await store.createRun({
    pipeline: pipeline.name,
    params,
    trigger: options.trigger ?? 'cli',
    blocks: order,
    owner: options.owner === undefined ? currentProcess() : options.owner,
  });
  const controller = new AbortController();
  const forward = () => controller.abort(options.signal?.reason ?? new Error('cancelled'));
  if (options.signal?.aborted) forward();
  else options.signal?.addEventListener('abort', forward, { once: true });
  const poll = setInterval(() => {
    store.getRun(run.runId).then(
      (current) => {
        if (current.cancelRequested) controller.abort(new Error('cancel requested'));
      },
      () => undefined,
    );
  }, options.cancelPollMs ?? 1000);
  poll.unref();
  const execution = new Execution(pipeline, order, params, run.runId, options, controller.signal);
  const finished = execution.run().finally(() => {
    clearInterval(poll);
    options.signal?.removeEventListener('abort', forward);
  });
  return {
    runId: run.runId,
    finished,
    cancel: (reason = 'cancelled') => controller.abort(new Error(reason)),
  };
}

/** Runs a pipeline to its end and returns the recorded run (see `startPipelineRun`). */
export async function runPipeline(
  pipeline: PipelineDefinition,
  options: PipelineRunnerOptions,
): Promise<PipelineRun> {
  return (await startPipelineRun(pipeline, options)).finished;
}

class Execution {
  private readonly status = new Map<string, BlockRunStatus>();
  private readonly outputs = new Map<string, unknown>();
  /** Sensors that answered false: their downstream blocks are skipped. */
  private readonly closed = new Set<string>();
  private readonly blocks: Map<string, AnyBlock>;
  private readonly store: PipelineStore;
  /** Log writes in order; awaited before a block's end is recorded. */
  private writes: Promise<void> = Promise.resolve();
  private firstFailure: string | null = null;

  constructor(
    private readonly pipeline: PipelineDefinition,
    private readonly order: readonly string[],
    private readonly params: Readonly<Record<string, PipelineParamValue>>,
    private readonly runId: string,
    private readonly options: PipelineRunnerOptions,
    private readonly signal: AbortSignal,
  ) {
    this.blocks = new Map(pipeline.blocks.map((block) => [block.name, block]));
    this.store = options.stores.pipelines;
    for (const name of order) this.status.set(name, 'PENDING');
  }

  async run(): Promise<PipelineRun> {
    const limit = this.options.concurrency ?? this.pipeline.concurrency ?? 2;
    const running = new Map<string, Promise<void>>();
    try {
      for (;;) {
        await this.settleBlocked();
        if (this.signal.aborted) {
          for (const name of this.order) {
            if (this.status.get(name) === 'PENDING' && !running.has(name))
              await this.finishUnrun(name, 'CANCELLED');
          }
        }
        for (const name of this.order) {
          if (running.size >= limit || this.signal.aborted) break;
          if (this.status.get(name) !== 'PENDING' || running.has(name)) continue;
          const upstream = upstreamOf(this.blocks.get(name)!);
          if (!upstream.every((up) => this.status.get(up) === 'SUCCEEDED')) continue;
          running.set(
            name,
            this.execute(name).finally(() => running.delete(name)),
          );
        }
        if (running.size === 0) break;
        await Promise.race(running.values());
      }
      await this.writes;
      const failed = [...this.status.values()].some((s) => s === 'FAILED' || s === 'UPSTREAM_FAILED');
      const outcome = failed ? 'FAILED' : this.signal.aborted ? 'CANCELLED' : 'SUCCEEDED';
      await this.store.finishRun(this.runId, {
        status: outcome,
        error:
          outcome === 'FAILED'
            ? this.firstFailure
            : outcome === 'CANCELLED'
              ? cancellation(this.signal).message
              : null,
      });
    } catch (error) {
      // The store itself failed (e.g. the database went away): record what can be recorded.
      await Promise.allSettled(running.values());
      await this.store
        .finishRun(this.runId, { status: 'FAILED', error: `the runner failed: ${describe(error).message}` })
        .catch(() => undefined);
    }
    return this.store.getRun(this.runId);
  }

  /** Decides the blocks that can no longer run: after a failure, a cancellation, a skip or a closed sensor. */
  private async settleBlocked(): Promise<void> {
    let changed = true;
    while (changed) {
      changed = false;
      for (const name of this.order) {
        if (this.status.get(name) !== 'PENDING') continue;
        const upstream = upstreamOf(this.blocks.get(name)!).map((up) => ({
          up,
          status: this.status.get(up),
        }));
        const fate: BlockRunStatus | undefined = upstream.some(
          (u) => u.status === 'FAILED' || u.status === 'UPSTREAM_FAILED',
        )
          ? 'UPSTREAM_FAILED'
          : upstream.some((u) => u.status === 'CANCELLED')
            ? 'CANCELLED'
            : upstream.some((u) => u.status === 'SKIPPED' || this.closed.has(u.up))
              ? 'SKIPPED'
              : undefined;
        if (fate) {
          await this.finishUnrun(name, fate);
          changed = true;
        }
      }
    }
  }

  private async finishUnrun(name: string, status: BlockRunStatus): Promise<void> {
    this.status.set(name, status);
    await this.store.updateBlockRun(this.runId, name, { status, endTime: Date.now() });
    this.emit({ type: 'block-finished', block: name, status, seconds: 0, output: null, error: null });
  }

  private async execute(name: string): Promise<void> {
    const block = this.blocks.get(name)!;
    this.status.set(name, 'RUNNING');
    const inputs = Object.fromEntries(
      Object.entries(block.inputs).map(([input, { from }]) => [input, this.outputs.get(from)]),
    );
    const attempts = block.retry?.attempts ?? 1;
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      await this.store.updateBlockRun(this.runId, name, {
        status: 'RUNNING',
        attempts: attempt,
        startTime: started,
        endTime: null,
        error: null,
      });
      this.emit({ type: 'block-started', block: name, attempt });
      const seconds = () => (Date.now() - started) / 1000;
      try {
        if (this.signal.aborted) throw cancellation(this.signal);
        const output = await block.run(inputs as never, this.context(name, attempt));
        // A block that ignores the signal still ends as cancelled when the run was cancelled meanwhile.
        if (this.signal.aborted) throw cancellation(this.signal);
        const summary = block.summarize?.(output as never) ?? null;
        this.outputs.set(name, output);
        if (block.output === 'condition' && output === false) this.closed.add(name);
        await this.writes;
        await this.store.updateBlockRun(this.runId, name, {
          status: 'SUCCEEDED',
          endTime: Date.now(),
          output: summary,
        });
        this.status.set(name, 'SUCCEEDED');
        this.emit({
          type: 'block-finished',
          block: name,
          status: 'SUCCEEDED',
          seconds: seconds(),
          output: summary,
          error: null,
        });
        return;
      } catch (error) {
        const { message, stack } = describe(error);
        if (this.signal.aborted) {
          await this.writes;
          await this.store.updateBlockRun(this.runId, name, { status: 'CANCELLED', endTime: Date.now() });
          this.status.set(name, 'CANCELLED');
          this.emit({
            type: 'block-finished',
            block: name,
            status: 'CANCELLED',
            seconds: seconds(),
            output: null,
            error: null,
          });
          return;
        }
        this.write(name, attempt, 'error', `attempt ${attempt} of ${attempts} failed: ${message}`);
        if (attempt < attempts) {
          const delayMs = block.retry!.backoffMs * 2 ** (attempt - 1);
          this.write(name, attempt, 'warn', `retrying in ${(delayMs / 1000).toFixed(1)} s`);
          this.emit({ type: 'block-retry', block: name, attempt, delayMs, error: message });
          try {
            await sleep(delayMs, undefined, { signal: this.signal });
          } catch {
            // Cancelled while waiting: the next attempt sees the aborted signal and ends as cancelled.
          }
          continue;
        }
        await this.writes;
        await this.store.updateBlockRun(this.runId, name, {
          status: 'FAILED',
          endTime: Date.now(),
          error: { message, stack },
        });
        this.status.set(name, 'FAILED');
        this.firstFailure ??= `block "${name}" failed after ${attempt} attempt(s): ${message}`;
        this.emit({
          type: 'block-finished',
          block: name,
          status: 'FAILED',
          seconds: seconds(),
          output: null,
          error: message,
        });
        return;
      }
    }
  }

  private context(name: string, attempt: number): BlockContext {
    const log = (level: LogLevel) => (message: string) => this.write(name, attempt, level, message);
    const logger: BlockLogger = {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
    };
    return {
      runId: this.runId,
      pipeline: this.pipeline.name,
      block: name,
      attempt,
      params: this.params,
      signal: this.signal,
      log: logger,
      progress: (done, total, label) =>
        this.emit({ type: 'block-progress', block: name, done, total, label }),
      link: (kind, target) => this.store.addLink(this.runId, { kind, target, block: name }),
      stores: this.options.stores,
    };
  }

  private write(block: string, attempt: number, level: LogLevel, message: string): void {
    const line: BlockLogLine = { block, attempt, timestamp: Date.now(), level, message };
    this.emit({ type: 'log', line });
    this.writes = this.writes.then(() => this.store.appendLogs(this.runId, [line])).catch(() => undefined);
  }

  private emit(event: PipelineEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // A failing listener (e.g. a closed terminal) must not change the run.
    }
  }
}
