import type { Command } from 'commander';
import { formatDuration, type OnsetConfig } from '../config.js';
import { type RunningServer, registeredModelOf, startServer } from '../server/server.js';
import { describeProblem } from '../serving/live-model.js';
import { addStoreOptions, configFrom } from './config-options.js';
import { describeServedModel, servedModelFacts } from './model-summary.js';
import { integerArgument, onOffArgument } from './options.js';
import { liveRenderer } from './pipeline.js';
import { displayPath, prepareHome } from './stores.js';

interface ServerFlags {
  port?: number;
  host?: string;
  home?: string;
  trackingUri?: string;
  artifactUri?: string;
  model?: string;
  data?: string;
  allowUnauthenticated?: boolean;
  predictionLog?: boolean;
}

function serverCommand(command: Command): Command {
  return addStoreOptions(command)
    .option('-p, --port <port>', 'port to listen on (env ONSET_PORT, default 9696)', integerArgument)
    .option('--host <host>', 'address to listen on (env ONSET_HOST, default 127.0.0.1)')
    .option(
      '--allow-unauthenticated',
      'listen beyond loopback even with no ONSET_ADMIN_TOKEN or no ONSET_API_KEY, with a warning (env ONSET_ALLOW_UNAUTHENTICATED)',
    )
    .option(
      '--prediction-log <on|off>',
      'record every prediction in the prediction log, for monitoring and POST /feedback (env ONSET_PREDICTION_LOG, default on)',
      onOffArgument,
    )
    .option(
      '-m, --model <uri>',
      'the model to serve: models:/NAME/STAGE, models:/NAME@ALIAS, runs:/RUN_ID/model or a file (env ONSET_MODEL_URI, default models:/parkinson-disease-prediction/Production)',
    );
}

