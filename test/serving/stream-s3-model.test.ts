/**
 * The stream function's model from a bucket by run id (the original's MODEL_BUCKET and RUN_ID): a
 * registered version exported to an S3 emulator (s3rver) by `onset models export-to-s3`, loaded by
 * `onset lambda serve` (a fresh process, no tracking store) and used on a Kinesis emulator (kinesalite);
 * a file changed in the bucket behind Onset's back, or a run never exported, fails the function's init.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { createMatrix } from '../../src/math/matrix.js';
import { predictionSet, thresholdsFor } from '../../src/ml/calibration/conformal.js';
import { INVOKE_PATH } from '../../src/serving/stream/invoke-server.js';
import { type Child, startCli, waitFor } from '../support/child-process.js';
import { runCliAsync } from '../support/cli.js';
import { kinesisEvent, startKinesis, type TestKinesis } from '../support/kinesis.js';
import { trainAndPromote } from '../support/registry.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { useTemporaryStores } from '../support/stores.js';

const BUCKET = 'parkinson-models';
const temporary = useTemporaryStores('stream-s3');
const patient = generateDataset({ rows: 1, seed: 31 });
const record = {
  data: Object.fromEntries(FEATURE_NAMES.map((name) => [name, patient.columns[name][0]!])),
  patient_id: 'P-31',
};

let s3: TestS3;
let kinesis: TestKinesis;
let runId: string;
let expected: number;
let expectedSet: (0 | 1)[];
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  [s3, kinesis] = await Promise.all([startS3({ buckets: [BUCKET] }), startKinesis()]);
  const trained = await trainAndPromote(
    temporary.stores,
    'parkinson-disease-prediction',
    generateDataset({ rows: 300, seed: 30 }),
    {},
    { estimator: 'gbdt', cvFolds: 3 },
  );
  runId = trained.runId;
  const x = Float64Array.from(FEATURE_NAMES, (name) => patient.columns[name][0]!);
  expected = trained.model.predictProba(createMatrix(x, 1, FEATURE_NAMES.length))[0]!;
  expectedSet = [...predictionSet(expected, thresholdsFor(trained.document.conformal!, x))];
  const { ONSET_MODEL_URI: _, ...rest } = process.env;
  env = {
    ...rest,
    ONSET_HOME: temporary.home,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_REGION: s3.region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_S3: s3.endpoint,
  };
}, 120_000);

afterAll(async () => {
  await Promise.all([s3?.stop(), kinesis?.close()]);
});

/** Starts `onset lambda serve` on the exported model of `run`; answers it listening, or its error output. */
async function serveExported(run: string): Promise<{ child: Child; url: string } | { error: string }> {
  const child = startCli(
    [
      'lambda',
      'serve',
      '--port',
      '0',
      '--output',
      'out',
      '--dead-letter',
      'dead',
      '--endpoint',
      kinesis.endpoint,
    ],
    { env: { ...env, MODEL_BUCKET: BUCKET, RUN_ID: run } },
  );
  const listening = /invoke with POST (http:\/\/[^/\s]+)/;
  try {
    await waitFor(() => listening.test(child.stderr()), 60_000, 'onset lambda serve to listen', child);
  } catch {
    await child.exited;
    return { error: child.stderr() };
  }
  return { child, url: listening.exec(child.stderr())![1]! };
}

describe('a model exported to a bucket by run id', () => {
  it('is what the stream function loads with MODEL_BUCKET and RUN_ID, and scores as the version does', async () => {
    const exported = await runCliAsync(['models', 'export-to-s3', '--bucket', BUCKET], { env });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(`MODEL_BUCKET=${BUCKET} RUN_ID=${runId}`);
    await kinesis.createStream('out');
    await kinesis.createStream('dead');
    const served = await serveExported(runId);
    if ('error' in served) throw new Error(served.error);
    try {
      const event = kinesisEvent([JSON.stringify(record)]);
      const answer = await fetch(`${served.url}${INVOKE_PATH}`, {
        method: 'POST',
        body: JSON.stringify(event),
      });
      expect(await answer.json()).toEqual({ batchItemFailures: [] });
      const [output] = await kinesis.readStream('out');
      expect(output).toEqual({
        model: 'parkinson-disease-prediction',
        version: '1',
        run_id: runId,
        prediction: {
          patient_id: 'P-31',
          probability: expected,
          diagnosis: expected >= 0.5 ? 1 : 0,
          threshold: 0.5,
          prediction_set: expectedSet,
        },
      });
    } finally {
      served.child.process.kill('SIGTERM');
      await served.child.exited;
    }
  }, 120_000);

  it('fails the init, saying why, when a file changed behind its back or nothing was exported', async () => {
    const missing = await serveExported('0'.repeat(32));
    expect('error' in missing && missing.error).toMatch(
      /No model is exported for run 0{32} at s3:\/\/parkinson-models\/models: export it with onset models export-to-s3/,
    );
    const exported = await runCliAsync(['models', 'export-to-s3', '--bucket', BUCKET], { env });
    expect(exported.code, exported.stderr).toBe(0);
    await s3
      .client()
      .send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `models/${runId}/model/MLmodel`, Body: 'flavors: {}\n' }),
      );
    const tampered = await serveExported(runId);
    expect('error' in tampered && tampered.error).toMatch(/MLmodel.*sha256|sha256.*MLmodel/);
  }, 60_000);
});
