import type { KinesisClient, PutRecordsCommand, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { KinesisOutput, MAX_BYTES_PER_RECORD, type OutgoingRecord, putRequests } from './kinesis-output.js';

const record = (bytes: number, key = 'k'): OutgoingRecord => ({
  data: new Uint8Array(bytes),
  partitionKey: key,
});

/**
 * Kinesis as PutRecords answers: `refuse(attempt, entry)` says which entries it throttles on each
 * request (the SDK's client is AWS's, not ours: the real emulator's tests are in
 * test/serving/stream-kinesis.test.ts; throttling cannot be made to happen there).
 */
function throttlingKinesis(refuse: (request: number, entry: number) => boolean) {
  const sent: number[][] = [];
  const client = {
    async send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput> {
      const entries = command.input.Records ?? [];
      const request = sent.length;
      sent.push(entries.map((entry) => entry.Data!.byteLength));
      const records = entries.map((_, i) =>
        refuse(request, i)
          ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard' }
          : { SequenceNumber: '1', ShardId: 'shardId-000000000000' },
      );
      return {
        Records: records,
        FailedRecordCount: records.filter((r) => 'ErrorCode' in r).length,
        $metadata: {},
      };
    },
  };
  return { client: client as unknown as KinesisClient, sent };
}

describe('PutRecords requests', () => {
  it('hold at most 500 records and 5 MB each, in order', () => {
    expect(putRequests(Array.from({ length: 1_200 }, () => record(10))).map((r) => r.length)).toEqual([
      500, 500, 200,
    ]);
    const big = Array.from({ length: 7 }, () => record(900 * 1024));
    expect(putRequests(big)).toEqual([
      [0, 1, 2, 3, 4],
      [5, 6],
    ]);
    expect(putRequests([])).toEqual([]);
  });
});

describe('KinesisOutput', () => {
  it('tries throttled entries again after a jittered, growing backoff, until all are written', async () => {
    const waits: number[] = [];
    // The first request throttles every other entry, the second the first of what is left.
    const kinesis = throttlingKinesis((request, entry) =>
      request === 0 ? entry % 2 === 1 : request === 1 && entry === 0,
    );
    const output = new KinesisOutput(kinesis.client, 'out', {
      baseBackoffMs: 100,
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
    });
    const outcome = await output.put(Array.from({ length: 6 }, (_, i) => record(i + 1)));
    expect(outcome).toEqual({ failed: [], requests: 3 });
    expect(kinesis.sent).toEqual([[1, 2, 3, 4, 5, 6], [2, 4, 6], [2]]);
    expect(waits).toEqual([50, 100]);
  });

  it('reports what is still refused after its attempts, and never sends a record over 1 MB', async () => {
    const kinesis = throttlingKinesis((_, entry) => entry === 0);
    const output = new KinesisOutput(kinesis.client, 'out', { maxAttempts: 3, sleep: async () => undefined });
    const outcome = await output.put([record(MAX_BYTES_PER_RECORD), record(3), record(4)]);
    expect(outcome.failed).toEqual([
      { index: 0, reason: expect.stringMatching(/over Kinesis's limit/) },
      { index: 1, reason: 'ProvisionedThroughputExceededException: Rate exceeded for shard' },
    ]);
    expect(outcome.requests).toBe(3);
    expect(kinesis.sent[0]).toEqual([3, 4]);
  });
});
