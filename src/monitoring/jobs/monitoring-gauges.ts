import { Gauge, type Registry } from 'prom-client';
import type { CheckedModel } from '../checks/monitoring-check-store.js';
import type { DriftReport } from '../drift/compute-drift.js';
import {
  DRIFT_DATASET,
  DRIFT_FEATURE_DRIFTED,
  DRIFT_FEATURE_PSI,
  DRIFT_FEATURE_SCORE,
  DRIFT_LAST_SUCCESS,
  DRIFT_PREDICTION_DRIFTED,
  DRIFT_PREDICTION_SCORE,
  DRIFT_SHARE,
  ESTIMATE_BOUNDS,
  ESTIMATED_METRICS,
  type GaugeDescriptor,
  PERFORMANCE_ESTIMATED,
  PERFORMANCE_LABELLED_RECORDS,
  PERFORMANCE_LAST_SUCCESS,
  PERFORMANCE_REALIZED,
  PERFORMANCE_WINDOW_RECORDS,
  REALIZED_METRICS,
} from '../metric-names.js';
import type { PerformanceCheckOutcome } from './performance-check.js';

type Labels = Readonly<Record<string, string>>;

/**
 * One gauge of the monitoring jobs whose series are replaced a model at a time: a check sets every
 * series of its model at once, and the series it does not set (another version's, a metric now
 * undefined, a test no longer chosen) go, so no value outlives the check that set it.
 */
class ModelSeries {
  readonly #gauge: Gauge;
  readonly #labelNames: readonly string[];
  /** The label sets set, by model name. */
  readonly #byModel = new Map<string, Labels[]>();

  constructor(descriptor: GaugeDescriptor, registry: Registry) {
    this.#labelNames = descriptor.labelNames;
    this.#gauge = new Gauge({
      name: descriptor.name,
      help: descriptor.help,
      labelNames: [...descriptor.labelNames],
      registers: [registry],
    });
  }

  /** Replaces every series of `model` with `series` (non-finite values leave theirs out). */
  replace(model: string, series: readonly (readonly [Labels, number])[]): void {
    this.forget(model);
    const kept: Labels[] = [];
    for (const [labels, value] of series) {
      if (!Number.isFinite(value)) continue;
      // In the descriptor's order (as the exposition then writes them).
      const given: Labels = { ...labels, model };
      const all = Object.fromEntries(this.#labelNames.map((name) => [name, given[name] ?? '']));
      this.#gauge.set(all, value);
      kept.push(all);
    }
    this.#byModel.set(model, kept);
  }

  /** Removes the series of `model`, or only those of its versions other than `keepVersion`. */
  forget(model: string, keepVersion?: string): void {
    const set = this.#byModel.get(model) ?? [];
    const kept: Labels[] = [];
    for (const labels of set) {
      if (keepVersion !== undefined && labels.version === keepVersion) kept.push(labels);
      else this.#gauge.remove(labels);
    }
    this.#byModel.set(model, kept);
  }
}

/**
 * The gauges of the drift and performance jobs (names and labels in `metric-names.ts`), registered in
 * the process's registry (`OnsetMetrics.registry`). They describe the served model: a check of its
 * version replaces every series of the model (a previous version's go with them), and
 * `servedVersion` drops the previous versions' as soon as another version is served.
 */
export class MonitoringGauges {
  readonly #drift: readonly ModelSeries[];
  readonly #performance: readonly ModelSeries[];
  readonly #driftShare: ModelSeries;
  readonly #driftDataset: ModelSeries;
  readonly #featureScore: ModelSeries;
  readonly #featureDrifted: ModelSeries;
  readonly #featurePsi: ModelSeries;
  readonly #predictionDrifted: ModelSeries;
  readonly #predictionScore: ModelSeries;
  readonly #realized: ModelSeries;
  readonly #labelled: ModelSeries;
  readonly #windowRecords: ModelSeries;
  readonly #estimated: ModelSeries;
  readonly #driftLastSuccess: Gauge;
  readonly #performanceLastSuccess: Gauge;

