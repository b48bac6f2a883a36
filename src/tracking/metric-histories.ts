import { invalidParameter } from '../errors.js';
import type { Metric } from './entities.js';
import type { TrackingStore } from './tracking-store.js';

/**
 * One metric's histories across several runs, as MLflow's UI reads them (`metrics/get-history-bulk` and
 * `metrics/get-history-bulk-interval`), built on `TrackingStore.getMetricHistory`.
 */

/** A logged metric value and the run it belongs to (MLflow's MetricWithRunId). */
export interface MetricOfRun extends Metric {
  readonly runId: string;
}

/** MLflow's limits of the bulk calls. */
export const BULK_HISTORY_LIMITS = {
  /** Runs per call. */
  runs: 100,
  /** Values a `get-history-bulk` call returns at most (and by default). */
  values: 25_000,
  /** Steps a `get-history-bulk-interval` call samples at most (and by default). */
  sampledSteps: 2_500,
  /** Values per run a `get-history-bulk-interval` call returns at most. */
  valuesPerRun: 25_000,
} as const;

const PAGE = 25_000;

/** Every logged value of `key` in the run, in the store's order (step, then timestamp). */
export async function fullMetricHistory(
  tracking: TrackingStore,
  runId: string,
  key: string,
): Promise<Metric[]> {
  const values: Metric[] = [];
  let pageToken: string | undefined;
  do {
    const page = await tracking.getMetricHistory(runId, key, {
      maxResults: PAGE,
      ...(pageToken ? { pageToken } : {}),
    });
    values.push(...page.items);
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return values;
}

/** MLflow's words for too many runs, which differ between its two calls. */
function checkRunCount(runIds: readonly string[], limit: (max: number) => string): void {
  if (runIds.length > BULK_HISTORY_LIMITS.runs) {
    throw invalidParameter(`${limit(BULK_HISTORY_LIMITS.runs)} Received ${runIds.length} run_ids.`);
  }
}

/** Ascending; NaN after every number (a total order, unlike `<`). */
function compareNumbers(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

const byNumbers =
  (...fields: readonly ('timestamp' | 'step' | 'value')[]) =>
  (a: Metric, b: Metric): number => {
    for (const field of fields) {
      const order = compareNumbers(a[field], b[field]);
      if (order !== 0) return order;
    }
    return 0;
  };

/**
 * MLflow's `get-history-bulk`: every value of `key` in each run (runs by id, each run's values by timestamp,
 * step and value), at most `maxResults` in all (default and cap 25,000).
 */
export async function metricHistoryBulk(
  tracking: TrackingStore,
  query: { readonly runIds: readonly string[]; readonly key: string; readonly maxResults?: number },
): Promise<MetricOfRun[]> {
  if (query.runIds.length === 0) {
    throw invalidParameter('GetMetricHistoryBulk request must specify at least one run_id.');
  }
  checkRunCount(
    query.runIds,
    (max) => `GetMetricHistoryBulk request cannot specify more than ${max} run_ids.`,
  );
  const limit = Math.min(query.maxResults ?? BULK_HISTORY_LIMITS.values, BULK_HISTORY_LIMITS.values);
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw invalidParameter(`Invalid max_results ${query.maxResults}: a positive integer is required`);
  }
  const result: MetricOfRun[] = [];
  for (const runId of [...new Set(query.runIds)].sort()) {
    if (result.length >= limit) break;
    const history = await fullMetricHistory(tracking, runId, query.key);
    history.sort(byNumbers('timestamp', 'step', 'value'));
    for (const metric of history) result.push({ ...metric, runId });
  }
  return result.slice(0, limit);
}

/**
 * At most about `maxResults` of the sorted distinct `steps` within [start, end], evenly spaced by position,
 * always with the last one in the range (MLflow 3's sampling; MLflow 2.12's could drop points when the
 * range starts past the first step).
 */
export function sampleSteps(
  steps: readonly number[],
  start: number,
  end: number,
  maxResults: number,
): Set<number> {
  let first = 0;
  while (first < steps.length && steps[first]! < start) first += 1;
  let after = first;
  while (after < steps.length && steps[after]! <= end) after += 1;
  const count = after - first;
  if (count <= maxResults) return new Set(steps.slice(first, after));
  const interval = count / maxResults;
  const sampled = new Set<number>();
  for (let i = 0; i < maxResults; i += 1) {
    const index = first + Math.floor(i * interval);
    if (index < after) sampled.add(steps[index]!);
  }
  sampled.add(steps[after - 1]!);
  return sampled;
}

export interface SampledHistoryQuery {
  readonly runIds: readonly string[];
  readonly key: string;
  /** How many steps to sample (1 to 2,500; default 2,500). */
  readonly maxResults?: number;
  /** The step range, both given or neither (then: from 0 to the highest step logged). */
  readonly startStep?: number;
  readonly endStep?: number;
}

/**
 * MLflow's `get-history-bulk-interval`: the values of `key` at sampled steps of several runs, for charts.
 * The steps are sampled from every step any of the runs logged within the range (see `sampleSteps`), and
 * each run's first and last step in the range is kept. Values come run by run in the order asked, each
 * run's by step, timestamp and value, at most 25,000 per run.
 */
export async function sampledMetricHistories(
  tracking: TrackingStore,
  query: SampledHistoryQuery,
): Promise<MetricOfRun[]> {
  checkRunCount(
    query.runIds,
    (max) => `GetMetricHistoryBulkInterval request must specify at most ${max} run_ids.`,
  );
  const maxResults = query.maxResults ?? BULK_HISTORY_LIMITS.sampledSteps;
  if (!Number.isSafeInteger(maxResults) || maxResults < 1 || maxResults > BULK_HISTORY_LIMITS.sampledSteps) {
    throw invalidParameter(`max_results must be between 1 and ${BULK_HISTORY_LIMITS.sampledSteps}.`);
  }
  const { startStep, endStep } = query;
  if ((startStep === undefined) !== (endStep === undefined)) {
    throw invalidParameter('If either start step or end step are specified, both must be specified.');
  }
  if (startStep !== undefined && endStep !== undefined && startStep > endStep) {
    throw invalidParameter(
      `end_step must be greater than start_step. Found start_step=${startStep} and end_step=${endStep}.`,
    );
  }
  const histories = new Map<string, Metric[]>();
  for (const runId of query.runIds) {
    if (!histories.has(runId)) histories.set(runId, await fullMetricHistory(tracking, runId, query.key));
  }
  const allSteps = [...new Set([...histories.values()].flatMap((history) => history.map((m) => m.step)))];
  allSteps.sort((a, b) => a - b);
  const start = startStep ?? 0;
  const end = endStep ?? allSteps.at(-1) ?? 0;
  const steps = sampleSteps(allSteps, start, end, maxResults);
  // Each run's first and last step in the range, so that no run's line is cut short.
  for (const history of histories.values()) {
    if (history.length === 0) continue;
    let lowest = history[0]!.step;
    let highest = lowest;
    for (const { step } of history) {
      if (step < lowest) lowest = step;
      if (step > highest) highest = step;
    }
    for (const step of [lowest, highest]) if (step >= start && step <= end) steps.add(step);
  }
  const result: MetricOfRun[] = [];
  for (const runId of query.runIds) {
    const values = histories
      .get(runId)!
      .filter((metric) => steps.has(metric.step))
      .sort(byNumbers('step', 'timestamp', 'value'))
      .slice(0, BULK_HISTORY_LIMITS.valuesPerRun);
    for (const metric of values) result.push({ ...metric, runId });
  }
  return result;
}
