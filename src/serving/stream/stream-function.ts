/**
 * The stream function as Lambda runs it: configured from the environment, the model loaded once per
 * container (a model that cannot be loaded fails the init, loudly, rather than answering wrongly), the
 * handler made once. `lambda.ts` is the bundle's entry; `onset lambda serve` runs the same function
 * behind the Lambda Runtime Interface Emulator's invoke path.
 */
import type { StreamVariables } from '../../config.js';
import { invalidParameter } from '../../errors.js';
import type { PredictionRecorder } from '../../monitoring/prediction-log/prediction-log-writer.js';
import { openArtifactStore } from '../../tracking/artifacts/artifact-store-uri.js';
import type { RegistryStores } from '../../tracking/model-registry.js';
import { DEFAULT_EXPORT_PREFIX, loadExportedModel } from '../exported-model.js';
import { loadServedModel, type ServedModel } from '../model-source.js';
import { KinesisOutput, kinesisClient } from './kinesis-output.js';
import { createStreamHandler, type StreamHandler, type StreamLogger } from './stream-handler.js';

/**
 * Where the model comes from: `ONSET_MODEL_URI` (a model file or folder, or with the stores `models:/...`,
 * `runs:/...`), or, as the original function takes it, `MODEL_BUCKET` and `RUN_ID` (and `MODEL_PREFIX`,
 * default `models`): a model `onset models export-to-s3` exported (see `exported-model.ts`).
 */
export type StreamModelSource =
  | { readonly uri: string }
  | { readonly bucket: string; readonly prefix: string; readonly runId: string };

/** The function's settings, each from the environment variable it names. */
export interface StreamFunctionSettings {
  readonly model: StreamModelSource;
  /** `PREDICTIONS_STREAM_NAME` (the original function's name for it): where predictions go. */
  readonly outputStream: string;
  /** `ONSET_DEAD_LETTER_STREAM`: where the records that cannot be scored go. */
  readonly deadLetterStream: string;
  /** The Kinesis endpoint; default the SDK's (`AWS_ENDPOINT_URL_KINESIS`, `AWS_ENDPOINT_URL`, AWS). */
  readonly kinesisEndpoint?: string;
  /**
   * An S3-compatible endpoint for `MODEL_BUCKET` (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`): addressed
   * path-style, as emulators need; AWS's own when unset.
   */
  readonly s3Endpoint?: string;
}

/** The settings from `env`, or an error naming every variable that is missing. */
export function streamFunctionSettings(env: StreamVariables): StreamFunctionSettings {
  const exported = !env.ONSET_MODEL_URI && (env.MODEL_BUCKET || env.RUN_ID);
  const missing = [
    ...(env.ONSET_MODEL_URI || (env.MODEL_BUCKET && env.RUN_ID)
      ? []
      : exported
        ? [
            env.MODEL_BUCKET
              ? 'RUN_ID (the run whose exported model to load)'
              : "MODEL_BUCKET (the bucket of RUN_ID's model)",
          ]
        : [
            'ONSET_MODEL_URI (a model file or folder, or a models:/ URI), or MODEL_BUCKET and RUN_ID (an exported model)',
          ]),
    ...(env.PREDICTIONS_STREAM_NAME ? [] : ['PREDICTIONS_STREAM_NAME (the output stream)']),
    ...(env.ONSET_DEAD_LETTER_STREAM ? [] : ['ONSET_DEAD_LETTER_STREAM (the dead-letter stream)']),
  ];
  if (missing.length > 0) {
    throw invalidParameter(`The stream function needs ${missing.join(', ')}`);
  }
  const s3Endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  return {
    model: env.ONSET_MODEL_URI
      ? { uri: env.ONSET_MODEL_URI }
      : { bucket: env.MODEL_BUCKET!, prefix: env.MODEL_PREFIX || DEFAULT_EXPORT_PREFIX, runId: env.RUN_ID! },
    outputStream: env.PREDICTIONS_STREAM_NAME!,
    deadLetterStream: env.ONSET_DEAD_LETTER_STREAM!,
    ...(env.ONSET_KINESIS_ENDPOINT ? { kinesisEndpoint: env.ONSET_KINESIS_ENDPOINT } : {}),
    ...(s3Endpoint ? { s3Endpoint } : {}),
  };
}

/** Structured logs, one JSON object a line on standard output, as CloudWatch reads them. */
export function jsonLogger(
  write: (line: string) => void = (line) => process.stdout.write(line),
): StreamLogger {
  const log = (level: string) => (fields: Readonly<Record<string, unknown>>, message: string) =>
    write(`${JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields })}\n`);
  return { info: log('info'), warn: log('warn') };
}

export interface StreamFunction {
  readonly handler: StreamHandler;
  readonly model: ServedModel;
}

/**
 * Loads the model and makes the handler. A model file or folder loads by itself; a registry or run URI
 * needs the stores (`stores`, opened by the caller from ONSET_TRACKING_URI and ONSET_ARTIFACT_URI).
 */
export async function initStreamFunction(
  settings: StreamFunctionSettings,
  options: {
    readonly stores?: RegistryStores;
    readonly logger?: StreamLogger;
    /** The prediction log, when it is on: each scored record is recorded as source `stream`. */
    readonly recorder?: PredictionRecorder;
  } = {},
): Promise<StreamFunction> {
  const logger = options.logger ?? jsonLogger();
  const started = performance.now();
  const source = settings.model;
  const model =
    'uri' in source
      ? await loadServedModel(source.uri, options.stores)
      : await loadExportedModel(
          await openArtifactStore(`s3://${source.bucket}/${source.prefix}`, {
            s3: settings.s3Endpoint === undefined ? {} : { endpoint: settings.s3Endpoint },
          }),
          source.runId,
        );
  const client = kinesisClient(settings.kinesisEndpoint);
  const handler = createStreamHandler({
    model: () => model,
    output: new KinesisOutput(client, settings.outputStream),
    deadLetter: new KinesisOutput(client, settings.deadLetterStream),
    logger,
    ...(options.recorder ? { recorder: options.recorder } : {}),
  });
  logger.info(
    {
      model: model.name,
      version: model.version,
      run_id: model.runId,
      checksum: model.checksum,
      estimator: model.document.estimator,
      init_ms: Math.round(performance.now() - started),
    },
    'stream function ready',
  );
  return { handler, model };
}
