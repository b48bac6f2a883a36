import { Type } from 'typebox';
import { invalidParameter } from '../../errors.js';
import { Int64, int64 } from '../../http/fields.js';
import { answers, type RoutePlugin } from '../../http/route.js';
import type { PredictionLogStore } from '../prediction-log/prediction-log-store.js';
import { parseWindow } from '../time-window.js';
import { PROBABILITY_BINS, summarizeTraffic } from './traffic-summary.js';

export interface TrafficApiOptions {
  readonly store: PredictionLogStore;
  /** The most predictions one summary reads, the latest of the window (default 1,000,000). */
  readonly maxRows?: number;
}

const DEFAULT_MAX_ROWS = 1_000_000;
const MAX_BUCKETS = 500;

const Quantiles = (description: string, names: readonly string[]) =>
  Type.Union([Type.Object(Object.fromEntries(names.map((name) => [name, Type.Number()]))), Type.Null()], {
    description,
  });

/**
 * `GET /api/onset/monitoring/traffic`: the prediction log's traffic over a window, in buckets (what the
 * web UI's monitoring page draws): predictions, positives, labelled, latency and the spread of the
 * predicted probability per bucket, and a histogram of the probability over the window.
 */
export const trafficApi: RoutePlugin<TrafficApiOptions> = async (app, options) => {
  const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
  app.get(
    '/api/onset/monitoring/traffic',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['monitoring'],
        summary:
          'Predictions over time from the prediction log: per bucket, count, positives, labelled, latency p50/p95 and the probability mean and p10/p50/p90; a probability histogram over the window',
        querystring: Type.Object(
          {
            window: Type.Optional(
              Type.String({ description: 'how far back from now: 1h, 24h, 7d, ... (default 24h)' }),
            ),
            buckets: Type.Optional(Int64),
            model: Type.Optional(
              Type.String({ description: 'only this registered model (default: every model)' }),
            ),
            version: Type.Optional(Type.String({ description: 'only this version of the model' })),
          },
          { additionalProperties: false },
        ),
        response: answers(
          Type.Object({
            from: Type.Integer({ description: 'start of the window (ms since the Unix epoch)' }),
            to: Type.Integer({ description: 'end of the window (now, ms)' }),
            step_ms: Type.Number({ description: 'length of a bucket (ms)' }),
            predictions: Type.Integer(),
            positive: Type.Integer({ description: 'predictions with diagnosis 1' }),
            labelled: Type.Integer({
              description: 'predictions with a diagnosis recorded by POST /feedback',
            }),
            probability_histogram: Type.Array(Type.Integer(), {
              description: `counts of the probability in ${PROBABILITY_BINS} bins of width ${1 / PROBABILITY_BINS}`,
            }),
            read_from: Type.Union([Type.Integer(), Type.Null()], {
              description: `when the window holds more than ${maxRows} predictions, only the latest are read: the time of the earliest read (null when the whole window was)`,
            }),
            buckets: Type.Array(
              Type.Object({
                start: Type.Number({ description: 'start of the bucket (ms)' }),
                predictions: Type.Integer(),
                positive: Type.Integer(),
                labelled: Type.Integer(),
                latency_ms: Quantiles('null in an empty bucket', ['p50', 'p95']),
                probability: Quantiles('null in an empty bucket', ['mean', 'p10', 'p50', 'p90']),
              }),
            ),
          }),
        ),
      },
    },
    async ({ query }, reply) => {
      reply.header('cache-control', 'no-store');
      if (query.version && !query.model)
        throw invalidParameter('version names a version of a model: send model with it');
      const buckets = int64(query.buckets) ?? 48;
      if (buckets < 1 || buckets > MAX_BUCKETS) {
        throw invalidParameter(
          `buckets is the number of time steps the window is cut into, from 1 to ${MAX_BUCKETS}; got ${buckets}`,
        );
      }
      const window = parseWindow(query.window ?? '24h');
      const to = Date.now();
      const from = to - window.durationMs;
      const read = await options.store.readColumns(
        {
          from,
          to,
          ...(query.model ? { modelName: query.model } : {}),
          ...(query.version ? { modelVersion: query.version } : {}),
        },
        ['timestamp', 'latencyMs', 'probability', 'diagnosis', 'label'],
        { maxRows },
      );
      const summary = summarizeTraffic(read.columns, { from, to, buckets });
      return {
        from,
        to,
        step_ms: summary.stepMs,
        predictions: summary.predictions,
        positive: summary.positive,
        labelled: summary.labelled,
        probability_histogram: [...summary.probabilityHistogram],
        read_from: read.rows === maxRows ? read.columns.timestamp[0]! : null,
        buckets: summary.buckets.map((bucket) => ({
          start: bucket.start,
          predictions: bucket.predictions,
          positive: bucket.positive,
          labelled: bucket.labelled,
          latency_ms: bucket.latencyMs,
          probability: bucket.probability,
        })),
      };
    },
  );
};
