import type { Command } from 'commander';
import { INVOKE_PATH } from '../serving/stream/invoke-server.js';
import { addStoreOptions } from './config-options.js';
import { portArgument } from './options.js';

/** What both `onset lambda serve` and `onset stream` take to make the stream function. */
export interface StreamFunctionFlags {
  model?: string;
  output?: string;
  deadLetter?: string;
  endpoint?: string;
  home?: string;
  trackingUri?: string;
  artifactUri?: string;
}

export interface LambdaServeFlags extends StreamFunctionFlags {
  port: number;
  host: string;
}

/** The options of the stream function, for `onset lambda serve` and `onset stream`. */
export function addStreamFunctionOptions(command: Command): Command {
  return addStoreOptions(
    command
      .option(
        '-m, --model <uri>',
        'the model: a model file or folder, or models:/NAME/STAGE|VERSION, models:/NAME@ALIAS, runs:/RUN_ID/model from the stores (env ONSET_MODEL_URI; without it, MODEL_BUCKET and RUN_ID name a model onset models export-to-s3 exported; default models:/parkinson-disease-prediction/Production)',
      )
      .option('--output <stream>', 'the output stream (env PREDICTIONS_STREAM_NAME)')
      .option('--dead-letter <stream>', 'the dead-letter stream (env ONSET_DEAD_LETTER_STREAM)')
      .option(
        '--endpoint <url>',
        'the Kinesis endpoint, an emulator for instance (env ONSET_KINESIS_ENDPOINT; default the AWS SDK settings: AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL, AWS)',
      ),
  );
}

/** `onset lambda serve`: the stream function behind the Lambda Runtime Interface Emulator's invoke path. */
export function registerLambdaCommands(program: Command): void {
  const lambda = program
    .command('lambda')
    .description('the stream function that Lambda runs (Kinesis in, Kinesis out), run here');
  addStreamFunctionOptions(
    lambda
      .command('serve')
      .description(
        `serve the stream function on the Lambda Runtime Interface Emulator's path (POST ${INVOKE_PATH}): a Kinesis event in, predictions on the output stream, bad records on the dead-letter stream, batch item failures answered`,
      )
      .option('-p, --port <port>', 'port to listen on (0: any free one)', portArgument, 8080)
      .option('--host <host>', 'address to listen on', '127.0.0.1'),
  ).action(async (flags: LambdaServeFlags) => (await import('./stream-actions.js')).serveLambda(flags));
}
