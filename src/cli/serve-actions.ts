/** What `onset up` and `onset serve` do (their options are in `up.ts`). */
import type { OnsetConfig } from '../config.js';
import { type RunningCluster, startCluster, workerModule } from '../server/cluster-primary.js';
import { checkExposure, listeningAddresses } from '../server/listening.js';
import type { RunningServer } from '../server/server.js';
import type { WebUiFiles } from '../server/web-ui.js';
import { configFrom } from './config-options.js';
import { liveRenderer } from './pipeline.js';
import { describePredictionLog, describeServing } from './serving-summary.js';
import { prepareHome } from './stores.js';

export interface ServerFlags {
  port?: number;
  host?: string;
  home?: string;
  trackingUri?: string;
  artifactUri?: string;
  model?: string;
  data?: string;
  allowUnauthenticated?: boolean;
  predictionLog?: boolean;
  workers?: number;
}

/** Stops gracefully on SIGTERM or SIGINT and exits 0. */
function stopOnSignals(server: { stop(): Promise<void> }): void {
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

/** What the start-up text says about a server, whether one process or a cluster. */
interface StartedServer {
  readonly address: string;
  readonly addresses: readonly string[];
  readonly exposureWarning: string | undefined;
  readonly ui: WebUiFiles | undefined;
  /** The line about the model it serves, and the one about the prediction log. */
  readonly model: string;
  readonly predictionLog: string;
  /** Processes serving predictions (1: this one). */
  readonly workers: number;
}

function startedServer(server: RunningServer, config: OnsetConfig): StartedServer {
  return {
    address: server.address,
    addresses: server.addresses,
    exposureWarning: server.exposureWarning,
    ui: server.ui,
    model: describeServing(server, config),
    predictionLog: describePredictionLog(
      config,
      server.predictionLog.writer !== undefined,
      server.predictionLog.secret,
      server.predictionLog.retention?.limited === true,
    ),
    workers: 1,
  };
}

function startedCluster(cluster: RunningCluster, config: OnsetConfig): StartedServer {
  return {
    address: cluster.address,
    addresses: listeningAddresses(config.host, new URL(cluster.address).port, cluster.address),
    exposureWarning: checkExposure(config),
    ui: cluster.platform?.ui,
    // The platform follows the workers' versions and knows of a first training's model.
    model: cluster.platform ? describeServing(cluster.platform, config) : cluster.started.model,
    // The primary made or read the log's secret; the platform deletes old predictions.
    predictionLog: describePredictionLog(
      config,
      config.predictionLog,
      cluster.logSecret,
      cluster.platform?.predictionLog.retention?.limited === true,
    ),
    workers: config.workers,
  };
}

function describe(server: StartedServer, config: OnsetConfig, extra: readonly string[]): string {
  const { address } = server;
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
    `  model                      ${server.model}`,
    `  serving processes          ${server.workers === 1 ? '1 (this one; --workers N serves from N)' : `${server.workers} workers on one port (--workers, ONSET_WORKERS)`}`,
    `  API docs (OpenAPI)         ${address}/docs`,
    `  metrics (Prometheus)       ${address}/metrics`,
    `  tracking and registry API  ${address}/api/2.0/mlflow/  (MLFLOW_TRACKING_URI=${address})`,
    ...extra,
    `  prediction log             ${server.predictionLog}`,
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

/**
 * `onset up`: the whole platform, its predictions from `--workers` processes. On a home with no Production model it first runs
 * `train-all` (on `--data`/ONSET_DATA, or the built-in data) through the promotion gate, then serves it.
 */
export async function up(options: ServerFlags): Promise<void> {
  const config = configFrom(options);
  await prepareHome(config, 'write');
  let platform: RunningServer;
  let started: () => StartedServer;
  let sync: () => Promise<unknown>;
  let abandoned: number;
  if (config.workers > 1) {
    const cluster = await startCluster(config, { module: WORKER_MODULE, platform: true });
    stopOnSignals(cluster);
    platform = cluster.platform!;
    started = () => startedCluster(cluster, config);
    sync = () => cluster.sync();
    abandoned = cluster.abandonedRunsFailed;
  } else {
    const { startServer } = await import('../server/server.js');
    const server = await startServer(config, { pipelines: true, ui: true });
    stopOnSignals(server);
    platform = server;
    started = () => startedServer(server, config);
    sync = () => server.live.check();
    abandoned = server.stores.abandonedRunsFailed + server.stores.abandonedPipelineRunsFailed;
  }
  const address = started().address;
  const { service } = platform.pipelines!;
  const schedules = (await platform.stores.pipelines.listSchedules()).filter((s) => s.enabled).length;
  const extra = [
    `  pipelines API              ${address}/api/onset/pipelines  (${schedules} schedule(s) active)`,
    `  alerts (Alertmanager)      ${address}/api/onset/alerts  (action="retrain" starts the retrain pipeline)`,
    ...(abandoned > 0 ? [`  marked ${abandoned} run(s) left RUNNING by a dead process as FAILED`] : []),
  ];
  const { registeredModelOf } = await import('../server/server.js');
  const name = registeredModelOf(config.modelUri);
  if (!platform.live.current() && name !== undefined) {
    const production = await platform.stores.registry.getLatestVersions(name, ['Production']).catch(() => []);
    if (production.length === 0) {
      process.stderr.write(
        `No Production version of ${name} yet: training the four families on ${config.data ?? 'the built-in data (2,105 generated patients, seed 42)'} (train-all)...\n`,
      );
      const begun = Date.now();
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
          ? `train-all ${run.runId} finished in ${((Date.now() - begun) / 1000).toFixed(1)} s: ${gate?.stage === 'Production' ? 'promoted' : 'not promoted'}: ${String(gate?.reason)}\n`
          : `onset: the first training, train-all ${run.runId}, ${run.status}: ${run.error} (see onset pipeline logs ${run.runId})\n`,
      );
      await platform.live.check();
      await sync();
    }
  }
  process.stdout.write(`${describe(started(), config, extra)}\n`);
}

/** What each worker process of a cluster runs. */
const WORKER_MODULE = workerModule(import.meta.url, 'serve-worker');

/** `onset serve`: the prediction API only, from one process or a cluster of workers. */
export async function serve(options: ServerFlags): Promise<void> {
  const config = configFrom(options);
  await prepareHome(config, 'write');
  if (config.workers > 1) {
    const cluster = await startCluster(config, { module: WORKER_MODULE, platform: false });
    stopOnSignals(cluster);
    process.stdout.write(`${describe(startedCluster(cluster, config), config, [])}\n`);
  } else {
    const { startServer } = await import('../server/server.js');
    const server = await startServer(config, { pipelines: false });
    stopOnSignals(server);
    process.stdout.write(`${describe(startedServer(server, config), config, [])}\n`);
  }
}
