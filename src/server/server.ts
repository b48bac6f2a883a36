import type { FastifyInstance } from 'fastify';
import type { OnsetConfig } from '../config.js';
import { OnsetMetrics } from '../monitoring/metrics.js';
import type { PipelineService } from '../pipelines/pipeline-service.js';
import type { PipelineScheduler } from '../pipelines/scheduler.js';
import { describeProblem, LiveModel } from '../serving/live-model.js';
import { parseModelUri } from '../serving/model-source.js';
import { type AppOptions, buildApp } from './app.js';
import { type OnsetStores, openOnsetStores } from './open-stores.js';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly address: string;
  readonly live: LiveModel;
  readonly stores: OnsetStores;
  readonly pipelines:
    | { readonly service: PipelineService; readonly scheduler: PipelineScheduler }
    | undefined;
  /** Stops accepting, lets in-flight requests finish, cancels running pipelines, closes the stores. */
  stop(): Promise<void>;
}

/**
 * Starts an Onset server on the configured port: the prediction API (serving `config.modelUri`, swapped
 * when the registry changes), metrics, docs, the tracking and registry API and, with `pipelines`, the
 * pipeline API and scheduler (`onset up`). Without them it is a stateless prediction replica over the
 * shared stores (`onset serve`). A model that cannot be loaded yet leaves `/ready` at 503 until it can.
 */
export async function startServer(
  config: OnsetConfig,
  options: { pipelines: boolean; logger?: AppOptions['logger'] },
): Promise<RunningServer> {
  const stores = await openOnsetStores(config);
  const metrics = new OnsetMetrics();
  const live = new LiveModel(config.modelUri, stores, { fallback: config.modelFallback });
  let pipelines: RunningServer['pipelines'];
  let app: FastifyInstance | undefined;
  try {
    if (options.pipelines) {
      const [{ PipelineService }, { PipelineScheduler }] = await Promise.all([
        import('../pipelines/pipeline-service.js'),
        import('../pipelines/scheduler.js'),
      ]);
      const service = new PipelineService({
        stores,
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
      pipelines = { service, scheduler };
    }
    app = await buildApp({
      tracking: stores.tracking,
      registry: stores.registry,
      artifacts: stores.artifacts,
      adminToken: config.adminToken,
      logger: options.logger ?? true,
      metrics,
      rateLimitPerMinute: config.rateLimitPerMinute,
      requestTimeoutMs: config.requestTimeoutMs,
      serving: {
        live,
        batchLimit: config.batchLimit,
        batchConcurrency: config.batchConcurrency,
        batchQueue: config.batchQueue,
        apiKey: config.apiKey,
      },
      ...(pipelines ? { pipelines: { service: pipelines.service, store: stores.pipelines } } : {}),
    });
    const log = app.log;
    live.subscribe({
      loaded: (model, previous) =>
        log.info({ name: model.name, version: model.version, previous: previous?.version }, 'model loaded'),
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
    // Without a model yet (none in the stage on a fresh home, or one that cannot be loaded) this watches
    // until there is one.
    await live.start();
    const address = await app.listen({ port: config.port, host: config.host });
    pipelines?.scheduler.start();
    const running = app;
    return {
      app: running,
      address,
      live,
      stores,
      pipelines,
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
        await live.stop();
        await pipelines?.service.close();
        await stores.close();
      },
    };
  } catch (error) {
    await app?.close();
    await stores.close();
    throw error;
  }
}

/** The registered model a URI serves from, when it names one (for `onset up`'s first training). */
export function registeredModelOf(uri: string): string | undefined {
  const parsed = parseModelUri(uri);
  return parsed.kind === 'registry' ? parsed.name : undefined;
}