  constructor(registry: Registry) {
    const series = (descriptor: GaugeDescriptor) => new ModelSeries(descriptor, registry);
    this.#driftShare = series(DRIFT_SHARE);
    this.#driftDataset = series(DRIFT_DATASET);
    this.#featureScore = series(DRIFT_FEATURE_SCORE);
    this.#featureDrifted = series(DRIFT_FEATURE_DRIFTED);
    this.#featurePsi = series(DRIFT_FEATURE_PSI);
    this.#predictionDrifted = series(DRIFT_PREDICTION_DRIFTED);
    this.#predictionScore = series(DRIFT_PREDICTION_SCORE);
    this.#realized = series(PERFORMANCE_REALIZED);
    this.#labelled = series(PERFORMANCE_LABELLED_RECORDS);
    this.#windowRecords = series(PERFORMANCE_WINDOW_RECORDS);
    this.#estimated = series(PERFORMANCE_ESTIMATED);
    this.#drift = [
      this.#driftShare,
      this.#driftDataset,
      this.#featureScore,
      this.#featureDrifted,
      this.#featurePsi,
      this.#predictionDrifted,
      this.#predictionScore,
    ];
    this.#performance = [this.#realized, this.#labelled, this.#windowRecords, this.#estimated];
    const lastSuccess = (descriptor: GaugeDescriptor) =>
      new Gauge({
        name: descriptor.name,
        help: descriptor.help,
        labelNames: [...descriptor.labelNames],
        registers: [registry],
      });
    this.#driftLastSuccess = lastSuccess(DRIFT_LAST_SUCCESS);
    this.#performanceLastSuccess = lastSuccess(PERFORMANCE_LAST_SUCCESS);
  }

  /** Sets the drift gauges of `model` from a check's report, and the time of the last success (ms). */
  setDrift(model: CheckedModel, report: DriftReport, finishedAt: number): void {
    const version = { version: model.version };
    this.#driftShare.replace(model.name, [[version, report.dataset.share]]);
    this.#driftDataset.replace(model.name, [[version, report.dataset.drifted ? 1 : 0]]);
    this.#featureScore.replace(
      model.name,
      report.features.flatMap((feature) =>
        feature.score === null
          ? []
          : [[{ ...version, feature: feature.column, test: feature.test }, feature.score]],
      ),
    );
    this.#featureDrifted.replace(
      model.name,
      report.features.map((feature) => [{ ...version, feature: feature.column }, feature.drifted ? 1 : 0]),
    );
    this.#featurePsi.replace(
      model.name,
      report.features.flatMap((feature) =>
        feature.psi === null ? [] : [[{ ...version, feature: feature.column }, feature.psi]],
      ),
    );
    const prediction = report.prediction;
    this.#predictionDrifted.replace(model.name, prediction ? [[version, prediction.drifted ? 1 : 0]] : []);
    this.#predictionScore.replace(
      model.name,
      prediction && prediction.score !== null
        ? [[{ ...version, test: prediction.test }, prediction.score]]
        : [],
    );
    this.#driftLastSuccess.set({ model: model.name }, finishedAt / 1000);
  }

  /** Sets the performance gauges of `model` from a check, and the time of the last success (ms). */
  setPerformance(model: CheckedModel, outcome: PerformanceCheckOutcome, finishedAt: number): void {
    const version = { version: model.version };
    const realized: [Labels, number][] = [];
    const labelled: [Labels, number][] = [];
    const records: [Labels, number][] = [];
    const estimated: [Labels, number][] = [];
    for (const window of outcome.windows) {
      const at = { ...version, window: window.window };
      labelled.push([at, window.realized.records]);
      records.push([at, window.records]);
      for (const metric of REALIZED_METRICS) {
        const value = window.realized.metrics[metric].value;
        if (value !== null) realized.push([{ ...at, metric }, value]);
      }
      for (const metric of ESTIMATED_METRICS) {
        const estimate = window.estimated?.metrics[metric];
        if (!estimate || estimate.estimate === null) continue;
        for (const bound of ESTIMATE_BOUNDS) {
          const value = estimate[bound];
          if (value !== null) estimated.push([{ ...at, metric, bound }, value]);
        }
      }
    }
    this.#realized.replace(model.name, realized);
    this.#labelled.replace(model.name, labelled);
    this.#windowRecords.replace(model.name, records);
    this.#estimated.replace(model.name, estimated);
    this.#performanceLastSuccess.set({ model: model.name }, finishedAt / 1000);
  }

  /** Another version of `name` is served: the series of its other versions go. */
  servedVersion(name: string, version: string): void {
    for (const series of [...this.#drift, ...this.#performance]) series.forget(name, version);
  }
}
