import { type Command, Option } from 'commander';
import { addStreamFunctionOptions, type StreamFunctionFlags } from './lambda.js';
import { positiveIntegerArgument } from './options.js';

export interface StreamFlags extends StreamFunctionFlags {
  input?: string;
  from: 'trim-horizon' | 'latest';
  checkpoints?: string;
  batchSize: number;
  log?: boolean;
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
  ).action(async (flags: StreamFlags) => (await import('./stream-actions.js')).readStream(flags));
}
