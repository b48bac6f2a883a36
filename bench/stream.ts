/**
 * The stream path (`npm run bench:stream`, also part of `npm run bench`; run `npm run build` first):
 *
 * - the handler on a 500-record batch of real records (generated when the real file is absent), for the
 *   `oblivious` model `npm start` serves by default and for `gbdt`, without the AWS calls: its outputs go
 *   to a writer that keeps nothing, so what is timed is decoding, validating, scoring and encoding
 *   (target < 20 ms); median of 20 after a warm-up;
 * - the Lambda bundle the CDK app deploys (synthesized by `cdk synth`, when `npm ci --prefix infra` has
 *   installed the app): its size, raw and zipped (target < 1 MB zipped), and its cold start in a fresh
 *   Node process: spawn, import (the init: the model loaded), one invocation of one record against a
 *   Kinesis emulator, exit (target < 300 ms); median of 5;
 * - `onset stream` end to end against kinesalite: 10,000 records on a 2-shard input stream scored onto
 *   the output stream, records per second, beside the emulator's own PutRecords and GetRecords rates on
 *   the same records.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { readDatasetFile } from '../src/data/csv-reader.js';
import { generateDataset } from '../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../src/data/schema.js';
import { saveModelDocument } from '../src/ml/model-document.js';
import { trainOnDataset } from '../src/ml/train-on-dataset.js';
import { loadServedModel } from '../src/serving/model-source.js';
import {
  KinesisOutput,
  type OutgoingRecord,
  type RecordOutput,
} from '../src/serving/stream/kinesis-output.js';
import { createStreamHandler } from '../src/serving/stream/stream-handler.js';
import { HAS_REAL_DATA, REAL_DATA_PATH } from '../test/support/fixtures.js';
import { kinesisEvent, runLambdaBundle, startKinesis } from '../test/support/kinesis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'onset-bench-stream-'));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const dataset = HAS_REAL_DATA
  ? (await readDatasetFile(REAL_DATA_PATH, { target: 'required' })).dataset
  : generateDataset({ rows: 2105, seed: 42 });
const payloadOf = (i: number) =>
  JSON.stringify({
    data: Object.fromEntries(
      FEATURE_NAMES.map((name) => [name, dataset.columns[name][i % dataset.rowCount]!]),
    ),
    patient_id: `P${i}`,
  });
const eventOf = (count: number) => kinesisEvent(Array.from({ length: count }, (_, i) => payloadOf(i)));

/** A writer that keeps nothing: what the handler costs without the AWS calls. */
const discard: RecordOutput = {
  name: 'discard',
  put: async (records: readonly OutgoingRecord[]) => ({ failed: [], requests: records.length > 0 ? 1 : 0 }),
};

console.log(
  `The stream path, on ${HAS_REAL_DATA ? 'the real file' : 'generated data'} (${dataset.rowCount} rows):`,
);
const models: Record<string, string> = {};
for (const estimator of ['oblivious', 'gbdt'] as const) {
  const { document } = trainOnDataset(dataset, { estimator });
  models[estimator] = join(dir, `${estimator}.json`);
  await saveModelDocument(models[estimator], document);
  const served = await loadServedModel(models[estimator]);
  const handler = createStreamHandler({ model: () => served, output: discard, deadLetter: discard });
  const event = eventOf(500);
  for (let i = 0; i < 5; i++) await handler(event);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await handler(event);
    times.push(performance.now() - started);
  }
  console.log(
    `  handler, a 500-record batch, ${estimator}, without AWS calls: ${median(times).toFixed(2)} ms (target < 20 ms)`,
  );
}

