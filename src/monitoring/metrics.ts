import type { FastifyInstance, onResponseHookHandler } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { Type } from 'typebox';
import { answers, media } from '../http/route.js';
import { type CounterSeries, type HistogramSeries, HotCounter, HotHistogram } from './hot-metrics.js';
import {
  METRIC_PREFIX,
  PREDICTION_LOG_DROPPED,
  PREDICTION_LOG_QUEUE,
  PREDICTION_LOG_WRITTEN,
} from './metric-names.js';

/** Why the prediction log did not write a prediction (the `reason` of `onset_prediction_log_dropped_total`). */
export type PredictionLogDropReason = 'queue_full' | 'write_failed';

/**
 * The Prometheus metrics of an Onset process, in base units with `_total` counters: the default process
 * metrics (CPU, memory, event-loop lag, ...), HTTP requests by route, method and status, and the
 * serving metrics (inference time, predictions by model version and class, predicted probabilities,
 * validation errors by reason, values outside the training ranges by feature, the loaded model, reloads),
 * and the prediction log's writer (predictions written, dropped by reason, waiting). One registry per
 * instance, so tests and several apps in one process do not mix.
 */
export class OnsetMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new HotCounter(
    `${METRIC_PREFIX}http_requests_total`,
    'HTTP requests answered, by route, method and status code',
    this.registry,
  );
  readonly httpDuration = new HotHistogram(
    `${METRIC_PREFIX}http_request_duration_seconds`,
    'Time to answer an HTTP request, by route, method and status code',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    this.registry,
  );
  readonly inferenceDuration = new HotHistogram(
    `${METRIC_PREFIX}model_inference_duration_seconds`,
    'Time the model takes to score a request (one record or a batch)',
    [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    this.registry,
  );
  readonly predictions = new HotCounter(
    `${METRIC_PREFIX}predictions_total`,
    'Records scored, by model version and predicted class',
    this.registry,
  );
  readonly probability = new HotHistogram(
    `${METRIC_PREFIX}prediction_probability`,
    "Predicted probability of Parkinson's disease",
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    this.registry,
  );
  readonly validationErrors = new Counter({
    name: `${METRIC_PREFIX}validation_errors_total`,
    help: 'Problems found in prediction requests, by reason (missing, unknown_field, wrong_type, out_of_range, ...)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly outOfDistribution = new Counter({
    name: `${METRIC_PREFIX}out_of_distribution_total`,
    help: 'Feature values scored although outside the range the serving model was trained on, by feature',
    labelNames: ['feature'] as const,
    registers: [this.registry],
  });
  readonly modelInfo = new Gauge({
    name: `${METRIC_PREFIX}model_info`,
    help: 'The model being served (value 1), by name, version and stage',
    labelNames: ['name', 'version', 'stage'] as const,
    registers: [this.registry],
    // A cluster's processes serve the same version: 1, not one per process.
    aggregator: 'max',
  });
  readonly modelReloads = new Counter({
    name: `${METRIC_PREFIX}model_reloads_total`,
    help: 'Times a new model version was loaded and swapped in',
    registers: [this.registry],
  });
  readonly modelReloadFailures = new Counter({
    name: `${METRIC_PREFIX}model_reload_failures_total`,
    help: 'Times loading a new model version failed (the previous one kept serving)',
    registers: [this.registry],
  });

  readonly predictionLogWritten = new Counter({
    name: PREDICTION_LOG_WRITTEN,
    help: 'Predictions written to the prediction log',
    registers: [this.registry],
  });
  readonly predictionLogDropped = new HotCounter(
    PREDICTION_LOG_DROPPED,
    'Predictions not written to the prediction log, by reason: queue_full (the writer had fallen behind: the newest were dropped), write_failed (the database refused them)',
    this.registry,
  );
  readonly predictionLogQueue: Gauge = new Gauge({
    name: PREDICTION_LOG_QUEUE,
    help: 'Predictions waiting in memory to be written to the prediction log',
    registers: [this.registry],
    // Read when Prometheus scrapes, rather than set on every prediction.
    collect: () => this.predictionLogQueue.set(this.queuedLogRecords()),
  });
  private queuedLogRecords: () => number = () => 0;

  /** Drops by reason, as handles (a queue-full drop happens on the request path); both series exist from the start. */
  private readonly logDrops: Readonly<Record<PredictionLogDropReason, CounterSeries>> = {
    queue_full: this.predictionLogDropped.handle({ reason: 'queue_full' }),
    write_failed: this.predictionLogDropped.handle({ reason: 'write_failed' }),
  };

  /** Label children by key: looking a series up by its label object on every request costs more than serving it. */
  private readonly requestSeries = new Map<string, { count: CounterSeries; duration: HistogramSeries }>();
  private readonly predictionSeries = new Map<string, CounterSeries>();

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  /** Counts and times one answered HTTP request. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.requestSeries.get(key);
    if (!series) {
      const labels = { route, method, status: String(status) };
      series = { count: this.httpRequests.handle(labels), duration: this.httpDuration.handle(labels) };
      this.requestSeries.set(key, series);
    }
    series.count.inc();
    series.duration.observe(seconds);
  }

  /** Counts one scored record. */
  countPrediction(modelVersion: string, predictedClass: 0 | 1): void {
    const key = `${modelVersion} ${predictedClass}`;
    let series = this.predictionSeries.get(key);
    if (!series) {
      series = this.predictions.handle({
        model_version: modelVersion,
        predicted_class: String(predictedClass),
      });
      this.predictionSeries.set(key, series);
    }
    series.inc();
  }

  /** Counts predictions the prediction log did not write. */
  countLogDrops(reason: PredictionLogDropReason, count: number): void {
    this.logDrops[reason].inc(count);
  }

  /** Makes `onset_prediction_log_queue_records` read `queued` when Prometheus scrapes. */
  watchPredictionLogQueue(queued: () => number): void {
    this.queuedLogRecords = queued;
  }

  /** Records the model now served (the only `model_info` series set to 1). */
  setModel(model: { name: string | null; version: string | null; stage: string | null }): void {
    this.modelInfo.reset();
    this.modelInfo.set(
      { name: model.name ?? 'file', version: model.version ?? 'none', stage: model.stage ?? 'None' },
      1,
    );
  }
}

/** Route label of requests that matched no route (404s), recorded by the server's not-found handler. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Counts and times every request by its route pattern (not its URL: ids do not explode the label set),
 * and serves `GET /metrics`. Call it before the routes are declared: each route gets its own response
 * hook that already knows its pattern (reading `request.routeOptions` per request builds an object each
 * time, which cost the prediction routes a tenth of their throughput). Unmatched requests are recorded by
 * the not-found handler with `UNMATCHED_ROUTE`.
 */
export function instrumentHttp(
  app: FastifyInstance,
  metrics: OnsetMetrics,
  text: () => Promise<string> = () => metrics.registry.metrics(),
): void {
  app.addHook('onRoute', (route) => {
    const url = route.url;
    const observe: onResponseHookHandler = (request, reply, done) => {
      metrics.observeRequest(url, request.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    const existing = route.onResponse;
    route.onResponse =
      existing === undefined ? [observe] : [...(Array.isArray(existing) ? existing : [existing]), observe];
  });
  app.get(
    '/metrics',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics in the text exposition format (scraped by Prometheus)',
        response: answers(media('text/plain', Type.String())),
      },
    },
    async (_request, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return text();
    },
  );
}
