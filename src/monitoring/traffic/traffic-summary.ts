/**
 * Traffic over time from the prediction log: per time bucket, how many predictions, how many positive,
 * their latency (median, 95th percentile) and the spread of the predicted probability (10th, 50th, 90th
 * percentiles and the mean); over the whole window, a histogram of the probability and how many were
 * labelled. A pure function of the log's columns, so the API, the CLI and tests share it.
 */
import { quantileOfSorted } from '../../data/profile.js';

/** The log's columns a traffic summary reads, in time order. */
export interface TrafficColumns {
  readonly timestamp: Float64Array;
  readonly latencyMs: Float64Array;
  readonly probability: Float64Array;
  readonly diagnosis: Float64Array;
  /** The recorded diagnosis, NaN where there is none. */
  readonly label: Float64Array;
}

export interface TrafficBucket {
  /** Start of the bucket (ms since the Unix epoch); it lasts `stepMs`. */
  readonly start: number;
  readonly predictions: number;
  /** Predictions with diagnosis 1. */
  readonly positive: number;
  /** Predictions labelled by feedback so far. */
  readonly labelled: number;
  /** Null in an empty bucket. */
  readonly latencyMs: { readonly p50: number; readonly p95: number } | null;
  readonly probability: {
    readonly mean: number;
    readonly p10: number;
    readonly p50: number;
    readonly p90: number;
  } | null;
}

export interface TrafficSummary {
  readonly from: number;
  readonly to: number;
  readonly stepMs: number;
  readonly buckets: readonly TrafficBucket[];
  readonly predictions: number;
  readonly positive: number;
  readonly labelled: number;
  /** Counts of the probability in ten bins of width 0.1 ([0, 0.1), ..., [0.9, 1]). */
  readonly probabilityHistogram: readonly number[];
}

export const PROBABILITY_BINS = 10;

/**
 * Summarizes predictions made from `from` (inclusive) to `to` (exclusive) in `buckets` equal steps.
 * Rows outside the window are ignored.
 */
export function summarizeTraffic(
  columns: TrafficColumns,
  window: { readonly from: number; readonly to: number; readonly buckets: number },
): TrafficSummary {
  const { from, to, buckets } = window;
  if (!(to > from) || !Number.isInteger(buckets) || buckets < 1)
    throw new RangeError(`a traffic window needs to > from and a whole number of buckets, got ${buckets}`);
  const stepMs = (to - from) / buckets;
  const members: number[][] = Array.from({ length: buckets }, () => []);
  const histogram = new Array<number>(PROBABILITY_BINS).fill(0);
  let predictions = 0;
  let positive = 0;
  let labelled = 0;
  for (let row = 0; row < columns.timestamp.length; row++) {
    const time = columns.timestamp[row]!;
    if (time < from || time >= to) continue;
    members[Math.min(buckets - 1, Math.floor((time - from) / stepMs))]!.push(row);
    predictions++;
    if (columns.diagnosis[row] === 1) positive++;
    if (!Number.isNaN(columns.label[row]!)) labelled++;
    const probability = columns.probability[row]!;
    histogram[Math.min(PROBABILITY_BINS - 1, Math.max(0, Math.floor(probability * PROBABILITY_BINS)))]!++;
  }
  return {
    from,
    to,
    stepMs,
    predictions,
    positive,
    labelled,
    probabilityHistogram: histogram,
    buckets: members.map((rows, index) => {
      const start = from + index * stepMs;
      if (rows.length === 0) {
        return { start, predictions: 0, positive: 0, labelled: 0, latencyMs: null, probability: null };
      }
      const latency = Float64Array.from(rows, (row) => columns.latencyMs[row]!).sort();
      const probability = Float64Array.from(rows, (row) => columns.probability[row]!).sort();
      let sum = 0;
      for (const value of probability) sum += value;
      return {
        start,
        predictions: rows.length,
        positive: rows.filter((row) => columns.diagnosis[row] === 1).length,
        labelled: rows.filter((row) => !Number.isNaN(columns.label[row]!)).length,
        latencyMs: { p50: quantileOfSorted(latency, 0.5), p95: quantileOfSorted(latency, 0.95) },
        probability: {
          mean: sum / probability.length,
          p10: quantileOfSorted(probability, 0.1),
          p50: quantileOfSorted(probability, 0.5),
          p90: quantileOfSorted(probability, 0.9),
        },
      };
    }),
  };
}
