import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { OnsetConfig } from '../config.js';
import type { AlertReceiver } from '../monitoring/alerts/alert-receiver.js';
import type { CheckApiOptions } from '../monitoring/jobs/check-routes.js';
import { CheckTargets } from '../monitoring/jobs/check-targets.js';
import { checkSettingsOf } from '../monitoring/jobs/job-settings.js';
import { ModelReferences } from '../monitoring/jobs/model-references.js';
import { MonitoringGauges } from '../monitoring/jobs/monitoring-gauges.js';
import {
  type DriftRequest,
  driftJob,
  type MonitoringJob,
  type PerformanceRequest,
  performanceJob,
} from '../monitoring/jobs/monitoring-jobs.js';
import { OnsetMetrics } from '../monitoring/metrics.js';
import {
  type LogSecretSource,
  PatientKeys,
  resolveLogSecret,
} from '../monitoring/prediction-log/patient-keys.js';
import type { PredictionBatchSink } from '../monitoring/prediction-log/prediction-batch.js';
import { RetentionJob } from '../monitoring/prediction-log/prediction-log-retention.js';
import { PredictionLogWriter } from '../monitoring/prediction-log/prediction-log-writer.js';
import { WorkerSink } from '../monitoring/prediction-log/worker-sink.js';
import type { PipelineService } from '../pipelines/pipeline-service.js';
import type { PipelineScheduler } from '../pipelines/scheduler.js';
import { describeProblem, LiveModel } from '../serving/live-model.js';
import { parseModelUri } from '../serving/model-source.js';
import { type AppOptions, buildApp } from './app.js';
import { checkExposure, checkLogSecret, listenFailure, listeningAddresses } from './listening.js';
import { chooseLogFormat, serverLoggerOptions } from './logger.js';
import { type OnsetStores, openOnsetStores } from './open-stores.js';
import { loadWebUi, type WebUiFiles } from './web-ui.js';

/** Where Onset is installed (the package root, above dist/ or src/). */
const INSTALLATION = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/** Where `npm run build` puts the web UI (from `web/`), whether Onset runs from dist/ or from src/. */
export const WEB_UI_DIR = `${INSTALLATION}/dist/web`;

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly address: string;
  /** Every URL the server answers on (each interface's, when it listens on all of them). */
  readonly addresses: readonly string[];
  /** What listening beyond loopback leaves open (allowed by `allowUnauthenticated`); undefined if nothing. */
  readonly exposureWarning: string | undefined;
  readonly live: LiveModel;
  readonly stores: OnsetStores;
  /** Its Prometheus metrics (a cluster's primary gathers its workers' into `/metrics`). */
  readonly metrics: OnsetMetrics;
  /** The web UI served at `/` (`onset up`); undefined when none is served (`onset serve`). */
  readonly ui: WebUiFiles | undefined;
  /** The pipeline service, its scheduler and the alert receiver that starts retraining (`onset up`). */
  readonly pipelines:
    | {
        readonly service: PipelineService;
        readonly scheduler: PipelineScheduler;
        readonly alerts: AlertReceiver;
      }
    | undefined;
  /**
   * The prediction log: its writer (undefined when the log is off), where the patient keys' secret came
   * from (undefined without one), and the retention job (`onset up` only).
   */
  readonly predictionLog: {
    readonly writer: PredictionLogWriter | undefined;
    readonly secret: { readonly source: LogSecretSource; readonly path?: string } | undefined;
    readonly retention: RetentionJob | undefined;
  };
  /** The drift and performance jobs and their gauges (`onset up` only). */
  readonly monitoringJobs:
    | {
        readonly drift: MonitoringJob<DriftRequest>;
        readonly performance: MonitoringJob<PerformanceRequest>;
        readonly gauges: MonitoringGauges;
      }
    | undefined;
  /**
   * Stops accepting, lets in-flight requests finish, cancels running pipelines, writes the predictions
   * still waiting to the log, closes the stores.
   */
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Serves the pipeline API, scheduler, alerts, checks and the log's retention (`onset up`). */
  readonly pipelines: boolean;
  /** Serves the web UI at `/`. */
  readonly ui?: boolean;
  readonly logger?: AppOptions['logger'];
  /**
   * The server is a worker of a cluster (`server/cluster-worker.ts`): it answers the prediction routes on
   * the shared port and passes every other request on to `forwardTo` (the primary's app, with `onset
   * up`); its model changes when the primary says (`version` first, then `prepare` and `commit`); its
   * `/metrics` is the whole cluster's, from `metricsText`.
   */
  readonly worker?: {
    /** Where the platform is (undefined while it starts); undefined itself: no platform to pass on to. */
    readonly forwardTo: (() => URL | undefined) | undefined;
    readonly version: string | undefined;
    metricsText(): Promise<string>;
    /** Writes every worker's waiting predictions (a feedback may name one another worker answered). */
    flushLogs(): Promise<void>;
    /** Where its prediction log's batches go: the primary's one writing thread (undefined: the log is off). */
    readonly logSink: PredictionBatchSink | undefined;
  };
  /**
   * The server is the app of a cluster's primary (`onset up` with workers): it listens on loopback, on a
   * port of its own, for what the workers pass on (believing the client address they name), writes no
   * predictions (the workers do), and its `/metrics` is the whole cluster's.
   */
  readonly primary?: { metricsText(): Promise<string> };
}

