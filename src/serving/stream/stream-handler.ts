/**
 * The stream path's handler: a batch of Kinesis records in the original service's shape
 * (`{"data": {<the 32 features>}, "patient_id": "..."}`, base64), scored at once by one model, one
 * output record per input written to the output stream, and every record that cannot be scored written
 * to the dead-letter stream with the reason and its original payload. The Lambda function
 * (`lambda.ts`), `onset lambda serve` and `onset stream` all run this one handler.
 *
 * What Lambda's event source mapping with `ReportBatchItemFailures` should retry is answered as
 * `batchItemFailures`: the records whose output (or dead letter) could not be written after the
 * retries. A bad record never fails the batch: it is written to the dead-letter stream and done.
 */
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { FEATURE_NAMES } from '../../data/schema.js';
import { createMatrix } from '../../math/matrix.js';
import type { PredictionRecorder } from '../../monitoring/prediction-log/prediction-log-writer.js';
import {
  decisionThresholdOf,
  loggedModelOf,
  predictionSetOf,
  probabilityIntervalOf,
  trainingRangesOf,
} from '../model-facts.js';
import type { ServedModel } from '../model-source.js';
import { checkRecord } from '../record.js';
import type { OutgoingRecord, RecordOutput } from './kinesis-output.js';

/** What the handler logs: counts and reasons, never a feature value or a patient id. */
export interface StreamLogger {
  info(fields: Readonly<Record<string, unknown>>, message: string): void;
  warn(fields: Readonly<Record<string, unknown>>, message: string): void;
}

export interface StreamHandlerOptions {
  /** The model that scores a batch (asked once per batch). */
  readonly model: () => ServedModel;
  readonly output: RecordOutput;
  readonly deadLetter: RecordOutput;
  /** The prediction log, when it is on: each scored record is recorded as source `stream`. */
  readonly recorder?: PredictionRecorder;
  readonly logger?: StreamLogger;
}

/** One output record, in the original service's shape with the model's run id and the prediction's id. */
export interface StreamPrediction {
  readonly model: string | null;
  readonly version: string | null;
  readonly run_id: string | null;
  readonly prediction: {
    readonly patient_id: string | null;
    readonly probability: number;
    /** 1 when the probability is at least the model's decision threshold. */
    readonly diagnosis: 0 | 1;
    readonly threshold: number;
    readonly prediction_id?: string;
    /** The diagnoses the model cannot rule out at its conformal level (absent without prediction sets). */
    readonly prediction_set?: readonly (0 | 1)[];
    /** The Venn-Abers pair around the probability (absent unless the model is calibrated by Venn-Abers). */
    readonly probability_interval?: readonly [number, number];
  };
}

/** A record that could not be scored, as the dead-letter stream receives it. */
export interface DeadLetter {
  readonly reason: string;
  readonly problems: readonly { readonly field: string; readonly message: string }[];
  readonly source: {
    readonly sequence_number: string;
    readonly partition_key: string;
    readonly event_source_arn?: string;
  };
  /** The record's data as it came, base64. */
  readonly payload: string;
  readonly received_at: string;
}

/** A record's payload read as JSON, or why it could not be. */
function parsePayload(data: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  const text = Buffer.from(data, 'base64').toString('utf8');
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: `the record is not JSON: ${(error as Error).message}` };
  }
}

const encode = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));

export type StreamHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

