/**
 * What `onset lambda serve` and `onset stream` do, loaded only when one of them runs: the stream function
 * brings the request schemas and the AWS SDK, which the rest of the CLI does without.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { streamVariables } from '../config.js';
import { PatientKeys, resolveLogSecret } from '../monitoring/prediction-log/patient-keys.js';
import { StoreSink } from '../monitoring/prediction-log/prediction-batch.js';
import {
  PredictionLogWriter,
  type PredictionRecorder,
} from '../monitoring/prediction-log/prediction-log-writer.js';
import { parseModelUri } from '../serving/model-source.js';
import { INVOKE_PATH, startInvokeServer } from '../serving/stream/invoke-server.js';
import { kinesisClient } from '../serving/stream/kinesis-output.js';
import { FileCheckpoints, KinesisPoller } from '../serving/stream/kinesis-poller.js';
import { initStreamFunction, jsonLogger, streamFunctionSettings } from '../serving/stream/stream-function.js';
import { configFrom } from './config-options.js';
import type { LambdaServeFlags, StreamFunctionFlags } from './lambda.js';
import { asUsage, UsageError } from './options.js';
import { openCommandStores } from './stores.js';
import type { StreamFlags } from './stream.js';

/**
 * The stream function from the flags and the environment (as the Lambda function takes it), its model
 * loaded from a file, a bucket (MODEL_BUCKET and RUN_ID), or the stores for a registry or run URI
 * (closed once it is loaded).
 */
export async function openStreamFunction(
  flags: StreamFunctionFlags,
  options: { readonly recorder?: PredictionRecorder } = {},
) {
  // The function's structured logs go to standard error, as every command's messages do.
  const logger = jsonLogger((line) => process.stderr.write(line));
  const config = configFrom(flags);
  const env = streamVariables();
  // --model, ONSET_MODEL_URI, the original's MODEL_BUCKET and RUN_ID, then the default Production model.
  const exported = env.MODEL_BUCKET !== undefined || env.RUN_ID !== undefined;
  const modelUri = flags.model ?? env.ONSET_MODEL_URI ?? (exported ? undefined : config.modelUri);
  const settings = asUsage(() =>
    streamFunctionSettings({
      ...env,
      ONSET_MODEL_URI: modelUri,
      PREDICTIONS_STREAM_NAME: flags.output ?? env.PREDICTIONS_STREAM_NAME,
      ONSET_DEAD_LETTER_STREAM: flags.deadLetter ?? env.ONSET_DEAD_LETTER_STREAM,
      ONSET_KINESIS_ENDPOINT: flags.endpoint ?? env.ONSET_KINESIS_ENDPOINT,
    }),
  );
  const source = settings.model;
  const needsStores = 'uri' in source && asUsage(() => parseModelUri(source.uri)).kind !== 'file';
  const stores = needsStores ? await openCommandStores(flags, 'read') : undefined;
  try {
    const opened = await initStreamFunction(settings, {
      logger,
      ...(stores ? { stores } : {}),
      ...(options.recorder ? { recorder: options.recorder } : {}),
    });
    return { ...opened, settings, config, logger };
  } finally {
    // The model is loaded: the stores are not read again.
    await stores?.close();
  }
}

/** `onset lambda serve`. */
export async function serveLambda(flags: LambdaServeFlags): Promise<void> {
  const { handler, settings } = await openStreamFunction(flags);
  const server = await startInvokeServer((event) => handler(event as Parameters<typeof handler>[0]), {
    port: flags.port,
    host: flags.host,
  });
  process.stderr.write(
    `onset lambda: invoke with POST ${server.url}${INVOKE_PATH} (predictions to ${settings.outputStream}, bad records to ${settings.deadLetterStream})\n`,
  );
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** The home's prediction log, for `--log`: written in batches from this process, flushed by `close`. */
async function openStreamLog(flags: StreamFlags) {
  const config = configFrom(flags);
  const stores = await openCommandStores(flags, 'write');
  try {
    const { secret } = await resolveLogSecret(config.logSecret, config.home);
    const writer = new PredictionLogWriter({
      sink: new StoreSink(stores.predictionLog, new PatientKeys(secret)),
    });
    return {
      writer,
      async close() {
        await writer.close();
        await stores.close();
      },
    };
  } catch (error) {
    await stores.close();
    throw error;
  }
}

/** `onset stream`. */
export async function readStream(flags: StreamFlags): Promise<void> {
  const input = flags.input ?? streamVariables().ONSET_INPUT_STREAM;
  if (!input) throw new UsageError('name the stream to read with --input NAME (or ONSET_INPUT_STREAM)');
  if (flags.batchSize > 10_000)
    throw new UsageError(`--batch-size is at most 10000 (GetRecords' limit), got ${flags.batchSize}`);
  const log = flags.log ? await openStreamLog(flags) : undefined;
  const { handler, settings, config, logger } = await openStreamFunction(
    flags,
    log ? { recorder: log.writer } : {},
  ).catch(async (error: unknown) => {
    await log?.close();
    throw error;
  });
  const checkpointsPath = flags.checkpoints ?? join(config.home, 'stream', `${input}.checkpoints.json`);
  await mkdir(dirname(checkpointsPath), { recursive: true });
  const poller = new KinesisPoller({
    client: kinesisClient(settings.kinesisEndpoint),
    stream: input,
    handler,
    checkpoints: new FileCheckpoints(checkpointsPath, input),
    startAt: flags.from === 'latest' ? 'LATEST' : 'TRIM_HORIZON',
    batchSize: flags.batchSize,
    logger,
  });
  await poller.start();
  process.stderr.write(
    `onset stream: reading ${input} (predictions to ${settings.outputStream}, bad records to ${settings.deadLetterStream}, checkpoints in ${checkpointsPath}); Ctrl-C stops\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await poller.stop();
  // What the log still holds is written before the process ends.
  await log?.close();
  const { records, batches, retries } = poller.counts;
  process.stderr.write(
    `onset stream: stopped after ${records} records in ${batches} batches (${retries} retries)\n`,
  );
}
