import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
  type RouteOptions,
} from 'fastify';
import { Type } from 'typebox';
import { ERROR_HTTP_STATUS, type ErrorCode, isOnsetError } from '../errors.js';
import { enforceAccess, SECURITY_SCHEMES } from '../http/access.js';
import { trackAllowedMethods } from '../http/allowed-methods.js';
import { clipEchoes, ERROR_ANSWER_SCHEMA, errorAnswer, pathHider } from '../http/error-answer.js';
import { answers } from '../http/route.js';
import { createValidatorCompiler, invalidRequest } from '../http/validation.js';
import { type AlertApiOptions, alertApi } from '../monitoring/alerts/alert-routes.js';
import { type CheckApiOptions, checkApi } from '../monitoring/jobs/check-routes.js';
import { instrumentHttp, OnsetMetrics, UNMATCHED_ROUTE } from '../monitoring/metrics.js';
import { feedbackApi } from '../monitoring/prediction-log/feedback-routes.js';
import type { PatientKeys } from '../monitoring/prediction-log/patient-keys.js';
import type { PredictionLogStore } from '../monitoring/prediction-log/prediction-log-store.js';
import type { PredictionRecorder } from '../monitoring/prediction-log/prediction-log-writer.js';
import { trafficApi } from '../monitoring/traffic/traffic-routes.js';
import { pipelineApi } from '../pipelines/pipeline-routes.js';
import type { PipelineService } from '../pipelines/pipeline-service.js';
import type { PipelineStore } from '../pipelines/pipeline-store.js';
import { type PredictionApiOptions, predictionApi } from '../serving/prediction-routes.js';
import type { ArtifactStore } from '../tracking/artifacts/artifact-store.js';
import type { LoggedModelStore } from '../tracking/logged-model-store.js';
import type { RegistryStore } from '../tracking/registry-store.js';
import type { TrackingStore } from '../tracking/tracking-store.js';
import { featureSchemaApi } from './feature-schema-route.js';
import { forwardingServer } from './forward.js';
import { sendUiIndex, type WebUiFiles, wantsUiPage, webUiRoutes } from './web-ui.js';

export interface AppOptions {
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  readonly loggedModels: LoggedModelStore;
  readonly artifacts: ArtifactStore;
  readonly adminToken?: string | undefined;
  /**
   * Fastify's logger (or its options, e.g. a `stream` a test reads): false in tests; request logs never
   * include bodies (no patient data in logs).
   */
  readonly logger?: FastifyServerOptions['logger'];
  /** Largest JSON body accepted, in bytes (default 16 MiB). */
  readonly bodyLimit?: number;
  /** Largest artifact upload, in bytes (default 512 MiB); uploads stream, so this bounds disk, not memory. */
  readonly artifactUploadLimit?: number;
  /** Time to receive a whole request (ms, default 30 s; 0: none); see `requestTimeouts`. */
  readonly requestTimeoutMs?: number;
  /** Serves the pipeline API (`/api/onset/...`) when given. */
  readonly pipelines?: { readonly service: PipelineService; readonly store: PipelineStore };
  /** Serves the prediction API (`/predict`, `/ready`, `/model`, ...) when given. */
  readonly serving?: Pick<PredictionApiOptions, 'live' | 'batchLimit' | 'batchConcurrency' | 'batchQueue'> & {
    readonly apiKey?: string | undefined;
  };
  /**
   * The prediction log: with `recorder`, every prediction is recorded (and answered with its
   * `prediction_id`); with `store`, `POST /feedback` records the ground truth of logged predictions
   * (by `patient_id` too with `patientKeys`).
   */
  readonly monitoring?: {
    readonly store: PredictionLogStore;
    readonly recorder?: PredictionRecorder | undefined;
    /**
     * Writes every prediction still waiting, before a feedback looks one up (default: `recorder`'s; a
     * cluster's worker: every worker's).
     */
    readonly flush?: () => Promise<void>;
    readonly patientKeys?: PatientKeys | undefined;
    /**
     * The drift and performance checks: run on demand (`POST /api/onset/monitoring/drift` and
     * `.../performance`) and read back (`GET /api/onset/monitoring/checks`), when given (`onset up`).
     */
    readonly checks?: CheckApiOptions | undefined;
  };
  /**
   * Alertmanager's webhook and the alert history (`/api/onset/alerts`), when given: the receiver starts
   * the retraining pipeline through the pipeline service (`onset up`).
   */
  readonly alerts?: AlertApiOptions;
  /** Prometheus metrics served at `/metrics` (default: a new registry with the process metrics). */
  readonly metrics?: OnsetMetrics;
  /** Requests per minute per client address; 0 (the default) turns limiting off. */
  readonly rateLimitPerMinute?: number;
  /** Client addresses the rate limit does not count. */
  readonly rateLimitExempt?: readonly string[];
  /** Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client. */
  readonly trustedProxies?: readonly string[];
  /** The server's own paths (home, installation) and the names error answers show instead. */
  readonly privatePaths?: Readonly<Record<string, string>>;
  /** Serves the web UI at `/` (`onset up`; see `loadWebUi`) when given. */
  readonly ui?: WebUiFiles;
  /** What `/metrics` answers (default: `metrics`' own registry); a cluster's is all its processes'. */
  readonly metricsText?: () => Promise<string>;
  /**
   * A cluster's platform (`onset up` with workers; undefined while it starts): this app declares only the
   * routes a worker answers (`WORKER_PATHS`: predictions, feedback, health, metrics), and its server
   * passes every other request on to the platform (`server/forward.ts`), so no docs, tracking, pipeline
   * or UI routes are loaded and compiled here.
   */
  readonly platform?: () => URL | undefined;
  /** Sees every route as it is declared (with its access policy applied): tests enumerate them. */
  readonly onRoute?: (route: RouteOptions) => void;
}

