/**
 * The CDK app: `cdk deploy -c stage=stg` (or `prod`) deploys Onset's stream path (see
 * `lib/stream-stack.ts`); `-c runId=RUN_ID` names the exported model the function loads.
 */
import { App } from 'aws-cdk-lib';
import { isStageName, OnsetStreamStack, STAGES } from '../lib/stream-stack.js';

const app = new App();
const stage: unknown = app.node.tryGetContext('stage');
if (!isStageName(stage)) {
  throw new Error(
    `Choose a stage with -c stage=${Object.keys(STAGES).join(' or -c stage=')}, got ${String(stage)}`,
  );
}
const runId: unknown = app.node.tryGetContext('runId');
if (runId !== undefined && !(typeof runId === 'string' && /^[0-9a-f]{32}$/.test(runId))) {
  throw new Error(
    `-c runId takes the 32-hex-digit run id onset models export-to-s3 printed, got ${String(runId)}`,
  );
}
new OnsetStreamStack(app, `onset-stream-${stage}`, {
  stage,
  ...(typeof runId === 'string' ? { runId } : {}),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: `Onset stream path (${stage}): model bucket, Kinesis streams, the stream function and its alarms`,
});