const kinesis = await startKinesis();
try {
  // The bundle the CDK app deploys.
  const infra = join(ROOT, 'infra');
  if (!existsSync(join(infra, 'node_modules', 'aws-cdk-lib'))) {
    console.log('  the Lambda bundle: skipped (install the CDK app first: npm ci --prefix infra)');
  } else {
    const out = join(dir, 'cdk.out');
    const synth = spawnSync(
      'npx',
      ['cdk', 'synth', '-c', 'stage=stg', '--quiet', '--no-notices', '-o', out],
      {
        cwd: infra,
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true' },
        encoding: 'utf8',
      },
    );
    if (synth.status !== 0) throw new Error(`cdk synth failed: ${synth.stderr}`);
    const asset = readdirSync(out).find((name) => name.startsWith('asset.'))!;
    const bundle = join(out, asset, 'index.mjs');
    const content = readFileSync(bundle);
    console.log(
      `  the Lambda bundle (cdk synth): ${(content.length / 1024).toFixed(0)} KB, ${(deflateRawSync(content, { level: 9 }).length / 1024).toFixed(0)} KB zipped (target < 1024 KB zipped)`,
    );
    await kinesis.createStream('cold-out');
    await kinesis.createStream('cold-dead');
    const runs: { wall: number; init: number; invoke: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const run = await runLambdaBundle(bundle, eventOf(1), {
        ONSET_MODEL_URI: models.oblivious!,
        PREDICTIONS_STREAM_NAME: 'cold-out',
        ONSET_DEAD_LETTER_STREAM: 'cold-dead',
        AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
      });
      if (run.code !== 0) throw new Error(`the bundle failed: ${run.stderr}`);
      runs.push({ wall: run.wallMs, init: run.initMs, invoke: run.invokeMs });
    }
    const pick = (key: 'wall' | 'init' | 'invoke') => median(runs.map((run) => run[key])).toFixed(0);
    console.log(
      `  cold start of the bundle (oblivious model, a fresh Node process): ${pick('wall')} ms from spawn to exit, of which import and init (the model loaded) ${pick('init')} ms and the first invocation (one record, put on kinesalite) ${pick('invoke')} ms (target < 300 ms)`,
    );
  }

  // onset stream end to end, beside the emulator's own rates.
  const RECORDS = 10_000;
  await kinesis.createStream('bench-in', 2);
  await kinesis.createStream('bench-out', 2);
  await kinesis.createStream('bench-dead');
  const records = Array.from({ length: RECORDS }, (_, i) => ({
    data: Buffer.from(payloadOf(i)),
    partitionKey: `P${i}`,
  }));
  const putStarted = performance.now();
  const put = await new KinesisOutput(kinesis.client, 'bench-in').put(records);
  const putSeconds = (performance.now() - putStarted) / 1000;
  if (put.failed.length > 0) throw new Error(`kinesalite refused ${put.failed.length} records`);
  const getStarted = performance.now();
  let read = 0;
  const shards = (await kinesis.client.send(new ListShardsCommand({ StreamName: 'bench-in' }))).Shards ?? [];
  for (const shard of shards) {
    let iterator = (
      await kinesis.client.send(
        new GetShardIteratorCommand({
          StreamName: 'bench-in',
          ShardId: shard.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    while (iterator) {
      const page = await kinesis.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 500 }));
      read += page.Records?.length ?? 0;
      if ((page.Records?.length ?? 0) === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  const getSeconds = (performance.now() - getStarted) / 1000;
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'dist/cli/main.js'),
      'stream',
      '--input',
      'bench-in',
      '--output',
      'bench-out',
      '--dead-letter',
      'bench-dead',
      '--endpoint',
      kinesis.endpoint,
      '--model',
      models.oblivious!,
      '--batch-size',
      '500',
      '--checkpoints',
      join(dir, 'bench.checkpoints.json'),
    ],
    { env: { ...process.env, ONSET_HOME: dir }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const streamStarted = performance.now();
  let scored = 0;
  let lastBatchAt = 0;
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      let newline = stderr.indexOf('\n');
      while (newline >= 0) {
        const line = stderr.slice(0, newline);
        stderr = stderr.slice(newline + 1);
        if (line.includes('"msg":"stream batch handled"')) {
          scored += (JSON.parse(line) as { scored: number }).scored;
          lastBatchAt = performance.now();
          if (scored >= RECORDS) resolve();
        }
        newline = stderr.indexOf('\n');
      }
    });
    child.once('exit', (code) => reject(new Error(`onset stream exited with ${code}`)));
  });
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  const streamSeconds = (lastBatchAt - streamStarted) / 1000;
  console.log(
    `  onset stream, ${RECORDS} records on 2 shards (oblivious, batches of 500, from process start): ${(RECORDS / streamSeconds).toFixed(0)} records/s end to end; kinesalite's own PutRecords ${(RECORDS / putSeconds).toFixed(0)} records/s and GetRecords ${(read / getSeconds).toFixed(0)} records/s on the same records`,
  );
} finally {
  await kinesis.close();
  rmSync(dir, { recursive: true, force: true });
}