/** The addresses a worker passes requests on from, and names the client in `X-Forwarded-For`. */
const LOOPBACK_PROXIES = ['127.0.0.1', '::1'] as const;

/**
 * Starts an Onset server on the configured port: the prediction API (serving `config.modelUri`, swapped
 * when the registry changes) with the prediction log and `/feedback`, metrics, docs, the tracking and
 * registry API and, with `pipelines`, the pipeline API, scheduler and the log's retention job (`onset
 * up`), and with `ui` the web UI at `/`. Without them it is a stateless prediction replica over the shared stores (`onset serve`). A model
 * that cannot be loaded yet leaves `/ready` at 503 until it can.
 */
export async function startServer(config: OnsetConfig, options: ServerOptions): Promise<RunningServer> {
  const exposureWarning = checkExposure(config);
  checkLogSecret(config);
  // The checks' windows are checked before anything starts.
  const checkSettings = options.pipelines ? checkSettingsOf(config) : undefined;
  const ui = options.ui ? await loadWebUi(WEB_UI_DIR) : undefined;
  const stores = await openOnsetStores(config);
  const metrics = new OnsetMetrics();
  const live = new LiveModel(config.modelUri, stores, {
    fallback: config.modelFallback,
    // A worker's model changes when its primary says.
    pollMs: options.worker ? 0 : config.modelPollMs,
  });
  let pipelines: RunningServer['pipelines'];
  let app: FastifyInstance | undefined;
  let writer: PredictionLogWriter | undefined;
  try {
    // The log's secret: the setting, or (on loopback, where checkLogSecret lets it be unset) the home's.
    const secret =
      config.predictionLog || config.logSecret !== undefined
        ? await resolveLogSecret(config.logSecret, config.home)
        : undefined;
    const patientKeys = secret ? new PatientKeys(secret.secret) : undefined;
    if (config.predictionLog && !options.primary) {
      writer = new PredictionLogWriter({
        // Written from a thread of its own, on its own connection to the same database (a cluster's
        // primary has the one thread its workers' batches go to).
        sink:
          options.worker?.logSink ??
          (await WorkerSink.start({ databaseUri: config.trackingUri, secret: secret!.secret })),
        metrics,
        maxQueue: config.predictionLogQueue,
        flushMs: config.predictionLogFlushMs,
        batchSize: config.predictionLogBatch,
        // The database's message only: it names columns and ids, never feature values or patient ids.
        onDropped: (error, count) =>
          app?.log.error(
            { err: error instanceof Error ? error.message : String(error), count },
            'prediction log: predictions dropped, the database refused them',
          ),
      });
    }
    const retention = options.pipelines
      ? new RetentionJob(
          stores.predictionLog,
          { maxAgeMs: config.predictionLogMaxAgeMs, maxRows: config.predictionLogMaxRows },
          {
            intervalMs: config.predictionLogRetentionIntervalMs,
            onPass: (pass) => {
              if (pass.olderThan + pass.beyondRows > 0)
                app?.log.info(
                  { olderThan: pass.olderThan, beyondRows: pass.beyondRows },
                  'prediction log retention: old predictions deleted',
                );
            },
            onFailure: (error) =>
              app?.log.warn(
                { err: error instanceof Error ? error.message : String(error) },
                'prediction log retention failed; the next pass tries again',
              ),
          },
        )
      : undefined;
    let checks: CheckApiOptions | undefined;
    let gauges: MonitoringGauges | undefined;
    if (checkSettings) {
      gauges = new MonitoringGauges(metrics.registry);
      const jobStores = {
        log: stores.predictionLog,
        checks: stores.checks,
        references: new ModelReferences(stores),
        gauges,
      };
      checks = {
        store: stores.checks,
        drift: driftJob(jobStores, checkSettings.drift),
        performance: performanceJob(jobStores, checkSettings.performance),
        targets: new CheckTargets(stores.registry, () => {
          const served = live.current();
          return (
            served && {
              name: served.name,
              version: served.version,
              runId: served.runId,
              estimator: served.document.estimator,
            }
          );
        }),
      };
    }
    if (options.pipelines) {
      const [
        { PipelineService },
        { PipelineScheduler },
        { BUILT_IN_PIPELINES },
        { retrainPipeline },
        { AlertReceiver },
      ] = await Promise.all([
        import('../pipelines/pipeline-service.js'),
        import('../pipelines/scheduler.js'),
        import('../pipelines/builtin/catalog.js'),
        import('../monitoring/retrain-pipeline.js'),
        import('../monitoring/alerts/alert-receiver.js'),
      ]);
      const service = new PipelineService({
        stores,
        // The retraining pipeline reads the prediction log, which sits above the pipelines: given here.
        pipelines: [
          ...BUILT_IN_PIPELINES,
          retrainPipeline(() => stores.predictionLog, {
            data: config.data === undefined ? undefined : resolve(config.data),
          }),
        ],
        onFinished: (run) => {
          app?.log.info(
            { pipeline: run.pipeline, runId: run.runId, status: run.status },
            'pipeline run ended',
          );
          // A promotion shows at once rather than at the next poll.
          void live.check();
        },
      });
      const scheduler = new PipelineScheduler(stores.pipelines, service, {
        onFire: (event) =>
          event.error
            ? app?.log.warn(event, 'a scheduled pipeline could not start')
            : app?.log.info(event, 'scheduled pipeline started'),
      });
      const receiver = new AlertReceiver({
        alerts: stores.alertHistory,
        service,
        runs: stores.pipelines,
        registry: stores.registry,
      });
      pipelines = { service, scheduler, alerts: receiver };
    }
    app = await buildApp({
      tracking: stores.tracking,
      registry: stores.registry,
      loggedModels: stores.loggedModels,
      artifacts: stores.artifacts,
      adminToken: config.adminToken,
      logger:
        options.logger ??
        serverLoggerOptions(chooseLogFormat(config.logFormat, process.stdout.isTTY === true), process.stdout),
      metrics,
      privatePaths: { [config.home]: '$ONSET_HOME', [INSTALLATION]: '<onset>' },
      rateLimitPerMinute: config.rateLimitPerMinute,
      rateLimitExempt: config.rateLimitExempt,
      trustedProxies: options.primary ? LOOPBACK_PROXIES : config.trustedProxies,
      ...(options.worker?.forwardTo ? { platform: options.worker.forwardTo } : {}),
      ...(options.worker || options.primary
        ? { metricsText: (options.worker ?? options.primary)!.metricsText }
        : {}),
      artifactUploadLimit: config.artifactUploadLimit,
      requestTimeoutMs: config.requestTimeoutMs,
      serving: {
        live,
        batchLimit: config.batchLimit,
        batchConcurrency: config.batchConcurrency,
        batchQueue: config.batchQueue,
        apiKey: config.apiKey,
      },
      ...(pipelines
        ? {
            pipelines: { service: pipelines.service, store: stores.pipelines },
            alerts: { receiver: pipelines.alerts, store: stores.alertHistory },
          }
        : {}),
      monitoring: {
        store: stores.predictionLog,
        recorder: writer,
        patientKeys,
        checks,
        ...(options.worker ? { flush: options.worker.flushLogs } : {}),
      },
      ...(ui ? { ui } : {}),
    });
    const log = app.log;
    if (secret?.source === 'new') {
      // The log names no path of the server's (the home is $ONSET_HOME to whoever reads it).
      log.info(
        'made a secret for the patient keys of the prediction log, kept in $ONSET_HOME/log-secret (set ONSET_LOG_SECRET to share one between servers)',
      );
    }
    live.subscribe({
      // Another version served: the gauges of the versions before it go (their alerts with them).
      loaded: (model) => {
        if (model.name !== null && model.version !== null) gauges?.servedVersion(model.name, model.version);
      },
    });
    live.subscribe({
      // `model`, not `name`: pino keeps `name` for the logger's own name.
      // A file or run model has no name or version: it is named by its URI, family and checksum.
      loaded: (model, previous) =>
        log.info(
          model.name === null
            ? { model: model.uri, family: model.document.estimator, sha256: model.checksum?.slice(0, 12) }
            : { model: model.name, version: model.version, previous: previous?.version },
          'model loaded',
        ),
      // Before the first model exists (a fresh home) this is expected: only a failed reload is a warning.
      failed: (error) =>
        live.current()
          ? log.warn({ err: error.message, uri: config.modelUri }, 'a new model version could not be loaded')
          : log.debug({ err: error.message, uri: config.modelUri }, 'no model to load yet'),
      // A version that exists but cannot be loaded is an operator's problem, whatever serves meanwhile.
      unloadable: (problem, serving) =>
        log.error(
          {
            uri: config.modelUri,
            version: problem.version,
            reason: problem.reason,
            serving: serving?.version,
          },
          `${describeProblem(config.modelUri, problem)}; ${
            serving
              ? `serving version ${serving.version} instead (a fallback)`
              : `nothing is served (/ready answers 503)${config.modelFallback === 'previous' ? ': no earlier version loads either' : ''}`
          }`,
        ),
    });
    // Listen first: a port that is taken fails at once, before a model is loaded for nothing.
    const address = await app
      .listen(
        options.primary
          ? {
              port: 0,
              host: '127.0.0.1',
              // Not where users go: the workers' port is.
              listenTextResolver: (at) => `the platform answers the workers at ${at}`,
            }
          : { port: config.port, host: config.host },
      )
      .catch((error: unknown) => {
        throw listenFailure(error, config) ?? error;
      });
    // Without a model yet (none in the stage on a fresh home, or one that cannot be loaded) this watches
    // until there is one; until then /ready answers 503.
    await live.start(options.worker?.version);
    // A cluster's primary says it once, not each worker.
    if (exposureWarning && !options.worker) log.warn(exposureWarning);
    pipelines?.scheduler.start();
    retention?.start();
    if (checks) scheduleChecks(checks, config, stores, log);
    const running = app;
    return {
      app: running,
      address,
      addresses: listeningAddresses(config.host, new URL(address).port, address),
      exposureWarning,
      live,
      stores,
      metrics,
      ui,
      pipelines,
      predictionLog: {
        writer,
        secret: secret && { source: secret.source, ...(secret.path ? { path: secret.path } : {}) },
        retention,
      },
      monitoringJobs: checks && gauges && { drift: checks.drift, performance: checks.performance, gauges },
      async stop() {
        await pipelines?.scheduler.stop();
        // Closing closes the idle keep-alive connections once. A connection whose request is still in flight
        // becomes idle after its answer and would hold close() until the keep-alive timeout (72 s): close
        // each as soon as it is idle.
        const sweep = setInterval(() => running.server.closeIdleConnections(), 50);
        try {
          await running.close();
        } finally {
          clearInterval(sweep);
        }
        // No request is in flight any more: what they recorded is written before the stores close.
        await writer?.close();
        await retention?.stop();
        await checks?.drift.stop();
        await checks?.performance.stop();
        await live.stop();
        await pipelines?.service.close();
        await stores.close();
      },
    };
  } catch (error) {
    await app?.close();
    await writer?.close();
    await stores.close();
    throw error;
  }
}

