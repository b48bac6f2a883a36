import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { ERROR_HTTP_STATUS, type ErrorCode, isOnsetError } from '../errors.js';
import { instrumentHttp, OnsetMetrics, UNMATCHED_ROUTE } from '../monitoring/metrics.js';
import { pipelineApi } from '../pipelines/pipeline-routes.js';
import type { PipelineService } from '../pipelines/pipeline-service.js';
import type { PipelineStore } from '../pipelines/pipeline-store.js';
import type { LiveModel } from '../serving/live-model.js';
import { predictionApi } from '../serving/prediction-routes.js';
import type { ArtifactStore } from '../tracking/artifacts/artifact-store.js';
import type { RegistryStore } from '../tracking/registry-store.js';
import { mlflowApi } from '../tracking/rest/mlflow-routes.js';
import type { TrackingStore } from '../tracking/tracking-store.js';

export interface AppOptions {
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  readonly artifacts: ArtifactStore;
  readonly adminToken?: string | undefined;
  /** Fastify's logger: false in tests; request logs never include bodies (no patient data in logs). */
  readonly logger?: boolean;
  /** Largest JSON body accepted, in bytes (default 16 MiB). */
  readonly bodyLimit?: number;
  /** Serves the pipeline API (`/api/onset/...`) when given. */
  readonly pipelines?: { readonly service: PipelineService; readonly store: PipelineStore };
  /** Serves the prediction API (`/predict`, `/ready`, `/model`, ...) when given. */
  readonly serving?: {
    readonly live: LiveModel;
    readonly batchLimit?: number;
    readonly apiKey?: string | undefined;
  };
  /** Prometheus metrics served at `/metrics` (default: a new registry with the process metrics). */
  readonly metrics?: OnsetMetrics;
  /** Requests per minute per client address; loopback clients are not limited; 0 turns limiting off. */
  readonly rateLimitPerMinute?: number;
}

/** The prediction routes' own body limits: a record is small, a batch of 1,000 records about 1 MB. */
const RECORD_BODY_LIMIT = 64 * 1024;

/**
 * The Onset HTTP server: one Fastify app composing the capabilities (tracking and registry, pipelines).
 * Every error is MLflow's `{ error_code, message }` with the status its code maps to.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    // Requests are counted and timed in /metrics; a log line per prediction would cost more than the prediction.
    logController: new LogController({ disableRequestLogging: true }),
    // Without request logging a child logger per request (to bind its id) is pure cost: log on the app's.
    childLoggerFactory: (logger) => logger,
    bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024,
  });
  const metrics = options.metrics ?? new OnsetMetrics();

  app.setErrorHandler((error, request, reply) => {
    if (isOnsetError(error)) {
      return reply.status(error.httpStatus).send({ error_code: error.code, message: error.message });
    }
    const fastifyError = error as { statusCode?: number; code?: string; message: string };
    const status = fastifyError.statusCode ?? 500;
    if (status === 413) {
      return reply.status(413).send({
        error_code: 'REQUEST_LIMIT_EXCEEDED',
        message: `Request body too large: ${fastifyError.message}`,
      });
    }
    if (status === 429) {
      // From @fastify/rate-limit, which has set the retry-after and x-ratelimit-* headers.
      return reply.status(429).send({
        error_code: 'REQUEST_LIMIT_EXCEEDED',
        message: `Too many requests: ${fastifyError.message}`,
      });
    }
    if (status >= 400 && status < 500) {
      const code: ErrorCode = status === 404 ? 'ENDPOINT_NOT_FOUND' : 'BAD_REQUEST';
      return reply.status(ERROR_HTTP_STATUS[code]).send({ error_code: code, message: fastifyError.message });
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply
      .status(500)
      .send({ error_code: 'INTERNAL_ERROR', message: 'Internal error; see the server log' });
  });
  app.setNotFoundHandler((request, reply) => {
    metrics.observeRequest(UNMATCHED_ROUTE, request.method, 404, reply.elapsedTime / 1000);
    return reply
      .status(404)
      .send({ error_code: 'ENDPOINT_NOT_FOUND', message: `No endpoint ${request.method} ${request.url}` });
  });

  if ((options.rateLimitPerMinute ?? 0) > 0) {
    await app.register(rateLimit, {
      max: options.rateLimitPerMinute!,
      timeWindow: '1 minute',
      allowList: ['127.0.0.1', '::1', '::ffff:127.0.0.1'],
    });
  }
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Onset',
        description:
          "Predictions of Parkinson's disease, tracking and registry (MLflow-compatible), pipelines",
        version: '1',
      },
    },
  });
  instrumentHttp(app, metrics);

  app.get('/health', async () => ({ status: 'ok' }));
  if (options.serving) {
    await app.register(predictionApi, {
      ...options.serving,
      metrics,
      recordBodyLimit: RECORD_BODY_LIMIT,
    });
  }
  // Helmet's headers for the pages and APIs a browser may open. The prediction routes stay outside this
  // scope: helmet's hooks would cost them a third of their throughput, and they set the headers a JSON
  // answer needs themselves.
  await app.register(async (scope) => {
    await scope.register(helmet, { contentSecurityPolicy: false, global: true });
    await scope.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
    await scope.register(mlflowApi, {
      tracking: options.tracking,
      registry: options.registry,
      artifacts: options.artifacts,
      adminToken: options.adminToken,
    });
    if (options.pipelines) {
      await scope.register(pipelineApi, { ...options.pipelines, adminToken: options.adminToken });
    }
  });
  return app;
}
