/**
 * The stream function against a real Kinesis emulator (kinesalite, started here): a Kinesis event of
 * valid and invalid records in the original shape, invoked on the Lambda Runtime Interface Emulator's
 * path of `onset lambda serve` (in a fresh process, as the original's test_docker.py invokes its
 * container) and through the handler directly; the output and dead-letter streams read back.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { createMatrix } from '../../src/math/matrix.js';
import { saveModelDocument } from '../../src/ml/model-document.js';
import { trainOnDataset } from '../../src/ml/train-on-dataset.js';
import { openOnsetStores } from '../../src/server/open-stores.js';
import { loadServedModel } from '../../src/serving/model-source.js';
import { INVOKE_PATH } from '../../src/serving/stream/invoke-server.js';
import { KinesisOutput } from '../../src/serving/stream/kinesis-output.js';
import { FileCheckpoints, KinesisPoller } from '../../src/serving/stream/kinesis-poller.js';
import { createStreamHandler, type StreamLogger } from '../../src/serving/stream/stream-handler.js';
import { type Child, startCli, waitFor as waitUntil } from '../support/child-process.js';
import { kinesisEvent, startKinesis, type TestKinesis } from '../support/kinesis.js';

const dir = mkdtempSync(join(tmpdir(), 'onset-stream-'));
const modelPath = join(dir, 'model.json');
const patients = generateDataset({ rows: 50, seed: 21 });
const recordOf = (i: number, codesAsStrings = false) => ({
  data: Object.fromEntries(
    FEATURE_NAMES.map((name) => {
      const value = patients.columns[name][i % patients.rowCount]!;
      // The original's examples send codes as numeric strings.
      return [name, codesAsStrings && Number.isInteger(value) ? String(value) : value];
    }),
  ),
  patient_id: `P-${i}`,
});

let kinesis: TestKinesis;
let endpoint: string;
let client: KinesisClient;
let expected: Float64Array;
/** The model's decision threshold, chosen for a sensitivity of at least 0.97: not 0.5. */
let threshold: number;

beforeAll(async () => {
  kinesis = await startKinesis();
  ({ endpoint, client } = kinesis);
  const { document, model } = trainOnDataset(generateDataset({ rows: 400, seed: 20 }), {
    estimator: 'gbdt',
    threshold: { kind: 'min_sensitivity', sensitivity: 0.97 },
  });
  threshold = document.threshold!.value;
  expect(threshold).not.toBe(0.5);
  await saveModelDocument(modelPath, document);
  const cols = FEATURE_NAMES.length;
  const x = new Float64Array(patients.rowCount * cols);
  for (let i = 0; i < patients.rowCount; i++) {
    FEATURE_NAMES.forEach((name, j) => {
      x[i * cols + j] = patients.columns[name][i]!;
    });
  }
  expected = model.predictProba(createMatrix(x, patients.rowCount, cols));
}, 60_000);