/**
 * Runs the drift and performance checks of the served version on their schedules (each once now, then
 * every interval; `off` runs none), logging what each found, and deletes the checks older than the
 * predictions the log keeps.
 */
function scheduleChecks(
  checks: CheckApiOptions,
  config: OnsetConfig,
  stores: OnsetStores,
  log: FastifyInstance['log'],
): void {
  const jobs = [
    [checks.drift, config.driftIntervalMs],
    [checks.performance, config.performanceIntervalMs],
  ] as const;
  for (const [job, intervalMs] of jobs) {
    if (intervalMs === undefined) continue;
    (job as MonitoringJob<DriftRequest | PerformanceRequest>).schedule(
      intervalMs,
      () => checks.targets.served(),
      {
        onChecked: (check) => {
          const fields = {
            kind: check.kind,
            model: check.model.name,
            version: check.model.version,
            checkId: check.checkId,
            seconds: (check.finishedAt - check.startedAt) / 1000,
          };
          if (check.status === 'failed')
            log.warn({ ...fields, err: check.error }, `${check.kind} check failed`);
          else log.info({ ...fields, summary: check.summary }, `${check.kind} check done`);
          if (config.predictionLogMaxAgeMs !== undefined) {
            // Checks are kept as long as the predictions they looked at.
            stores.checks
              .deleteChecksBefore(Date.now() - config.predictionLogMaxAgeMs)
              .catch((error: unknown) =>
                log.warn(
                  { err: error instanceof Error ? error.message : String(error) },
                  'old checks not deleted',
                ),
              );
          }
        },
        onSkipped: (reason) => log.debug({ kind: job.kind, reason }, `${job.kind} check skipped`),
        onError: (error) =>
          log.warn(
            { kind: job.kind, err: error instanceof Error ? error.message : String(error) },
            `${job.kind} check could not be stored; the next one tries again`,
          ),
      },
    );
  }
}

/** The registered model a URI serves from, when it names one (for `onset up`'s first training). */
export function registeredModelOf(uri: string): string | undefined {
  const parsed = parseModelUri(uri);
  return parsed.kind === 'registry' ? parsed.name : undefined;
}