/** The handler (see the module's comment). */
export function createStreamHandler(options: StreamHandlerOptions): StreamHandler {
  const { output, deadLetter, recorder, logger } = options;
  return async (event) => {
    const records = event.Records ?? [];
    const served = options.model();
    const ranges = trainingRangesOf(served).ranges;
    const cols = FEATURE_NAMES.length;
    const data = new Float64Array(records.length * cols);
    /** Per scored record: its index in the batch and its patient id. */
    const scored: { index: number; patientId: string | null }[] = [];
    const dead: { index: number; letter: DeadLetter }[] = [];
    const receivedAt = new Date().toISOString();
    records.forEach((record, index) => {
      const { kinesis } = record;
      const deadLetterOf = (reason: string, problems: DeadLetter['problems']): DeadLetter => ({
        reason,
        problems,
        source: {
          sequence_number: kinesis.sequenceNumber,
          partition_key: kinesis.partitionKey,
          ...(record.eventSourceARN ? { event_source_arn: record.eventSourceARN } : {}),
        },
        payload: kinesis.data,
        received_at: receivedAt,
      });
      const parsed = parsePayload(kinesis.data);
      if (!parsed.ok) {
        dead.push({ index, letter: deadLetterOf(parsed.reason, []) });
        return;
      }
      const out = data.subarray(scored.length * cols, (scored.length + 1) * cols);
      const check = checkRecord(parsed.value, ranges, out);
      if (!check.ok) {
        const problems = check.problems.map((problem) => ({
          field: problem.field,
          message: problem.message,
        }));
        const reason = `not a valid prediction record: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`;
        dead.push({ index, letter: deadLetterOf(reason, problems) });
        return;
      }
      scored.push({ index, patientId: check.record.patientId });
    });

    const started = performance.now();
    const probabilities =
      scored.length === 0
        ? new Float64Array(0)
        : served.model.predictProba(
            createMatrix(data.subarray(0, scored.length * cols), scored.length, cols),
          );
    const scoringMs = performance.now() - started;
    const latencyMs = scored.length === 0 ? 0 : scoringMs / scored.length;
    const threshold = decisionThresholdOf(served).value;
    const outputs: OutgoingRecord[] = scored.map(({ index, patientId }, i) => {
      const probability = probabilities[i]!;
      const diagnosis: 0 | 1 = probability >= threshold ? 1 : 0;
      const predictionId = recorder?.record({
        model: loggedModelOf(served),
        // The recorder copies them as it records: a view is enough.
        features: data.subarray(i * cols, (i + 1) * cols),
        probability,
        diagnosis,
        latencyMs,
        source: 'stream',
        patientId,
      });
      const prediction: StreamPrediction = {
        model: served.name,
        version: served.version,
        run_id: served.runId,
        prediction: {
          patient_id: patientId,
          probability,
          diagnosis,
          threshold,
          ...(predictionId === undefined ? {} : { prediction_id: predictionId }),
          ...predictionSetOf(served, probability, data.subarray(i * cols, (i + 1) * cols)),
          ...probabilityIntervalOf(served, data.subarray(i * cols, (i + 1) * cols)),
        },
      };
      return { data: encode(prediction), partitionKey: records[index]!.kinesis.partitionKey };
    });
    const letters: OutgoingRecord[] = dead.map(({ index, letter }) => ({
      data: encode(letter),
      partitionKey: records[index]!.kinesis.partitionKey,
    }));

    const [written, deadWritten] = await Promise.all([output.put(outputs), deadLetter.put(letters)]);
    const failedIndexes = [
      ...written.failed.map((failure) => ({ index: scored[failure.index]!.index, reason: failure.reason })),
      ...deadWritten.failed.map((failure) => ({ index: dead[failure.index]!.index, reason: failure.reason })),
    ].sort((a, b) => a.index - b.index);
    logger?.info(
      {
        records: records.length,
        scored: scored.length,
        dead_lettered: dead.length,
        failed: failedIndexes.length,
        scoring_ms: Math.round(scoringMs * 1000) / 1000,
        model: served.name,
        version: served.version,
        run_id: served.runId,
      },
      'stream batch handled',
    );
    if (failedIndexes.length > 0) {
      logger?.warn(
        { failed: failedIndexes.length, first_reason: failedIndexes[0]!.reason },
        'records not written after retries: reported as batch item failures',
      );
    }
    return {
      batchItemFailures: failedIndexes.map(({ index }) => ({
        itemIdentifier: records[index]!.kinesis.sequenceNumber,
      })),
    };
  };
}
