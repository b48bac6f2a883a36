import { OnsetError } from '../errors.js';
import type { PipelineStores } from './block.js';
import { BUILT_IN_PIPELINES, findPipeline } from './builtin/catalog.js';
import type { PipelineDefinition } from './pipeline.js';
import type { PipelineRun } from './pipeline-store.js';
import { type PipelineEvent, type PipelineRunHandle, startPipelineRun } from './runner.js';

export interface PipelineServiceOptions {
  readonly stores: PipelineStores;
  readonly pipelines?: readonly PipelineDefinition[];
  /** Pipeline runs this process runs at once at most (default 1); more are refused until one ends. */
  readonly maxActiveRuns?: number;
  readonly onEvent?: (runId: string, event: PipelineEvent) => void;
  readonly onFinished?: (run: PipelineRun) => void;
}

/**
 * The pipelines of one long-running process (`onset up`): starts runs in the background for the API,
 * schedules and monitoring triggers, cancels them (its own directly, others through the store), and
 * cancels what is still running when it closes.
 */
export class PipelineService {
  readonly pipelines: readonly PipelineDefinition[];
  private readonly active = new Map<string, PipelineRunHandle>();

  constructor(private readonly options: PipelineServiceOptions) {
    this.pipelines = options.pipelines ?? BUILT_IN_PIPELINES;
  }

  find(name: string): PipelineDefinition {
    return findPipeline(name, this.pipelines);
  }

  /**
   * Starts `name` and returns at once; the run goes on in this process. `onEvent` hears this run's events
   * (besides the service's own listener): `onset up` shows its first training's progress with it.
   */
  async start(
    name: string,
    params: Readonly<Record<string, unknown>>,
    trigger: string,
    onEvent?: (event: PipelineEvent) => void,
  ): Promise<PipelineRunHandle> {
    const pipeline = this.find(name);
    const limit = this.options.maxActiveRuns ?? 1;
    if (this.active.size >= limit) {
      throw new OnsetError(
        'TEMPORARILY_UNAVAILABLE',
        `${this.active.size} pipeline run(s) already running here (${[...this.active.keys()].join(', ')}); at most ${limit} at once: try again when it ends`,
      );
    }
    let runId = '';
    const handle = await startPipelineRun(pipeline, {
      stores: this.options.stores,
      params,
      trigger,
      onEvent: (event) => {
        onEvent?.(event);
        this.options.onEvent?.(runId, event);
      },
    });
    runId = handle.runId;
    this.active.set(runId, handle);
    void handle.finished.then((run) => {
      this.active.delete(runId);
      this.options.onFinished?.(run);
    });
    return handle;
  }

  /** Cancels a run: directly when it runs here, otherwise by a request the running process polls for. */
  async cancel(runId: string): Promise<PipelineRun> {
    const local = this.active.get(runId);
    if (local) {
      local.cancel('cancelled through the API');
      return local.finished;
    }
    return this.options.stores.pipelines.requestCancel(runId);
  }

  activeRunIds(): string[] {
    return [...this.active.keys()];
  }

  /** Cancels the runs still going and waits for them to record their end. */
  async close(): Promise<void> {
    const handles = [...this.active.values()];
    for (const handle of handles) handle.cancel('the server is shutting down');
    await Promise.allSettled(handles.map((handle) => handle.finished));
  }
}
