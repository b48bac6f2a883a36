import type { Metric, Registry } from 'prom-client';

/**
 * Counters and histograms for the per-request path. prom-client's own ones hash their label object on
 * every update; these are updated through a series handle (two additions and a bucket search) and are
 * written out by the same registry, in the same text format, when Prometheus scrapes.
 */
type Labels = Readonly<Record<string, string>>;

interface MetricValue {
  readonly labels: Labels;
  readonly value: number;
  readonly metricName?: string;
}

abstract class HotMetric<Series> {
  protected readonly series = new Map<string, { labels: Labels; state: Series }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    registry: Registry,
  ) {
    // The registry only calls get() (and reset()) on what it holds.
    registry.registerMetric(this as unknown as Metric);
  }

  protected abstract create(): Series;

  /** The state of one label set, created on first use; keep the handle for repeated updates. */
  protected stateOf(labels: Labels): Series {
    const key = JSON.stringify(labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels: { ...labels }, state: this.create() };
      this.series.set(key, entry);
    }
    return entry.state;
  }

  reset(): void {
    this.series.clear();
  }

  protected abstract values(): MetricValue[];

  /** prom-client's metric shape, for the registry's text and JSON output. */
  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    values: MetricValue[];
    aggregator: string;
  }> {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: 'sum' };
  }
}

export interface CounterSeries {
  inc(amount?: number): void;
}

export class HotCounter extends HotMetric<{ value: number }> {
  constructor(name: string, help: string, registry: Registry) {
    super(name, help, 'counter', registry);
  }

  protected create(): { value: number } {
    return { value: 0 };
  }

  /** A handle that adds to the series of `labels`. */
  handle(labels: Labels = {}): CounterSeries {
    const state = this.stateOf(labels);
    return {
      inc(amount = 1) {
        state.value += amount;
      },
    };
  }

  protected values(): MetricValue[] {
    return [...this.series.values()].map(({ labels, state }) => ({ labels, value: state.value }));
  }
}

export interface HistogramSeries {
  observe(value: number): void;
}

interface HistogramState {
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export class HotHistogram extends HotMetric<HistogramState> {
  private readonly bounds: Float64Array;
  private unlabelled: HistogramSeries | undefined;

  constructor(name: string, help: string, buckets: readonly number[], registry: Registry) {
    super(name, help, 'histogram', registry);
    this.bounds = Float64Array.from([...buckets].sort((a, b) => a - b));
  }

  protected create(): HistogramState {
    return { counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  /** A handle that observes into the series of `labels`. */
  handle(labels: Labels = {}): HistogramSeries {
    const state = this.stateOf(labels);
    const bounds = this.bounds;
    return {
      observe(value: number) {
        let bucket = 0;
        while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
        state.counts[bucket]! += 1;
        state.sum += value;
        state.count += 1;
      },
    };
  }

  /** Observes into the series without labels. */
  observe(value: number): void {
    if (this.unlabelled === undefined) this.unlabelled = this.handle();
    this.unlabelled.observe(value);
  }

  protected values(): MetricValue[] {
    const values: MetricValue[] = [];
    for (const { labels, state } of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += state.counts[i]!;
        values.push({
          labels: { le: String(bound), ...labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      values.push({
        labels: { le: '+Inf', ...labels },
        value: state.count,
        metricName: `${this.name}_bucket`,
      });
      values.push({ labels, value: state.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: state.count, metricName: `${this.name}_count` });
    }
    return values;
  }
}
