import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Command, Option } from 'commander';
import { streamVariables } from '../config.js';
import { PatientKeys, resolveLogSecret } from '../monitoring/prediction-log/patient-keys.js';
import { StoreSink } from '../monitoring/prediction-log/prediction-batch.js';
import { PredictionLogWriter } from '../monitoring/prediction-log/prediction-log-writer.js';
import { kinesisClient } from '../serving/stream/kinesis-output.js';
import { FileCheckpoints, KinesisPoller } from '../serving/stream/kinesis-poller.js';
import { configFrom } from './config-options.js';
import { addStreamFunctionOptions, openStreamFunction, type StreamFunctionFlags } from './lambda.js';
import { positiveIntegerArgument, UsageError } from './options.js';
import { openCommandStores } from './stores.js';

interface StreamFlags extends StreamFunctionFlags {
  input?: string;
  from: 'trim-horizon' | 'latest';
  checkpoints?: string;
  batchSize: number;
  log?: boolean;
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

/**
 * `onset stream`: reads a Kinesis stream (AWS or an emulator) with the stream function, as Lambda's event
 * source mapping would (see `KinesisPoller`), until stopped.
 */
export function registerStreamCommand(program: Command): void {
  addStreamFunctionOptions(
    program
      .command('stream')
      .description(
        'score a Kinesis stream here with the stream function, as Lambda does: every shard read in order, checkpoints kept so a restart resumes, failed records retried (Ctrl-C or SIGTERM stops after the batch being handled)',
      )
      .option('--input <stream>', 'the input stream (env ONSET_INPUT_STREAM)')
      .addOption(
        new Option('--from <position>', 'where a shard without a checkpoint starts')
          .choices(['trim-horizon', 'latest'])
          .default('trim-horizon'),
      )
      .option(
        '--checkpoints <file>',
        "where each shard's last handled record is kept (default: $ONSET_HOME/stream/INPUT.checkpoints.json)",
      )
      .option(
        '--log',
        "record each prediction in the home's prediction log (source stream), as onset serve records its own; the output records carry its prediction_id",
      )
      .option(
        '--batch-size <n>',
        'most records handed to the function at once, 1 to 10000',
        positiveIntegerArgument,
        100,
      ),
  ).action(async (flags: StreamFlags) => {
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
  });
}
