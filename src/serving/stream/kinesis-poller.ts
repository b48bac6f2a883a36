/**
 * `onset stream`'s reader: polls every shard of a Kinesis stream and hands each batch to the stream
 * handler as Lambda's event source mapping does, so the same handler behaves the same here and in
 * Lambda:
 *
 * - one reader per shard, records in order; a shard that closes (resharding) hands over to its children;
 * - after a batch, the shard's checkpoint is the last record handled, stored (`CheckpointStore`) so that a
 *   restart resumes after it;
 * - `batchItemFailures`: what precedes the first failed record is checkpointed, and the batch is retried
 *   from that record (Lambda's `ReportBatchItemFailures`);
 * - a handler that throws: the batch is split in two and each half retried (`BisectBatchOnFunctionError`),
 *   down to the one record, which is retried;
 * - retries wait with exponential backoff and are unlimited, as Lambda's default (`MaximumRetryAttempts`
 *   -1): a record is never skipped, so nothing is lost.
 *
 * `stop()` lets the batch being handled finish, stores its checkpoint, and ends.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type _Record,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { writeFileAtomic } from '../../util/atomic-file.js';
import type { StreamHandler, StreamLogger } from './stream-handler.js';

/** Where each shard's last handled sequence number is kept. */
export interface CheckpointStore {
  load(): Promise<ReadonlyMap<string, string>>;
  save(shardId: string, sequenceNumber: string): Promise<void>;
}

/** Checkpoints in a JSON file (`{"stream": NAME, "shards": {SHARD_ID: SEQUENCE_NUMBER}}`), written atomically. */
export class FileCheckpoints implements CheckpointStore {
  readonly #path: string;
  readonly #stream: string;
  readonly #shards = new Map<string, string>();
  #writing: Promise<void> = Promise.resolve();

  constructor(path: string, stream: string) {
    this.#path = path;
    this.#stream = stream;
  }

  async load(): Promise<ReadonlyMap<string, string>> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.#shards;
      throw error;
    }
    const stored = JSON.parse(text) as { stream?: string; shards?: Record<string, string> };
    if (stored.stream !== this.#stream) {
      throw new Error(
        `The checkpoints in ${this.#path} are of stream ${stored.stream}, not ${this.#stream}: give another --checkpoints file`,
      );
    }
    for (const [shard, sequence] of Object.entries(stored.shards ?? {})) this.#shards.set(shard, sequence);
    return this.#shards;
  }

  save(shardId: string, sequenceNumber: string): Promise<void> {
    this.#shards.set(shardId, sequenceNumber);
    // One write at a time, each of the whole map as it is then.
    this.#writing = this.#writing.then(() =>
      writeFileAtomic(
        this.#path,
        `${JSON.stringify({ stream: this.#stream, shards: Object.fromEntries(this.#shards) }, null, 2)}\n`,
      ),
    );
    return this.#writing;
  }
}

export interface KinesisPollerOptions {
  readonly client: KinesisClient;
  readonly stream: string;
  readonly handler: StreamHandler;
  readonly checkpoints: CheckpointStore;
  /** Where a shard without a checkpoint starts: its oldest record (default) or what arrives from now on. */
  readonly startAt?: 'TRIM_HORIZON' | 'LATEST';
  /** Most records per batch (GetRecords' Limit; default 100, Lambda's default batch size). */
  readonly batchSize?: number;
  /** The wait when a shard has nothing new (ms, default 1,000: GetRecords allows 5 calls a second a shard). */
  readonly idleMs?: number;
  /** The first retry's wait (ms, default 200), doubled each time up to `maxBackoffMs` (default 10,000). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly logger?: StreamLogger;
}

/** What the poller has done so far. */
export interface PollerCounts {
  records: number;
  batches: number;
  retries: number;
}

/** A Kinesis record as Lambda's event carries it. */
function eventRecord(
  record: _Record,
  shardId: string,
  streamArn: string,
  region: string,
): KinesisStreamRecord {
  return {
    eventID: `${shardId}:${record.SequenceNumber}`,
    eventName: 'aws:kinesis:record',
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventSourceARN: streamArn,
    awsRegion: region,
    invokeIdentityArn: '',
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber: record.SequenceNumber ?? '',
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
  };
}

export class KinesisPoller {
  readonly counts: PollerCounts = { records: 0, batches: 0, retries: 0 };
  readonly #options: KinesisPollerOptions;
  readonly #readers = new Map<string, Promise<void>>();
  /** Aborted by `stop()`: ends the waits. */
  readonly #stopping = new AbortController();
  /** Shards read to their end (closed by resharding). */
  readonly #finished = new Set<string>();
  #checkpoints: ReadonlyMap<string, string> = new Map();
  #streamArn = '';
  #region = '';

  constructor(options: KinesisPollerOptions) {
    this.#options = options;
  }

