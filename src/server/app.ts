import Fastify, { type FastifyInstance } from 'fastify';
import { ERROR_HTTP_STATUS, type ErrorCode, isOnsetError } from '../errors.js';
import { pipelineApi } from '../pipelines/pipeline-routes.js';
import type { PipelineService } from '../pipelines/pipeline-service.js';
import type { PipelineStore } from '../pipelines/pipeline-store.js';
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
}

/**
 * The Onset HTTP server: one Fastify app composing the capabilities (tracking and registry, pipelines).
 * Every error is MLflow's `{ error_code, message }` with the status its code maps to.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024 });

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
    if (status >= 400 && status < 500) {
      const code: ErrorCode = status === 404 ? 'ENDPOINT_NOT_FOUND' : 'BAD_REQUEST';
      return reply.status(ERROR_HTTP_STATUS[code]).send({ error_code: code, message: fastifyError.message });
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply
      .status(500)
      .send({ error_code: 'INTERNAL_ERROR', message: 'Internal error; see the server log' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ error_code: 'ENDPOINT_NOT_FOUND', message: `No endpoint ${request.method} ${request.url}` }),
  );

  app.get('/health', async () => ({ status: 'ok' }));
  await app.register(mlflowApi, {
    tracking: options.tracking,
    registry: options.registry,
    artifacts: options.artifacts,
    adminToken: options.adminToken,
  });
  if (options.pipelines) {
    await app.register(pipelineApi, { ...options.pipelines, adminToken: options.adminToken });
  }
  return app;
}
