/**
 * A throwaway Kinesis emulator (kinesalite, in memory, in this process) on a free port of 127.0.0.1,
 * with a client for it, and what tests do with streams: create one and read one back.
 */
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
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