afterAll(async () => {
  await kinesis?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Lines the handler logs, kept to check that none holds a patient id or a feature value. */
function capturingLogger(lines: string[]): StreamLogger {
  const log = (level: string) => (fields: Readonly<Record<string, unknown>>, message: string) =>
    lines.push(JSON.stringify({ level, message, ...fields }));
  return { info: log('info'), warn: log('warn') };
}

describe('the stream handler on Kinesis', () => {
  it('scores every valid record once, as /predict would, and sends every invalid one to the dead letters with its reason', async () => {
    await kinesis.createStream('direct-output');
    await kinesis.createStream('direct-dead');
    const served = await loadServedModel(modelPath);
    const lines: string[] = [];
    const handler = createStreamHandler({
      model: () => served,
      output: new KinesisOutput(client, 'direct-output'),
      deadLetter: new KinesisOutput(client, 'direct-dead'),
      logger: capturingLogger(lines),
    });
    const payloads = [
      JSON.stringify(recordOf(0)),
      'not json at all',
      JSON.stringify(recordOf(1, true)),
      JSON.stringify({ ...recordOf(2), data: { ...recordOf(2).data, Age: -4 } }),
      JSON.stringify(recordOf(3)),
    ];
    const answer = await handler(kinesisEvent(payloads));
    expect(answer).toEqual({ batchItemFailures: [] });

    const outputs = (await kinesis.readStream('direct-output')) as {
      model: string | null;
      version: string | null;
      run_id: string | null;
      prediction: { patient_id: string; probability: number; diagnosis: number; threshold: number };
    }[];
    expect(outputs.map((o) => o.prediction.patient_id)).toEqual(['P-0', 'P-1', 'P-3']);
    outputs.forEach((output) => {
      const i = Number(output.prediction.patient_id.slice(2));
      expect(output.prediction.probability).toBe(expected[i]);
      expect(output.prediction.diagnosis).toBe(expected[i]! >= threshold ? 1 : 0);
      expect(output.prediction.threshold).toBe(threshold);
      expect(output).toMatchObject({ model: null, version: null, run_id: null });
    });

    const dead = (await kinesis.readStream('direct-dead')) as {
      reason: string;
      problems: { field: string }[];
      payload: string;
      source: { sequence_number: string; partition_key: string };
    }[];
    expect(dead).toHaveLength(2);
    expect(dead[0]!.reason).toMatch(/^the record is not JSON/);
    expect(Buffer.from(dead[0]!.payload, 'base64').toString()).toBe('not json at all');
    expect(dead[0]!.source).toMatchObject({ sequence_number: '49000000001', partition_key: 'key-1' });
    expect(dead[1]!.reason).toMatch(/^not a valid prediction record: data\.Age/);
    expect(dead[1]!.problems.map((p) => p.field)).toEqual(['data.Age']);
    expect(dead[1]!.source.sequence_number).toBe('49000000003');

    const logged = lines.join('\n');
    expect(logged).toContain('"scored":3');
    expect(logged).not.toMatch(/P-\d/);
    expect(logged).not.toContain(String(patients.columns.Age[0]));
  });

  it('reports the records it could not write as batch item failures, after its retries', async () => {
    const served = await loadServedModel(modelPath);
    await kinesis.createStream('failing-dead');
    const handler = createStreamHandler({
      model: () => served,
      // A stream that does not exist: every put fails, each retried.
      output: new KinesisOutput(client, 'no-such-stream', { maxAttempts: 2, baseBackoffMs: 1 }),
      deadLetter: new KinesisOutput(client, 'failing-dead'),
    });
    const answer = await handler(
      kinesisEvent([JSON.stringify(recordOf(4)), '{}', JSON.stringify(recordOf(5))], 10),
    );
    expect(answer.batchItemFailures).toEqual([
      { itemIdentifier: '49000000010' },
      { itemIdentifier: '49000000012' },
    ]);
    expect(await kinesis.readStream('failing-dead')).toHaveLength(1);
  });
});

/** Waits until `read()` holds at least `count` items (or fails after `ms`). */
async function waitFor<T>(read: () => Promise<T[]>, count: number, ms = 30_000): Promise<T[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const items = await read();
    if (items.length >= count || Date.now() > deadline) return items;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('onset stream', () => {
  it('scores what arrives on every shard, stops cleanly in the middle, and resumes after a restart with nothing lost or repeated', async () => {
    await kinesis.createStream('stream-in', 2);
    await kinesis.createStream('stream-out');
    await kinesis.createStream('stream-dead');
    const put = (payloads: readonly string[], keyOffset: number) =>
      new KinesisOutput(client, 'stream-in').put(
        payloads.map((payload, i) => ({ data: Buffer.from(payload), partitionKey: `p-${keyOffset + i}` })),
      );
    const first = [
      ...Array.from({ length: 600 }, (_, i) => JSON.stringify(recordOf(i, i % 2 === 0))),
      '{"data": {}}',
      'x',
    ];
    expect((await put(first, 0)).failed).toEqual([]);
    const args = [
      'stream',
      '--input',
      'stream-in',
      '--output',
      'stream-out',
      '--dead-letter',
      'stream-dead',
      '--endpoint',
      endpoint,
      '--model',
      modelPath,
      '--batch-size',
      '7',
      '--log',
    ];
    // Stopped as soon as it has handled a batch: in the middle of the 602 records.
    const started = startCli(args, { env: { ONSET_HOME: dir } });
    await waitUntil(
      () => started.stderr().includes('"msg":"stream batch handled"'),
      60_000,
      'a batch',
      started,
    );
    started.process.kill('SIGTERM');
    const { code } = await started.exited;
    expect(code).toBe(0);
    const handledFirst = Number(/onset stream: stopped after (\d+) records/.exec(started.stderr())?.[1]);
    expect(handledFirst).toBeGreaterThan(0);
    expect(handledFirst).toBeLessThan(602);
    type Output = { prediction: { patient_id: string; probability: number } };
    const read = () => kinesis.readStream('stream-out') as Promise<Output[]>;

    // Meanwhile more arrives; the restart reads only that.
    expect(
      (
        await put(
          Array.from({ length: 10 }, (_, i) => JSON.stringify(recordOf(600 + i))),
          100,
        )
      ).failed,
    ).toEqual([]);
    const again = startCli(args, { env: { ONSET_HOME: dir } });
    const outputs = await waitFor(read, 610);
    expect(await waitFor(() => kinesis.readStream('stream-dead'), 2)).toHaveLength(2);
    // A moment more, for anything read twice to show.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    again.process.kill('SIGTERM');
    await again.exited;
    expect(again.stderr()).toMatch(`onset stream: stopped after ${612 - handledFirst} records`);
    const all = await read();
    expect(all).toHaveLength(610);
    expect(new Set(all.map((o) => o.prediction.patient_id)).size).toBe(610);
    for (const output of outputs) {
      const row = Number(output.prediction.patient_id.slice(2)) % patients.rowCount;
      expect(output.prediction.probability).toBe(expected[row]);
    }
    // Each prediction is in the home's prediction log, under the id its output record carries.
    const stores = await openOnsetStores(resolveConfig({ home: dir }));
    try {
      const logged = await stores.predictionLog.listPredictions({ maxResults: 1_000 });
      expect(logged.items).toHaveLength(610);
      expect(new Set(logged.items.map((p) => p.source))).toEqual(new Set(['stream']));
      expect(new Set(logged.items.map((p) => p.predictionId))).toEqual(
        new Set(all.map((o) => (o.prediction as { prediction_id?: string }).prediction_id)),
      );
      expect(logged.items.every((p) => p.patientKey !== null && !p.patientKey.includes('P-'))).toBe(true);
    } finally {
      await stores.close();
    }
  }, 90_000);
});

describe('the poller', () => {
  it('retries from the first failed record, bisects a batch the handler throws on, and checkpoints as it goes', async () => {
    await kinesis.createStream('poll-in');
    const payloads = Array.from({ length: 10 }, (_, i) => JSON.stringify({ n: i }));
    await new KinesisOutput(client, 'poll-in').put(
      payloads.map((p, i) => ({ data: Buffer.from(p), partitionKey: `k${i}` })),
    );
    const n = (record: KinesisStreamEvent['Records'][number]) =>
      (JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString()) as { n: number }).n;
    const batches: number[][] = [];
    const done: number[] = [];
    let failedFour = false;
    let threwOnSeven = false;
    const poller = new KinesisPoller({
      client,
      stream: 'poll-in',
      checkpoints: new FileCheckpoints(join(dir, 'poll.json'), 'poll-in'),
      batchSize: 10,
      backoffMs: 1,
      idleMs: 50,
      handler: async (event) => {
        const ns = event.Records.map(n);
        batches.push(ns);
        const four = event.Records.find((record) => n(record) === 4);
        if (four && !failedFour) {
          failedFour = true;
          done.push(...ns.filter((value) => value < 4));
          return { batchItemFailures: [{ itemIdentifier: four.kinesis.sequenceNumber }] };
        }
        if (ns.includes(7) && ns.length > 1 && !threwOnSeven) {
          threwOnSeven = true;
          throw new Error('the function crashed');
        }
        done.push(...ns);
        return { batchItemFailures: [] };
      },
    });
    await poller.start();
    for (let i = 0; i < 100 && done.length < 10; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await poller.stop();
    // 0-3 done, 4-9 retried from 4, thrown on (7 among them), split into 4-6 and 7-9, both done.
    expect(batches).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [4, 5, 6, 7, 8, 9],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    expect(done).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(poller.counts).toMatchObject({ records: 10, retries: 2 });
    const stored = JSON.parse(readFileSync(join(dir, 'poll.json'), 'utf8'));
    const shard = Object.keys(stored.shards)[0]!;
    const all = await client.send(
      new GetShardIteratorCommand({
        StreamName: 'poll-in',
        ShardId: shard,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const records = (await client.send(new GetRecordsCommand({ ShardIterator: all.ShardIterator! })))
      .Records!;
    expect(stored).toEqual({ stream: 'poll-in', shards: { [shard]: records[9]!.SequenceNumber } });
  });
});

describe('onset lambda serve', () => {
  let child: Child | undefined;
  afterAll(async () => {
    child?.process.kill('SIGTERM');
    await child?.exited;
  });

  it("answers the Runtime Interface Emulator's invoke path as the original container does", async () => {
    await kinesis.createStream('parkinson-output-stream');
    await kinesis.createStream('parkinson-dead-letter-stream');
    child = startCli(
      [
        'lambda',
        'serve',
        '--port',
        '0',
        '--model',
        modelPath,
        '--output',
        'parkinson-output-stream',
        '--dead-letter',
        'parkinson-dead-letter-stream',
        '--endpoint',
        endpoint,
      ],
      { env: { ONSET_HOME: dir } },
    );
    const listening = /invoke with POST (http:\/\/[^/\s]+)/;
    await waitUntil(() => listening.test(child!.stderr()), 60_000, 'onset lambda serve to listen', child);
    const url = listening.exec(child.stderr())![1]!;
    const invoke = (body: string) => fetch(`${url}${INVOKE_PATH}`, { method: 'POST', body });
    const answer = await invoke(JSON.stringify(kinesisEvent([JSON.stringify(recordOf(6, true)), '[]'], 20)));
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ batchItemFailures: [] });
    const [output] = (await kinesis.readStream('parkinson-output-stream')) as {
      prediction: { patient_id: string; probability: number };
    }[];
    expect(output!.prediction).toMatchObject({ patient_id: 'P-6', probability: expected[6] });
    expect(await kinesis.readStream('parkinson-dead-letter-stream')).toHaveLength(1);

    // What the emulator answers to a function that throws, and to what is not an event.
    const broken = await invoke('{"Records": [{"kinesis": null}]}');
    expect(broken.status).toBe(200);
    expect(broken.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await broken.json()).toMatchObject({ errorType: 'TypeError' });
    expect((await invoke('{not json')).status).toBe(400);
    expect((await fetch(`${url}/elsewhere`, { method: 'POST' })).status).toBe(404);
  }, 60_000);
});
