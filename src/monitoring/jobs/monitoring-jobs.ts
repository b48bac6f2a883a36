/**
 * The drift job and the performance job of `onset up`: each reads a window of a model version's logged
 * predictions, calls the pure functions of `drift/` and `performance/`, stores the result (succeeded or
 * failed) and, for the version being served, sets the gauges. One check of a kind runs at a time: a
 * request for the same check while it runs joins it (and gets its result); a request for another check
 * of the kind is refused (409). Each runs on a schedule and on demand (`check-routes.ts`).
 */
import { OnsetError } from '../../errors.js';
import type {
  CheckedModel,
  CheckKind,
  MonitoringCheck,
  MonitoringCheckStore,
  NewMonitoringCheck,
} from '../checks/monitoring-check-store.js';
import { type DriftOptions, describeDriftOptions, mergeDriftOptions } from '../drift/drift-options.js';
import type { PredictionLogStore } from '../prediction-log/prediction-log-store.js';
import type { TimeWindow } from '../time-window.js';
import {
  type DriftCheckSettings,
  describeLogWindow,
  driftCheckDocuments,
  runDriftCheck,
} from './drift-check.js';
import { describeCheckedModel, type ModelReferences } from './model-references.js';
import type { MonitoringGauges } from './monitoring-gauges.js';
import {
  type PerformanceCheckSettings,
  performanceCheckDocuments,
  runPerformanceCheck,
} from './performance-check.js';

/** The longest error message a failed check keeps. */
const MAX_ERROR_LENGTH = 2_000;

/** A check to run: which model version, and whether it is the one being served. */
export interface CheckRequest {
  readonly model: CheckedModel;
  /** Whether this version is the one served: only its checks set the gauges. */
  readonly served: boolean;
  /** The model's estimator (`gbdt`, ...) when known, for the report. */
  readonly estimator: string | null;
}

/** A drift check to run, over `window` (default: the job's), with `options` over the job's. */
export interface DriftRequest extends CheckRequest {
  readonly window?: TimeWindow;
  /** Tests, thresholds and drift share that replace the job's (see `mergeDriftOptions`). */
  readonly options?: DriftOptions;
}

/** A performance check to run, over `windows` (default: the job's). */
export interface PerformanceRequest extends CheckRequest {
  readonly windows?: readonly TimeWindow[];
}

/** The check of a kind that is running. */
export interface RunningCheck {
  /** What it checks, in words (`drift of m version 2 over the last 24h`). */
  readonly description: string;
  readonly startedAt: number;
}

/** The message a failed check keeps: the error's own, clipped. */
function failureMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const text = message === '' ? 'the check failed without a message' : message;
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

/**
 * One kind of check, run one at a time. `run` starts it (or joins the same check running); `schedule`
 * runs it every interval for the model `target` names.
 */
export class MonitoringJob<R extends CheckRequest> {
  readonly kind: CheckKind;
  readonly #execute: (request: R) => Promise<MonitoringCheck>;
  readonly #describe: (request: R) => string;
  #running: (RunningCheck & { readonly key: string; readonly done: Promise<MonitoringCheck> }) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;

  constructor(
    kind: CheckKind,
    execute: (request: R) => Promise<MonitoringCheck>,
    describe: (request: R) => string,
  ) {
    this.kind = kind;
    this.#execute = execute;
    this.#describe = describe;
  }

  /** The check running now, if any. */
  get running(): RunningCheck | undefined {
    return this.#running && { description: this.#running.description, startedAt: this.#running.startedAt };
  }

  /**
   * Runs a check and answers it once stored. The same check already running is joined; another one of
   * this kind is refused with a 409 naming the one running.
   */
  run(request: R): Promise<MonitoringCheck> {
    const description = this.#describe(request);
    // The same check: same model version, same window(s), served or not.
    const key = JSON.stringify([description, request.served]);
    if (this.#running) {
      if (this.#running.key === key) return this.#running.done;
      throw new OnsetError(
        'INVALID_STATE',
        `A ${this.#running.description} has been running since ${new Date(this.#running.startedAt).toISOString()}; one ${this.kind} check runs at a time: ask again when it has finished (GET /api/onset/monitoring/checks lists the results), or ask for that same check to wait for its result`,
        { httpStatus: 409 },
      );
    }
    const done = this.#execute(request).finally(() => {
      this.#running = undefined;
    });
    this.#running = { key, description, startedAt: Date.now(), done };
    return done;
  }

  /**
   * Runs the check of `target()` (the served model; undefined: nothing to check, skipped) now and then
   * every `intervalMs`, one after another; a check of this kind already running is let be.
   */
  schedule(
    intervalMs: number,
    target: () => R | undefined,
    events: {
      readonly onChecked?: (check: MonitoringCheck) => void;
      readonly onSkipped?: (reason: string) => void;
      readonly onError?: (error: unknown) => void;
    } = {},
  ): void {
    if (this.#timer !== undefined) return;
    const tick = () => {
      if (this.#tick) return;
      this.#tick = (async () => {
        const request = target();
        if (request === undefined) {
          events.onSkipped?.('no registered model version is served');
          return;
        }
        if (this.#running) {
          events.onSkipped?.(`a ${this.#running.description} is running`);
          return;
        }
        events.onChecked?.(await this.run(request));
      })()
        .catch((error: unknown) => events.onError?.(error))
        .finally(() => {
          this.#tick = undefined;
        });
    };
    tick();
    this.#timer = setInterval(tick, intervalMs);
    this.#timer.unref();
  }

  /** Stops the schedule and waits for the check running, if any. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#tick;
    await this.#running?.done.catch(() => undefined);
  }
}

/** What the jobs read and write. */
export interface MonitoringJobStores {
  readonly log: PredictionLogStore;
  readonly checks: MonitoringCheckStore;
  readonly references: ModelReferences;
  /** The gauges set by the checks of the served version; none (the CLI, tests) sets nothing. */
  readonly gauges?: MonitoringGauges | undefined;
  /** The clock (ms); `Date.now` by default. */
  readonly now?: () => number;
}

