import type { KeyValue, Run } from '../api/types.js';

/** A tag's value, or undefined. */
export function tagOf(tags: readonly KeyValue[] | undefined, key: string): string | undefined {
  return tags?.find((tag) => tag.key === key)?.value;
}

/** A run's latest value of each metric, by key. */
export function latestMetrics(run: Run): ReadonlyMap<string, number> {
  const latest = new Map<string, { value: number; step: number; timestamp: number }>();
  for (const metric of run.data.metrics ?? []) {
    const value = typeof metric.value === 'number' ? metric.value : Number(metric.value);
    const seen = latest.get(metric.key);
    if (
      !seen ||
      metric.step > seen.step ||
      (metric.step === seen.step && metric.timestamp >= seen.timestamp)
    ) {
      latest.set(metric.key, { value, step: metric.step, timestamp: metric.timestamp });
    }
  }
  return new Map([...latest].map(([key, entry]) => [key, entry.value]));
}

/** A run's name as people know it: its run name, else the start of its id. */
export function runName(run: Run): string {
  return run.info.run_name || tagOf(run.data.tags, 'mlflow.runName') || run.info.run_id.slice(0, 8);
}
