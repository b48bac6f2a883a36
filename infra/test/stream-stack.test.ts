/**
 * The CDK app, synthesized offline: every resource, every IAM statement and the alarms checked on the
 * template, and the Lambda bundle it would deploy run in a fresh Node process on a Kinesis event against a
 * Kinesis emulator, so what would be deployed is what was tested. Needs the app's own dependencies
 * (`npm ci --prefix infra`, which `.ci/run` does): without them it skips and says so, except under CI.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { createMatrix } from '../../src/math/matrix.js';
import { saveModelDocument } from '../../src/ml/model-document.js';
import { trainOnDataset } from '../../src/ml/train-on-dataset.js';
import { kinesisEvent, runLambdaBundle, startKinesis, type TestKinesis } from '../../test/support/kinesis.js';

const INFRA = fileURLToPath(new URL('..', import.meta.url));
const READY = existsSync(join(INFRA, 'node_modules', 'aws-cdk-lib'));
if (!READY && process.env.CI) {
  throw new Error("The CDK app's dependencies are not installed: .ci/run runs npm ci --prefix infra first");
}
if (!READY) console.warn('infra tests skipped: install the CDK app first (npm ci --prefix infra)');

const RUN_ID = '0123456789abcdef0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'onset-infra-'));

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** The synthesized stack of a stage, and where its assembly is. */
async function synth(stage: 'stg' | 'prod') {
  const { App } = await import('aws-cdk-lib');
  const { Template: Templates } = await import('aws-cdk-lib/assertions');
  const { OnsetStreamStack } = await import('../lib/stream-stack.js');
  const app = new App({ outdir: join(dir, stage) });
  const stack = new OnsetStreamStack(app, `onset-stream-${stage}`, { stage, runId: RUN_ID });
  const assembly = app.synth();
  return { template: Templates.fromStack(stack), stack, directory: assembly.directory };
}

/** The logical id of the only resource of `type`. */
function idOf(template: Template, type: string): string {
  const ids = Object.keys(template.findResources(type));
  expect(ids, type).toHaveLength(1);
  return ids[0]!;
}