/** The APIs of `/docs`, by tag. */
const API_TAGS = [
  {
    name: 'predictions',
    description: "Predictions of Parkinson's disease from one patient record or a batch",
  },
  { name: 'tracking', description: "MLflow's tracking API: experiments, runs, metrics, params, tags" },
  { name: 'registry', description: "MLflow's model registry: registered models, versions, stages, aliases" },
  { name: 'artifacts', description: "MLflow's artifact proxy, and the listing of a run's artifacts" },
  { name: 'pipelines', description: 'Pipelines, their runs and schedules' },
  {
    name: 'monitoring',
    description:
      "The prediction log's ground truth (feedback), the drift and performance checks, and Alertmanager's webhook with the alert history",
  },
  { name: 'operations', description: 'Health, readiness and Prometheus metrics' },
] as const;

/**
 * The content security policy of the `/docs` pages: Swagger UI's files from this origin only. Not
 * `@fastify/swagger-ui`'s own policy, whose `upgrade-insecure-requests` makes a browser fetch the page's
 * files over HTTPS from a server that speaks plain HTTP (a blank page at any host name but localhost or a
 * loopback address), and whose `https:` sources allow styles and fonts from anywhere. The style hash is
 * that of the `<style>` inside Swagger UI's inline logo; `test/server/pages-in-browser.test.ts` names a
 * new one if an upgrade changes it.
 */
const DOCS_CSP: Readonly<Record<string, string>> = {
  'default-src': "'self'",
  'base-uri': "'self'",
  'font-src': "'self' data:",
  'form-action': "'self'",
  'frame-ancestors': "'self'",
  'img-src': "'self' data:",
  'object-src': "'none'",
  'script-src': "'self'",
  'script-src-attr': "'none'",
  'style-src': "'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='",
};

/** The prediction routes' own body limits: a record is small, a batch of 1,000 records about 1 MB. */
const RECORD_BODY_LIMIT = 64 * 1024;

/**
 * Fastify's request timeout (0, none, by default) and how often Node's http server checks it: every 30 s
 * by default, which would let a stalled request live 30 s past its timeout. Checking each second (walking
 * the connection list, a cheap native call) closes it between `ms` and `ms` + 1 s; the headers must
 * arrive within min(`ms`, 60 s), Node's default.
 */
function requestTimeouts(ms: number) {
  if (ms === 0) return { requestTimeout: 0 };
  return {
    requestTimeout: ms,
    http: { requestTimeout: ms, connectionsCheckingInterval: Math.min(1_000, ms) },
  };
}

