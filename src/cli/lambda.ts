import type { Command } from 'commander';
import { streamVariables } from '../config.js';
import type { PredictionRecorder } from '../monitoring/prediction-log/prediction-log-writer.js';
import { parseModelUri } from '../serving/model-source.js';
import { INVOKE_PATH, startInvokeServer } from '../serving/stream/invoke-server.js';
import { initStreamFunction, jsonLogger, streamFunctionSettings } from '../serving/stream/stream-function.js';
import { addStoreOptions, configFrom } from './config-options.js';
import { asUsage, portArgument } from './options.js';
import { openCommandStores } from './stores.js';

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

interface LambdaServeFlags extends StreamFunctionFlags {
  port: number;
  host: string;
}

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
  ).action(async (flags: LambdaServeFlags) => {
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
  });
}