  /** Starts reading every open shard (and the shards they close into); answers once all readers run. */
  async start(): Promise<void> {
    this.#checkpoints = await this.#options.checkpoints.load();
    this.#region = await this.#options.client.config.region();
    const summary = await this.#options.client.send(
      new DescribeStreamSummaryCommand({ StreamName: this.#options.stream }),
    );
    this.#streamArn = summary.StreamDescriptionSummary?.StreamARN ?? '';
    await this.#discover();
  }

  /** Lets each shard finish its batch and store its checkpoint, then answers. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    while (this.#readers.size > 0) await Promise.all([...this.#readers.values()]);
  }

  /** The shards not being read yet whose parents are done (or were never read here): each gets a reader. */
  async #discover(): Promise<void> {
    const shards: Shard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#options.client.send(
        new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: this.#options.stream }),
      );
      shards.push(...(page.Shards ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    const known = new Set(shards.map((shard) => shard.ShardId));
    for (const shard of shards) {
      const id = shard.ShardId!;
      if (this.#readers.has(id) || this.#finished.has(id)) continue;
      // A child waits for its parent to be read to its end, so that a key's records keep their order.
      const parent = shard.ParentShardId;
      if (parent && known.has(parent) && !this.#finished.has(parent)) continue;
      const reader = this.#read(id).finally(() => {
        this.#readers.delete(id);
      });
      this.#readers.set(id, reader);
    }
  }

  get #stopped(): boolean {
    return this.#stopping.signal.aborted;
  }

  /**
   * Reads one shard to its end or until the poller stops. A failed read (throttled, the iterator
   * expired, the network) is tried again after a backoff, from after the last record handled.
   */
  async #read(shardId: string): Promise<void> {
    const {
      client,
      stream,
      batchSize = 100,
      idleMs = 1_000,
      backoffMs = 200,
      maxBackoffMs = 10_000,
    } = this.#options;
    /** The last record handled (or the stored checkpoint): where a new iterator starts after. */
    let after = this.#checkpoints.get(shardId);
    const newIterator = async () =>
      (
        await client.send(
          new GetShardIteratorCommand({
            StreamName: stream,
            ShardId: shardId,
            ...(after
              ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
              : { ShardIteratorType: this.#options.startAt ?? 'TRIM_HORIZON' }),
          }),
        )
      ).ShardIterator;
    let iterator: string | undefined;
    let fresh = true;
    let failures = 0;
    while (!this.#stopped) {
      try {
        if (fresh) {
          iterator = await newIterator();
          fresh = false;
        }
        if (!iterator) break;
        const answer = await client.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }),
        );
        failures = 0;
        const records = answer.Records ?? [];
        if (records.length > 0) {
          const handled = await this.#handle(shardId, records);
          if (handled < records.length) break; // stopped part-way: the rest is read again next time
          after = records[records.length - 1]!.SequenceNumber;
        }
        iterator = answer.NextShardIterator;
        if (records.length === 0 && iterator) await this.#sleep(idleMs);
      } catch (error) {
        failures += 1;
        this.#options.logger?.warn(
          { shard: shardId, error: (error as Error).name, message: (error as Error).message },
          'reading the shard failed: reading again after a backoff',
        );
        await this.#sleep(Math.min(maxBackoffMs, backoffMs * 2 ** (failures - 1)));
        fresh = true;
      }
    }
    if (!this.#stopped && !iterator) {
      // The shard closed and was read to its end: its children may start.
      this.#finished.add(shardId);
      await this.#discover();
    }
  }

  /** Waits `ms`, or less if the poller stops meanwhile. */
  #sleep(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: this.#stopping.signal }).catch(() => undefined);
  }

  /**
   * Hands `records` to the handler until every one is handled, checkpointing as it goes (see the
   * module's comment), and answers how many were. Ends early, with what was handled checkpointed, only
   * when the poller stops.
   */
  async #handle(shardId: string, records: readonly _Record[]): Promise<number> {
    const { handler, checkpoints, backoffMs = 200, maxBackoffMs = 10_000, logger } = this.#options;
    /** Pieces still to handle, in order: a bisected batch becomes two. */
    const pieces: _Record[][] = [[...records]];
    let failures = 0;
    let handled = 0;
    while (pieces.length > 0) {
      const piece = pieces[0]!;
      let retryFrom: number;
      try {
        const event: KinesisStreamEvent = {
          Records: piece.map((record) => eventRecord(record, shardId, this.#streamArn, this.#region)),
        };
        const answer = await handler(event);
        const failed = new Set((answer?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
        retryFrom = failed.size === 0 ? piece.length : piece.findIndex((r) => failed.has(r.SequenceNumber!));
        // An identifier that names no record of the batch: Lambda retries the whole batch.
        if (retryFrom < 0) retryFrom = 0;
      } catch (error) {
        if (piece.length > 1) {
          const half = Math.ceil(piece.length / 2);
          pieces.splice(0, 1, piece.slice(0, half), piece.slice(half));
          logger?.warn(
            { shard: shardId, records: piece.length, error: (error as Error).message },
            'the handler failed: the batch is split in two and each half retried',
          );
          this.counts.retries += 1;
          continue;
        }
        retryFrom = 0;
        logger?.warn({ shard: shardId, error: (error as Error).message }, 'the handler failed on one record');
      }
      if (retryFrom > 0) {
        await checkpoints.save(shardId, piece[retryFrom - 1]!.SequenceNumber!);
        this.counts.records += retryFrom;
        handled += retryFrom;
      }
      if (retryFrom === piece.length) {
        pieces.shift();
        this.counts.batches += 1;
        failures = 0;
        continue;
      }
      pieces[0] = piece.slice(retryFrom);
      failures = retryFrom > 0 ? 1 : failures + 1;
      this.counts.retries += 1;
      if (this.#stopped) return handled;
      await this.#sleep(Math.min(maxBackoffMs, backoffMs * 2 ** (failures - 1)));
      if (this.#stopped) return handled;
    }
    return handled;
  }
}