/**
 * The Onset HTTP server: one Fastify app composing the capabilities (tracking and registry, pipelines,
 * predictions). Every route declares its schemas, access policy and tags (see `http/route.ts`), which
 * give its validation, its access check and its place in `/docs`. Every error is MLflow's
 * `{ error_code, message }` (with `errors` for a request that failed its schema) with the status its code
 * maps to.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    // Requests are counted and timed in /metrics; a log line per prediction would cost more than the prediction.
    logController: new LogController({ disableRequestLogging: true }),
    // Without request logging a child logger per request (to bind its id) is pure cost: log on the app's.
    childLoggerFactory: (logger) => logger,
    bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024,
    // Without trusted proxies the client is the connection's peer: a forwarded header cannot forge it.
    ...(options.trustedProxies?.length ? { trustProxy: [...options.trustedProxies] } : {}),
    ...requestTimeouts(options.requestTimeoutMs ?? 30_000),
    ...(options.platform
      ? { serverFactory: forwardingServer(options.platform, options.trustedProxies ?? []) }
      : {}),
  });
  const metrics = options.metrics ?? new OnsetMetrics();
  // Every route's body, query and params are checked against its schema by one strict validator; a
  // failure is an InvalidRequestError (400 with every problem). Answers are written by JSON.stringify, not
  // compiled from their schemas (fast-json-stringify writes a null string as "" and fails on NaN, which
  // MLflow's and the pipelines' answers can hold): the answer schemas document the answers and the
  // compiler checks every handler against them.
  app.setValidatorCompiler(createValidatorCompiler());
  app.setSchemaErrorFormatter(invalidRequest());
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // Onset's APIs take JSON (artifact uploads take any bytes, in their own scope): a text body is not
  // read as a string for a schema to refuse, but answered 415 with what to send instead.
  app.removeContentTypeParser('text/plain');
  app.addSchema(ERROR_ANSWER_SCHEMA);
  enforceAccess(app, { adminToken: options.adminToken, apiKey: options.serving?.apiKey });
  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  const allowedMethods = trackAllowedMethods(app);

  const hide = pathHider(options.privatePaths ?? {});
  app.setErrorHandler((error, request, reply) => {
    if (isOnsetError(error)) return reply.status(error.httpStatus).send(errorAnswer(error, hide));
    const fastifyError = error as { statusCode?: number; code?: string; message: string };
    const status = fastifyError.statusCode ?? 500;
    if (status === 413) {
      return reply.status(413).send({
        error_code: 'REQUEST_LIMIT_EXCEEDED',
        message: clipEchoes(`Request body too large: ${fastifyError.message}`),
      });
    }
    if (status === 415) {
      // Fastify's "Unsupported Media Type" (a form, text, or no content type at all) says nothing of
      // what to send instead.
      const sent = request.headers['content-type'];
      return reply.status(415).send({
        error_code: 'BAD_REQUEST',
        message: clipEchoes(
          `Unsupported Media Type: ${sent === undefined ? 'no Content-Type header' : `Content-Type ${JSON.stringify(sent)}`}; send the body as JSON with the header Content-Type: application/json`,
        ),
      });
    }
    if (status === 429) {
      // From @fastify/rate-limit, which has set the retry-after and x-ratelimit-* headers.
      return reply.status(429).send({
        error_code: 'REQUEST_LIMIT_EXCEEDED',
        message: clipEchoes(`Too many requests: ${fastifyError.message}`),
      });
    }
    if (status >= 400 && status < 500) {
      const code: ErrorCode = status === 404 ? 'ENDPOINT_NOT_FOUND' : 'BAD_REQUEST';
      return reply
        .status(ERROR_HTTP_STATUS[code])
        .send({ error_code: code, message: clipEchoes(hide(fastifyError.message)) });
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply
      .status(500)
      .send({ error_code: 'INTERNAL_ERROR', message: 'Internal error; see the server log' });
  });
  app.setNotFoundHandler((request, reply) => {
    const allowed = allowedMethods(request.url);
    if (allowed.length > 0) {
      // 405 with Allow, as HTTP asks and MLflow's own server answers; the code stays ENDPOINT_NOT_FOUND
      // (no endpoint for this method), which MLflow's clients read to fall back to another endpoint.
      metrics.observeRequest(UNMATCHED_ROUTE, request.method, 405, reply.elapsedTime / 1000);
      return reply
        .status(405)
        .header('allow', allowed.join(', '))
        .send({
          error_code: 'ENDPOINT_NOT_FOUND',
          message: clipEchoes(
            `Method ${request.method} is not allowed on ${request.url.split('?')[0]}; it takes ${allowed.join(', ')}`,
          ),
        });
    }
    metrics.observeRequest(UNMATCHED_ROUTE, request.method, 404, reply.elapsedTime / 1000);
    // A browser opening a path that is no page: the UI says so (API clients keep the JSON answer).
    if (options.ui && wantsUiPage(request)) return sendUiIndex(request, reply, options.ui, 404);
    return reply.status(404).send({
      error_code: 'ENDPOINT_NOT_FOUND',
      message: clipEchoes(`No endpoint ${request.method} ${request.url}`),
    });
  });

  if ((options.rateLimitPerMinute ?? 0) > 0) {
    await app.register(rateLimit, {
      max: options.rateLimitPerMinute!,
      timeWindow: '1 minute',
      allowList: [...(options.rateLimitExempt ?? [])],
    });
  }
  if (!options.platform)
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Onset',
          description:
            "Predictions of Parkinson's disease, tracking and registry (MLflow-compatible), pipelines",
          version: '1',
        },
        tags: [...API_TAGS],
        components: { securitySchemes: SECURITY_SCHEMES },
      },
      // Shared schemas keep their ids as their names in the document's components.
      refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    });
  instrumentHttp(app, metrics, options.metricsText);

  app.get(
    '/health',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        summary: 'Whether the server is up',
        response: answers(Type.Object({ status: Type.Literal('ok') })),
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  if (options.serving) {
    // (Its apiKey is enforceAccess's, above; the prediction API ignores it.)
    await app.register(predictionApi, {
      ...options.serving,
      metrics,
      recordBodyLimit: RECORD_BODY_LIMIT,
      log: options.monitoring?.recorder,
    });
    await app.register(featureSchemaApi);
  }
  if (options.platform) {
    if (options.monitoring) await app.register(feedbackApi, feedbackOptions(options));
    return app;
  }
  // Helmet's headers for the pages and APIs a browser may open. The prediction routes stay outside this
  // scope: helmet's hooks would cost them a third of their throughput, and they set the headers a JSON
  // answer needs themselves.
  await app.register(async (scope) => {
    await scope.register(helmet, {
      contentSecurityPolicy: false,
      // Browsers ignore COOP from an origin they do not trust (plain HTTP at any name but localhost or a
      // loopback address) and say so as a console error; it is sent where it counts, over HTTPS.
      crossOriginOpenerPolicy: false,
      global: true,
    });
    scope.addHook('onSend', async (request, reply, payload) => {
      if (request.protocol === 'https') reply.header('cross-origin-opener-policy', 'same-origin');
      return payload;
    });
    await scope.register(swaggerUi, { routePrefix: '/docs', staticCSP: { ...DOCS_CSP } });
    // Loaded here: a cluster's workers (with a platform) never load the largest module of the routes.
    const { mlflowApi } = await import('../tracking/rest/mlflow-routes.js');
    await scope.register(mlflowApi, {
      tracking: options.tracking,
      registry: options.registry,
      loggedModels: options.loggedModels,
      artifacts: options.artifacts,
      ...(options.artifactUploadLimit === undefined
        ? {}
        : { artifactUploadLimit: options.artifactUploadLimit }),
    });
    if (options.pipelines) await scope.register(pipelineApi, options.pipelines);
    if (options.monitoring) {
      await scope.register(feedbackApi, feedbackOptions(options));
      await scope.register(trafficApi, { store: options.monitoring.store });
      if (options.monitoring.checks) await scope.register(checkApi, options.monitoring.checks);
    }
    if (options.alerts) await scope.register(alertApi, options.alerts);
    const ui = options.ui;
    if (ui) await scope.register(async (pages) => webUiRoutes(pages, ui));
  });
  return app;
}

/** `POST /feedback`'s options: the log to label, and the batch limit the prediction routes take. */
function feedbackOptions(options: AppOptions) {
  const monitoring = options.monitoring!;
  return {
    store: monitoring.store,
    flush: monitoring.flush ?? (async () => monitoring.recorder?.flush()),
    patientKeys: monitoring.patientKeys,
    ...(options.serving?.batchLimit === undefined ? {} : { batchLimit: options.serving.batchLimit }),
  };
}
