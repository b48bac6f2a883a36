/**
 * Onset's stream path on AWS: the model bucket, the input, output and dead-letter Kinesis streams, the
 * stream function (the bundle of `src/serving/stream/lambda.ts`, built here by esbuild: no image, no
 * Docker) reading the input stream through an event source mapping, and the alarms that say when it
 * falls behind or fails. Every permission is written out: the function reads the model prefix of the
 * bucket and the input stream, and writes the output and dead-letter streams, its log group and the
 * failure queue, and nothing else.
 */
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Stream, StreamEncryption } from 'aws-cdk-lib/aws-kinesis';
import { Architecture, Runtime, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** What differs between the stages. */
export interface StageSettings {
  /** Shards of the input stream (each takes 1 MB or 1,000 records a second). */
  readonly inputShards: number;
  readonly memoryMb: number;
  readonly logRetention: RetentionDays;
  /** Whether the bucket and the streams outlive the stack (prod) or go with it (stg). */
  readonly removal: RemovalPolicy;
}

export const STAGES = {
  stg: {
    inputShards: 1,
    memoryMb: 512,
    logRetention: RetentionDays.ONE_WEEK,
    removal: RemovalPolicy.DESTROY,
  },
  prod: {
    inputShards: 2,
    memoryMb: 1024,
    logRetention: RetentionDays.THREE_MONTHS,
    removal: RemovalPolicy.RETAIN,
  },
} as const satisfies Record<string, StageSettings>;

export type StageName = keyof typeof STAGES;

export function isStageName(value: unknown): value is StageName {
  return typeof value === 'string' && Object.hasOwn(STAGES, value);
}

/** Where exported models are in the bucket (`onset models export-to-s3`'s default prefix). */
export const MODEL_PREFIX = 'models';

/** The function's bundle entry, in the Onset package this app deploys. */
const ENTRY = fileURLToPath(new URL('../../src/serving/stream/lambda.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface OnsetStreamStackProps extends StackProps {
  readonly stage: StageName;
  /** The run whose exported model the function loads (`onset models export-to-s3` prints it). */
  readonly runId?: string;
}

export class OnsetStreamStack extends Stack {
  readonly bucket: Bucket;
  readonly input: Stream;
  readonly output: Stream;
  readonly deadLetter: Stream;
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: OnsetStreamStackProps) {
    super(scope, id, props);
    const stage = STAGES[props.stage];
    Tags.of(this).add('project', 'onset');
    Tags.of(this).add('stage', props.stage);

    this.bucket = new Bucket(this, 'ModelBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: stage.removal,
    });

    const stream = (logicalId: string, name: string, shardCount: number) =>
      new Stream(this, logicalId, {
        streamName: `${name}-${props.stage}`,
        shardCount,
        encryption: StreamEncryption.MANAGED,
        retentionPeriod: Duration.hours(24),
        removalPolicy: stage.removal,
      });
    this.input = stream('InputStream', 'parkinson-input-stream', stage.inputShards);
    this.output = stream('OutputStream', 'parkinson-output-stream', stage.inputShards);
    this.deadLetter = stream('DeadLetterStream', 'parkinson-dead-letter-stream', 1);

    // Where the event source mapping sends what it gave up on (after the retries below).
    const failures = new Queue(this, 'FailureQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const logGroup = new LogGroup(this, 'FunctionLogs', {
      retention: stage.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // A role of its own, with no managed policy: AWSLambdaBasicExecutionRole would allow every log group.
    const role = new Role(this, 'FunctionRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Onset stream function: reads the model prefix and the input stream, writes predictions',
    });
    logGroup.grantWrite(role);
    role.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${MODEL_PREFIX}/*`)],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['kinesis:PutRecord', 'kinesis:PutRecords'],
        resources: [this.output.streamArn, this.deadLetter.streamArn],
      }),
    );

    this.function = new NodejsFunction(this, 'StreamFunction', {
      entry: ENTRY,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: stage.memoryMb,
      timeout: Duration.seconds(60),
      role,
      logGroup,
      description:
        'Onset: scores Kinesis records with the model exported for RUN_ID (onset models export-to-s3)',
      environment: {
        MODEL_BUCKET: this.bucket.bucketName,
        MODEL_PREFIX,
        PREDICTIONS_STREAM_NAME: this.output.streamName,
        ONSET_DEAD_LETTER_STREAM: this.deadLetter.streamName,
        NODE_OPTIONS: '--enable-source-maps',
        ...(props.runId ? { RUN_ID: props.runId } : {}),
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        // The AWS SDK is bundled: the version tested here, not whichever the runtime carries.
        externalModules: [],
        // Bundled CommonJS dependencies call require(): ESM has none of its own.
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        forceDockerBundling: false,
      },
    });

    this.function.addEventSource(
      new KinesisEventSource(this.input, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 500,
        maxBatchingWindow: Duration.seconds(1),
        bisectBatchOnError: true,
        retryAttempts: 10,
        maxRecordAge: Duration.hours(24),
        reportBatchItemFailures: true,
        parallelizationFactor: 1,
        onFailure: new SqsDlq(failures),
      }),
    );

    const alarm = (logicalId: string, description: string, metric: Metric, threshold: number, periods = 1) =>
      new Alarm(this, logicalId, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: periods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    alarm(
      'IteratorAgeAlarm',
      'The stream function is more than a minute behind the input stream',
      this.function.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
      60_000,
      5,
    );
    alarm(
      'ErrorsAlarm',
      'The stream function failed (a model that cannot be loaded fails every init)',
      this.function.metricErrors({ period: Duration.minutes(5) }),
      1,
    );
    alarm(
      'ThrottlesAlarm',
      'The stream function was throttled',
      this.function.metricThrottles({ period: Duration.minutes(5) }),
      1,
    );
    alarm(
      'DeadLetterAlarm',
      'Records that could not be scored reached the dead-letter stream',
      new Metric({
        namespace: 'AWS/Kinesis',
        metricName: 'IncomingRecords',
        dimensionsMap: { StreamName: this.deadLetter.streamName },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      1,
    );
    alarm(
      'FailureQueueAlarm',
      'The event source mapping gave up on records (their positions are in the failure queue)',
      failures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      1,
    );

    new CfnOutput(this, 'ModelBucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'InputStreamName', { value: this.input.streamName });
    new CfnOutput(this, 'OutputStreamName', { value: this.output.streamName });
    new CfnOutput(this, 'DeadLetterStreamName', { value: this.deadLetter.streamName });
    new CfnOutput(this, 'FunctionName', { value: this.function.functionName });
    new CfnOutput(this, 'FailureQueueUrl', { value: failures.queueUrl });
  }
}
