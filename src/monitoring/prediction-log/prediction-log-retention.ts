import type { PredictionLogStore } from './prediction-log-store.js';

/** How long and how much of the prediction log is kept. */
export interface RetentionPolicy {
  /** Predictions older than this go (ms); undefined: none goes for its age. */
  readonly maxAgeMs?: number | undefined;
  /** Only the latest this many are kept; undefined: no bound. */
  readonly maxRows?: number | undefined;
}

/** What one pass deleted: by age, then beyond the row limit (their labels went with them). */
export interface RetentionPass {
  readonly olderThan: number;
  readonly beyondRows: number;
}

/** Applies `policy` once: deletes the predictions past its age, then the oldest beyond its row limit. */
export async function applyRetention(
  store: PredictionLogStore,
  policy: RetentionPolicy,
  now: number = Date.now(),
): Promise<RetentionPass> {
  const olderThan = policy.maxAgeMs === undefined ? 0 : await store.deleteOlderThan(now - policy.maxAgeMs);
  const beyondRows = policy.maxRows === undefined ? 0 : await store.deleteBeyondRows(policy.maxRows);
  return { olderThan, beyondRows };
}

export interface RetentionJobOptions {
  /** Time between passes (ms). */
  readonly intervalMs: number;
  /** After each pass (to log what went). */
  readonly onPass?: (pass: RetentionPass) => void;
  /** A pass that failed (the next one tries again). */
  readonly onFailure?: (error: unknown) => void;
}

/**
 * The retention job of `onset up`: applies the policy once at start, then every `intervalMs`, one pass
 * at a time. Each pass deletes in short pieces (see the store), so serving and logging go on meanwhile.
 */
export class RetentionJob {
  readonly #store: PredictionLogStore;
  readonly #policy: RetentionPolicy;
  readonly #options: RetentionJobOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(store: PredictionLogStore, policy: RetentionPolicy, options: RetentionJobOptions) {
    this.#store = store;
    this.#policy = policy;
    this.#options = options;
  }

  /** Whether the policy limits anything (a job without limits has nothing to do). */
  get limited(): boolean {
    return this.#policy.maxAgeMs !== undefined || this.#policy.maxRows !== undefined;
  }

  start(): void {
    if (!this.limited || this.#timer !== undefined) return;
    void this.runNow();
    this.#timer = setInterval(() => void this.runNow(), this.#options.intervalMs);
    this.#timer.unref();
  }

  /** One pass now (or the one already running). */
  runNow(): Promise<void> {
    if (this.#running === undefined) {
      this.#running = applyRetention(this.#store, this.#policy)
        .then(
          (pass) => this.#options.onPass?.(pass),
          (error: unknown) => this.#options.onFailure?.(error),
        )
        .finally(() => {
          this.#running = undefined;
        });
    }
    return this.#running;
  }

  /** Stops the timer and waits for a pass that is running. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
