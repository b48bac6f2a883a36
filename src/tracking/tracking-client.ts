/**
 * Convenience calls over `TrackingStore.logBatch`, the one write primitive for run data: each call is one
 * batch, so each is atomic and checked against the same limits and rules (params are write-once).
 */
import type { Metric, Param, Tag } from './entities.js';
import type { TrackingStore } from './tracking-store.js';

/** Logs one metric value. `timestamp` defaults to now (ms), `step` to 0. */
export function logMetric(
  store: TrackingStore,
  runId: string,
  key: string,
  value: number,
  options: { step?: number; timestamp?: number } = {},
): Promise<void> {
  const metric: Metric = { key, value, step: options.step ?? 0, timestamp: options.timestamp ?? Date.now() };
  return store.logBatch(runId, { metrics: [metric] });
}

/** Logs several metrics at one step and timestamp (defaults: step 0, now), in one batch. */
export function logMetrics(
  store: TrackingStore,
  runId: string,
  values: Readonly<Record<string, number>>,
  options: { step?: number; timestamp?: number } = {},
): Promise<void> {
  const step = options.step ?? 0;
  const timestamp = options.timestamp ?? Date.now();
  const metrics: Metric[] = Object.entries(values).map(([key, value]) => ({ key, value, step, timestamp }));
  return store.logBatch(runId, { metrics });
}

/** Logs one param; logging another value for an existing key is INVALID_PARAMETER_VALUE. */
export function logParam(store: TrackingStore, runId: string, key: string, value: string): Promise<void> {
  const param: Param = { key, value };
  return store.logBatch(runId, { params: [param] });
}

/** Logs several params in one batch (at most 100). */
export function logParams(
  store: TrackingStore,
  runId: string,
  values: Readonly<Record<string, string>>,
): Promise<void> {
  return store.logBatch(runId, { params: Object.entries(values).map(([key, value]) => ({ key, value })) });
}

/** Sets (or overwrites) one run tag. */
export function setTag(store: TrackingStore, runId: string, key: string, value: string): Promise<void> {
  const tag: Tag = { key, value };
  return store.logBatch(runId, { tags: [tag] });
}
