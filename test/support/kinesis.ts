/**
 * A throwaway Kinesis emulator (kinesalite, in memory, in this process) on a free port of 127.0.0.1,
 * with a client for it, and what tests do with streams: create one and read one back; Kinesis events as
 * Lambda delivers them, and a Lambda bundle run on one in a fresh process.
 */

import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import kinesalite from 'kinesalite';
import { kinesisClient } from '../../src/serving/stream/kinesis-output.js';

export interface TestKinesis {
  readonly endpoint: string;
  readonly client: KinesisClient;
  /** Creates a stream of `shards` shards and waits until it is active. */
  createStream(name: string, shards?: number): Promise<void>;
  /** Every record on every shard of a stream, oldest first per shard, parsed as JSON. */
  readStream(name: string): Promise<unknown[]>;
  close(): Promise<void>;
}

export async function startKinesis(): Promise<TestKinesis> {
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  // The emulator takes any credentials; the SDK wants some, and a region.
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  const client = kinesisClient(endpoint);
  return {
    endpoint,
    client,
    async createStream(name, shards = 1) {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      for (;;) {
        const described = await client.send(new DescribeStreamCommand({ StreamName: name }));
        if (described.StreamDescription?.StreamStatus === 'ACTIVE') return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async readStream(name) {
      const described = await client.send(new DescribeStreamCommand({ StreamName: name }));
      const records: unknown[] = [];
      for (const shard of described.StreamDescription?.Shards ?? []) {
        const { ShardIterator } = await client.send(
          new GetShardIteratorCommand({
            StreamName: name,
            ShardId: shard.ShardId!,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        );
        let iterator = ShardIterator;
        while (iterator) {
          const answer = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
          const page = answer.Records ?? [];
          for (const record of page) records.push(JSON.parse(Buffer.from(record.Data!).toString('utf8')));
          if (page.length === 0) break;
          iterator = answer.NextShardIterator;
        }
      }
      return records;
    },
    async close() {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A Kinesis event as Lambda's event source mapping delivers it: each payload base64, at sequence number
 * 49000000000 + its position (`first` on), with partition key `key-<position>`.
 */
export function kinesisEvent(payloads: readonly string[], first = 0): KinesisStreamEvent {
  return {
    Records: payloads.map((payload, i) => ({
      eventID: `shardId-000000000000:${first + i}`,
      eventName: 'aws:kinesis:record',
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/parkinson-input-stream',
      awsRegion: 'us-east-1',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/test',
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: `key-${first + i}`,
        sequenceNumber: String(49_000_000_000n + BigInt(first + i)),
        data: Buffer.from(payload).toString('base64'),
        approximateArrivalTimestamp: 1_700_000_000,
      },
    })),
  };
}

/** What one run of a Lambda bundle in a fresh Node process did. */
export interface BundleRun {
  readonly code: number | null;
  /** The function's own output (its structured logs). */
  readonly stdout: string;
  readonly stderr: string;
  /** What the handler answered, when it did. */
  readonly answer: unknown;
  /** Importing the bundle (Lambda's init: the model loaded), then the one invocation (ms). */
  readonly initMs: number;
  readonly invokeMs: number;
  /** From spawning the process to its exit (ms). */
  readonly wallMs: number;
}

/**
 * Runs a Lambda bundle (`index.mjs` of the CDK app's asset) as Lambda's runtime does, in a fresh Node
 * process with only `env` (and PATH): imports it (its init), calls `handler(event)` once, and exits.
 */
export async function runLambdaBundle(
  bundle: string,
  event: KinesisStreamEvent,
  env: Readonly<Record<string, string>>,
): Promise<BundleRun> {
  // The answer and the timings go to standard error's last line: standard output is the function's logs.
  const script = `const t0 = performance.now(); const m = await import(${JSON.stringify(pathToFileURL(bundle).href)}); const t1 = performance.now(); const answer = await m.handler(${JSON.stringify(event)}); process.stderr.write('\\n' + JSON.stringify({ answer, initMs: t1 - t0, invokeMs: performance.now() - t1 }));`;
  const started = performance.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const wallMs = performance.now() - started;
  const last = stderr.slice(stderr.lastIndexOf('\n') + 1);
  const result = (code === 0 ? JSON.parse(last) : {}) as {
    answer?: unknown;
    initMs?: number;
    invokeMs?: number;
  };
  return {
    code,
    stdout,
    stderr,
    answer: result.answer,
    initMs: result.initMs ?? Number.NaN,
    invokeMs: result.invokeMs ?? Number.NaN,
    wallMs,
  };
}