/** Stops gracefully on SIGTERM or SIGINT and exits 0. */
function stopOnSignals(server: RunningServer): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`onset: stopping failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

function describe(server: RunningServer, config: OnsetConfig, extra: readonly string[]): string {
  const { address } = server;
  const model = server.live.current();
  const problem = server.live.problem();
  const trouble = problem ? describeProblem(config.modelUri, problem) : undefined;
  const serving = model
    ? `${describeServedModel(servedModelFacts(model))}${trouble ? `, a fallback: ${trouble}` : ''}`
    : (trouble ?? `waiting for ${config.modelUri}`);
  return [
    ...(server.exposureWarning ? [server.exposureWarning] : []),
    `Onset is up on ${server.addresses.join(', ')}`,
    ...(server.ui
      ? [
          server.ui.built
            ? `  web UI                     ${address}/`
            : '  web UI                     not built in this installation (npm run build makes dist/web)',
        ]
      : []),
    `  prediction API             ${address}/predict  (POST; /predict/batch, /explain, /ready, /model)`,
    `  model                      ${serving}`,
    `  API docs (OpenAPI)         ${address}/docs`,
    `  metrics (Prometheus)       ${address}/metrics`,
    `  tracking and registry API  ${address}/api/2.0/mlflow/  (MLFLOW_TRACKING_URI=${address})`,
    ...extra,
    `  prediction log             ${describePredictionLog(server, config)}`,
    `  health                     ${address}/health`,
    `  store                      ${config.trackingUri}`,
    `  artifacts                  ${config.artifactUri}`,
    config.apiKey ? '  prediction routes need the header X-API-Key (ONSET_API_KEY)' : '',
    config.adminToken
      ? '  tracking, registry, artifact, pipeline and alert routes need the admin token (ONSET_ADMIN_TOKEN)'
      : '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** Whether predictions are logged, where, and where the patient keys' secret is. */
function describePredictionLog(server: RunningServer, config: OnsetConfig): string {
  if (!server.predictionLog.writer)
    return 'off (ONSET_PREDICTION_LOG=off); POST /feedback labels what others logged';
  const secret = server.predictionLog.secret;
  const keys =
    secret?.source === 'setting'
      ? 'patient ids kept as HMAC keys (ONSET_LOG_SECRET)'
      : `patient ids kept as HMAC keys (secret ${secret?.source === 'new' ? 'made and kept' : 'kept'} in ${displayPath(secret?.path ?? config.home)})`;
  const retention = server.predictionLog.retention?.limited
    ? `; kept ${[
        config.predictionLogMaxAgeMs === undefined ? '' : formatDuration(config.predictionLogMaxAgeMs),
        config.predictionLogMaxRows === undefined ? '' : `at most ${config.predictionLogMaxRows} rows`,
      ]
        .filter((part) => part !== '')
        .join(', ')}`
    : '';
  return `on, ${keys}${retention}; POST /feedback records the ground truth`;
}

/**
 * `onset up`: the whole platform in one process. On a home with no Production model it first runs
 * `train-all` (on `--data`/ONSET_DATA, or the built-in data) through the promotion gate, then serves it.
 */
async function up(options: ServerFlags): Promise<void> {
  const config = configFrom(options);
  await prepareHome(config, 'write');
  const server = await startServer(config, { pipelines: true, ui: true });
  stopOnSignals(server);
  const { service } = server.pipelines!;
  const abandoned = server.stores.abandonedRunsFailed + server.stores.abandonedPipelineRunsFailed;
  const schedules = (await server.stores.pipelines.listSchedules()).filter((s) => s.enabled).length;
  const extra = [
    `  pipelines API              ${server.address}/api/onset/pipelines  (${schedules} schedule(s) active)`,
    `  alerts (Alertmanager)      ${server.address}/api/onset/alerts  (action="retrain" starts the retrain pipeline)`,
    ...(abandoned > 0 ? [`  marked ${abandoned} run(s) left RUNNING by a dead process as FAILED`] : []),
  ];
  const name = registeredModelOf(config.modelUri);
  if (!server.live.current() && name !== undefined) {
    const production = await server.stores.registry.getLatestVersions(name, ['Production']).catch(() => []);
    if (production.length === 0) {
      process.stderr.write(
        `No Production version of ${name} yet: training the four families on ${config.data ?? 'the built-in data (2,105 generated patients, seed 42)'} (train-all)...\n`,
      );
      const started = Date.now();
      const handle = await service.start(
        'train-all',
        config.data ? { data: config.data } : {},
        'bootstrap',
        liveRenderer(),
      );
      const run = await handle.finished;
      const gate = run.blocks.find((block) => block.block === 'gate')?.output;
      process.stderr.write(
        run.status === 'SUCCEEDED'
          ? `train-all ${run.runId} finished in ${((Date.now() - started) / 1000).toFixed(1)} s: ${gate?.stage === 'Production' ? 'promoted' : 'not promoted'}: ${String(gate?.reason)}\n`
          : `onset: the first training, train-all ${run.runId}, ${run.status}: ${run.error} (see onset pipeline logs ${run.runId})\n`,
      );
      await server.live.check();
    }
  }
  process.stdout.write(`${describe(server, config, extra)}\n`);
}

export function registerUpCommand(program: Command): void {
  serverCommand(
    program
      .command('up')
      .description(
        'start the whole platform on one port: train a first model if there is none, then serve predictions, metrics, docs, tracking and registry, pipelines and schedules',
      ),
  )
    .option(
      '-d, --data <file>',
      'labelled CSV for the first training (env ONSET_DATA; default: the built-in data)',
    )
    .action(up);

  serverCommand(
    program
      .command('serve')
      .description(
        'serve predictions only (a stateless replica over the shared stores, for scaling out behind a load balancer)',
      ),
  ).action(async (options: ServerFlags) => {
    const config = configFrom(options);
    await prepareHome(config, 'write');
    const server = await startServer(config, { pipelines: false });
    stopOnSignals(server);
    process.stdout.write(`${describe(server, config, [])}\n`);
  });
}