describe.skipIf(!READY)('the CDK app', () => {
  let stg: Awaited<ReturnType<typeof synth>>;
  beforeAll(async () => {
    stg = await synth('stg');
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has the bucket, the three encrypted streams, the function, its mapping, logs, failure queue and alarms', () => {
    const { template } = stg;
    for (const [type, count] of [
      ['AWS::S3::Bucket', 1],
      ['AWS::Kinesis::Stream', 3],
      ['AWS::Lambda::Function', 1],
      ['AWS::Lambda::EventSourceMapping', 1],
      ['AWS::Logs::LogGroup', 1],
      ['AWS::SQS::Queue', 1],
      ['AWS::CloudWatch::Alarm', 5],
      ['AWS::IAM::Role', 1],
    ] as const) {
      template.resourceCountIs(type, count);
    }
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    // TLS only: every request without it is denied.
    const bucketPolicy = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0]!;
    expect(bucketPolicy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    for (const [name, shards] of [
      ['parkinson-input-stream-stg', 1],
      ['parkinson-output-stream-stg', 1],
      ['parkinson-dead-letter-stream-stg', 1],
    ] as const) {
      template.hasResourceProperties('AWS::Kinesis::Stream', {
        Name: name,
        ShardCount: shards,
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      });
    }
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('runs the bundled function on Node.js 22, arm64, with the model, the streams and the run id', () => {
    const { template } = stg;
    const bucket = idOf(template, 'AWS::S3::Bucket');
    const streams = template.findResources('AWS::Kinesis::Stream');
    const streamId = (name: string) =>
      Object.keys(streams).find((id) => streams[id]!.Properties.Name === name)!;
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 60,
      LoggingConfig: { LogGroup: { Ref: idOf(template, 'AWS::Logs::LogGroup') } },
      Environment: {
        Variables: {
          MODEL_BUCKET: { Ref: bucket },
          MODEL_PREFIX: 'models',
          RUN_ID,
          PREDICTIONS_STREAM_NAME: { Ref: streamId('parkinson-output-stream-stg') },
          ONSET_DEAD_LETTER_STREAM: { Ref: streamId('parkinson-dead-letter-stream-stg') },
        },
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [streamId('parkinson-input-stream-stg'), 'Arn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86_400,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [idOf(template, 'AWS::SQS::Queue'), 'Arn'] } },
      },
    });
  });

  it('grants the function only what it needs: no wildcard action, no resource beyond the model prefix, the streams, its logs and queue', () => {
    const { template } = stg;
    const role = Object.values(template.findResources('AWS::IAM::Role'))[0]!;
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
    );
    const streams = template.findResources('AWS::Kinesis::Stream');
    const streamArn = (name: string) => ({
      'Fn::GetAtt': [Object.keys(streams).find((id) => streams[id]!.Properties.Name === name)!, 'Arn'],
    });
    const granted = statements.map((statement) => ({
      actions: [statement.Action].flat().sort(),
      resources: [statement.Resource].flat(),
      effect: statement.Effect,
    }));
    for (const statement of granted) {
      expect(statement.effect).toBe('Allow');
      for (const action of statement.actions) expect(action).not.toContain('*');
      expect(statement.resources).not.toContain('*');
    }
    expect(granted).toEqual(
      expect.arrayContaining([
        {
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [{ 'Fn::GetAtt': [idOf(template, 'AWS::Logs::LogGroup'), 'Arn'] }],
          effect: 'Allow',
        },
        {
          actions: ['s3:GetObject'],
          resources: [
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(template, 'AWS::S3::Bucket'), 'Arn'] }, '/models/*']] },
          ],
          effect: 'Allow',
        },
        {
          actions: ['kinesis:PutRecord', 'kinesis:PutRecords'],
          resources: [
            streamArn('parkinson-output-stream-stg'),
            streamArn('parkinson-dead-letter-stream-stg'),
          ],
          effect: 'Allow',
        },
      ]),
    );
    // The input stream is only read; the output streams are only written.
    const onInput = granted.filter((s) =>
      s.resources.some((r) => JSON.stringify(r) === JSON.stringify(streamArn('parkinson-input-stream-stg'))),
    );
    expect(onInput).toHaveLength(1);
    expect(onInput[0]!.resources).toHaveLength(1);
    expect(onInput[0]!.actions.every((a) => /^kinesis:(Describe|Get|List|SubscribeToShard)/.test(a))).toBe(
      true,
    );
    const queue = granted.find((s) => s.actions.includes('sqs:SendMessage'))!;
    expect(queue.resources).toEqual([{ 'Fn::GetAtt': [idOf(template, 'AWS::SQS::Queue'), 'Arn'] }]);
    // Nothing else: five statements in all.
    expect(granted).toHaveLength(5);
  });

  it('alarms on iterator age, errors, throttles, dead letters and records given up on', () => {
    const { template } = stg;
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const byMetric = new Map(alarms.map((alarm) => [`${alarm.Namespace}/${alarm.MetricName}`, alarm]));
    expect([...byMetric.keys()].sort()).toEqual([
      'AWS/Kinesis/IncomingRecords',
      'AWS/Lambda/Errors',
      'AWS/Lambda/IteratorAge',
      'AWS/Lambda/Throttles',
      'AWS/SQS/ApproximateNumberOfMessagesVisible',
    ]);
    expect(byMetric.get('AWS/Lambda/IteratorAge')).toMatchObject({
      Statistic: 'Maximum',
      Threshold: 60_000,
      EvaluationPeriods: 5,
    });
    for (const alarm of alarms) {
      expect(alarm.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      expect(alarm.TreatMissingData).toBe('notBreaching');
    }
  });

  it('keeps the bucket and streams of prod when the stack goes, with more shards and longer logs', async () => {
    const { template } = await synth('prod');
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    for (const stream of Object.values(template.findResources('AWS::Kinesis::Stream'))) {
      expect(stream.DeletionPolicy).toBe('Retain');
    }
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      Name: 'parkinson-input-stream-prod',
      ShardCount: 2,
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    const stgBucket = Object.values(stg.template.findResources('AWS::S3::Bucket'))[0]!;
    expect(stgBucket.DeletionPolicy).toBe('Delete');
  }, 120_000);

  it('refuses a stage other than stg and prod, and a run id that is not one', () => {
    const app = (context: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'bin/onset.ts'], {
        cwd: INFRA,
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: join(dir, 'bin') },
        encoding: 'utf8',
      });
    const dev = app({ stage: 'dev' });
    expect(dev.status).not.toBe(0);
    expect(dev.stderr).toContain('Choose a stage with -c stage=stg or -c stage=prod, got dev');
    const badRun = app({ stage: 'stg', runId: 'latest' });
    expect(badRun.stderr).toContain('-c runId takes the 32-hex-digit run id');
  });

  describe('the bundle it deploys', () => {
    let kinesis: TestKinesis;
    beforeAll(async () => {
      kinesis = await startKinesis();
    });
    afterAll(async () => {
      await kinesis?.close();
    });

    it('scores a Kinesis event in a fresh Node process, as Lambda would run it', async () => {
      const { template, directory } = stg;
      const code = Object.values(template.findResources('AWS::Lambda::Function'))[0]!.Properties.Code;
      const bundle = join(directory, `asset.${String(code.S3Key).replace(/\.zip$/, '')}`, 'index.mjs');
      expect(existsSync(bundle)).toBe(true);
      expect(readFileSync(bundle).length).toBeLessThan(2 * 1024 * 1024);

      const patients = generateDataset({ rows: 3, seed: 41 });
      const { document, model } = trainOnDataset(generateDataset({ rows: 300, seed: 40 }), {
        estimator: 'gbdt',
      });
      const modelPath = join(dir, 'model.json');
      await saveModelDocument(modelPath, document);
      const x = new Float64Array(3 * FEATURE_NAMES.length);
      FEATURE_NAMES.forEach((name, j) => {
        for (let i = 0; i < 3; i++) x[i * FEATURE_NAMES.length + j] = patients.columns[name][i]!;
      });
      const expected = model.predictProba(createMatrix(x, 3, FEATURE_NAMES.length));
      await kinesis.createStream('bundle-out');
      await kinesis.createStream('bundle-dead');
      const event = kinesisEvent(
        [0, 1, 2].map((i) =>
          JSON.stringify({
            data: Object.fromEntries(FEATURE_NAMES.map((name) => [name, patients.columns[name][i]!])),
            patient_id: `P-${i}`,
          }),
        ),
      );
      const run = await runLambdaBundle(bundle, event, {
        ONSET_MODEL_URI: modelPath,
        PREDICTIONS_STREAM_NAME: 'bundle-out',
        ONSET_DEAD_LETTER_STREAM: 'bundle-dead',
        // The SDK's own setting, as the same code would be pointed at an emulator anywhere.
        AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.answer).toEqual({ batchItemFailures: [] });
      // Its structured logs, the init's first.
      expect(run.stdout).toContain('"msg":"stream function ready"');
      const outputs = (await kinesis.readStream('bundle-out')) as {
        prediction: { patient_id: string; probability: number };
      }[];
      expect(outputs.map((o) => [o.prediction.patient_id, o.prediction.probability])).toEqual([
        ['P-0', expected[0]],
        ['P-1', expected[1]],
        ['P-2', expected[2]],
      ]);
    }, 60_000);
  });
});
