/**
 * Writing records to a Kinesis stream: PutRecords in requests within Kinesis's limits, the entries it
 * refuses (throttled, an internal failure) tried again with exponential backoff and full jitter. The
 * same code talks to AWS or to an emulator: the endpoint comes from the SDK's own settings
 * (`AWS_ENDPOINT_URL_KINESIS`, `AWS_ENDPOINT_URL`) or is given.
 */
import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Kinesis's limits on one PutRecords request and on one record (data and partition key). */
export const MAX_RECORDS_PER_PUT = 500;
export const MAX_BYTES_PER_PUT = 5 * 1024 * 1024;
export const MAX_BYTES_PER_RECORD = 1024 * 1024;

/** A record to write: its bytes, and the key that chooses its shard (records of one key keep their order). */
export interface OutgoingRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
}

export interface PutOutcome {
  /** The indexes (in the records given) still not written after every attempt, with the last reason. */
  readonly failed: readonly { readonly index: number; readonly reason: string }[];
  /** PutRecords requests made, retries included. */
  readonly requests: number;
}

/** Where records go: a Kinesis stream (`KinesisOutput`) or anything else that writes them in order. */
export interface RecordOutput {
  /** The stream's name, for logs. */
  readonly name: string;
  put(records: readonly OutgoingRecord[]): Promise<PutOutcome>;
}

export interface KinesisOutputOptions {
  /** Attempts per record, the first included (default 5). */
  readonly maxAttempts?: number;
  /** The first backoff's ceiling (ms, default 100); each retry doubles it, up to `maxBackoffMs`. */
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How to wait (tests pass a faster clock). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1) (full jitter). */
  readonly random?: () => number;
}

/**
 * A Kinesis client for `endpoint` (or the SDK's settings), over HTTP/1.1: the SDK's default handler
 * speaks HTTP/2 to Kinesis, which the emulators do not, and PutRecords and GetRecords need nothing of it.
 */
export function kinesisClient(endpoint?: string): KinesisClient {
  return new KinesisClient({
    ...(endpoint === undefined ? {} : { endpoint }),
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 }),
  });
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Splits records into PutRecords requests: at most 500 records and 5 MB each, in order. */
export function putRequests(records: readonly OutgoingRecord[]): number[][] {
  const requests: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  records.forEach((record, index) => {
    const size = record.data.byteLength + Buffer.byteLength(record.partitionKey);
    if (current.length === MAX_RECORDS_PER_PUT || (current.length > 0 && bytes + size > MAX_BYTES_PER_PUT)) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += size;
  });
  if (current.length > 0) requests.push(current);
  return requests;
}

/** Writes records to one Kinesis stream (see the module's comment). */
export class KinesisOutput implements RecordOutput {
  readonly name: string;
  readonly #client: KinesisClient;
  readonly #maxAttempts: number;
  readonly #baseBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(client: KinesisClient, streamName: string, options: KinesisOutputOptions = {}) {
    this.#client = client;
    this.name = streamName;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.#baseBackoffMs = options.baseBackoffMs ?? 100;
    this.#maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.#sleep = options.sleep ?? wait;
    this.#random = options.random ?? Math.random;
  }

  /**
   * Writes `records`, all or as many as Kinesis takes within the attempts: a refused entry, or a whole
   * request that failed (throttled, a network error), is tried again after a backoff. A record over
   * Kinesis's 1 MB is never sent and reported failed at once.
   */
  async put(records: readonly OutgoingRecord[]): Promise<PutOutcome> {
    const reasons = new Map<number, string>();
    let pending: number[] = [];
    records.forEach((record, index) => {
      const size = record.data.byteLength + Buffer.byteLength(record.partitionKey);
      if (size > MAX_BYTES_PER_RECORD) {
        reasons.set(index, `the record is ${size} bytes, over Kinesis's limit of ${MAX_BYTES_PER_RECORD}`);
      } else {
        pending.push(index);
      }
    });
    let requests = 0;
    for (let attempt = 1; pending.length > 0 && attempt <= this.#maxAttempts; attempt++) {
      if (attempt > 1) {
        const ceiling = Math.min(this.#maxBackoffMs, this.#baseBackoffMs * 2 ** (attempt - 2));
        await this.#sleep(this.#random() * ceiling);
      }
      const retry: number[] = [];
      const batch = pending.map((index) => records[index]!);
      for (const request of putRequests(batch)) {
        const indexes = request.map((i) => pending[i]!);
        const entries: PutRecordsRequestEntry[] = indexes.map((index) => ({
          Data: records[index]!.data,
          PartitionKey: records[index]!.partitionKey,
        }));
        requests += 1;
        try {
          const answer = await this.#client.send(
            new PutRecordsCommand({ StreamName: this.name, Records: entries }),
          );
          (answer.Records ?? []).forEach((entry, i) => {
            const index = indexes[i]!;
            if (entry.ErrorCode) {
              reasons.set(index, `${entry.ErrorCode}: ${entry.ErrorMessage ?? ''}`.trim());
              retry.push(index);
            } else {
              reasons.delete(index);
            }
          });
        } catch (error) {
          const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          for (const index of indexes) {
            reasons.set(index, reason);
            retry.push(index);
          }
        }
      }
      pending = retry;
    }
    return {
      failed: [...reasons].sort(([a], [b]) => a - b).map(([index, reason]) => ({ index, reason })),
      requests,
    };
  }
}