/**
 * Stores a check that ran from `startedAt`: succeeded with its documents when `work` answered them,
 * failed with the error's message when it threw.
 */
async function recordRun(
  checks: MonitoringCheckStore,
  base: Pick<NewMonitoringCheck, 'kind' | 'model' | 'window' | 'startedAt'>,
  now: () => number,
  work: () => Promise<{
    readonly summary: NewMonitoringCheck['summary'];
    readonly result: NewMonitoringCheck['result'];
  }>,
): Promise<MonitoringCheck> {
  let outcome: Pick<NewMonitoringCheck, 'status' | 'error' | 'summary' | 'result'>;
  try {
    const { summary, result } = await work();
    outcome = { status: 'succeeded', error: null, summary, result };
  } catch (error) {
    outcome = { status: 'failed', error: failureMessage(error), summary: null, result: null };
  }
  return checks.recordCheck({ ...base, ...outcome, finishedAt: Math.max(base.startedAt, now()) });
}

/** The drift job: a window of the log against the version's reference profile (see `runDriftCheck`). */
export function driftJob(
  stores: MonitoringJobStores,
  settings: DriftCheckSettings,
): MonitoringJob<DriftRequest> {
  const now = stores.now ?? Date.now;
  const windowOf = (request: DriftRequest) => request.window ?? settings.window;
  return new MonitoringJob<DriftRequest>(
    'drift',
    async (request) => {
      const window = windowOf(request);
      const startedAt = now();
      const asked = { ...settings, window, options: mergeDriftOptions(settings.options, request.options) };
      return recordRun(
        stores.checks,
        {
          kind: 'drift',
          model: request.model,
          window: { from: startedAt - window.durationMs, to: startedAt },
          startedAt,
        },
        now,
        async () => {
          const reference = await stores.references.reference(request.model);
          const outcome = await runDriftCheck({
            log: stores.log,
            model: request.model,
            profile: reference.profile,
            settings: asked,
            now: startedAt,
          });
          const finishedAt = now();
          const documents = driftCheckDocuments(outcome, asked, {
            model: {
              uri: `models:/${request.model.name}/${request.model.version}`,
              name: request.model.name,
              version: request.model.version,
              runId: request.model.runId,
              estimator: request.estimator,
            },
            referenceSource: reference.source,
            currentSource: describeLogWindow(window, startedAt),
            computedAt: new Date(finishedAt).toISOString(),
            seconds: (finishedAt - startedAt) / 1000,
          });
          // Too few predictions: no verdict, the gauges keep what the last verdict set.
          if (request.served && outcome.outcome === 'checked') {
            stores.gauges?.setDrift(request.model, outcome.report, finishedAt);
          }
          return documents;
        },
      );
    },
    (request) => {
      const options = describeDriftOptions(mergeDriftOptions(settings.options, request.options));
      return `drift check of ${describeCheckedModel(request.model)} over the last ${windowOf(request).label}${options === '' ? '' : ` (${options})`}`;
    },
  );
}

/** The performance job: realized and estimated metrics over rolling windows (see `runPerformanceCheck`). */
export function performanceJob(
  stores: MonitoringJobStores,
  settings: PerformanceCheckSettings,
): MonitoringJob<PerformanceRequest> {
  const now = stores.now ?? Date.now;
  const windowsOf = (request: PerformanceRequest) => request.windows ?? settings.windows;
  return new MonitoringJob<PerformanceRequest>(
    'performance',
    async (request) => {
      const windows = windowsOf(request);
      const asked = { ...settings, windows };
      const startedAt = now();
      const longest = Math.max(...windows.map((window) => window.durationMs));
      return recordRun(
        stores.checks,
        {
          kind: 'performance',
          model: request.model,
          window: { from: startedAt - longest, to: startedAt },
          startedAt,
        },
        now,
        async () => {
          const estimator = await stores.references.estimator(request.model);
          const outcome = await runPerformanceCheck({
            log: stores.log,
            model: request.model,
            estimator,
            settings: asked,
            now: startedAt,
          });
          if (request.served) stores.gauges?.setPerformance(request.model, outcome, now());
          return performanceCheckDocuments(outcome, estimator, asked);
        },
      );
    },
    (request) =>
      `performance check of ${describeCheckedModel(request.model)} over ${windowsOf(request)
        .map((window) => window.label)
        .join(', ')}`,
  );
}
