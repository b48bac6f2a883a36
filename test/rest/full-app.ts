import type { FastifyInstance, RouteOptions } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { retrainPipeline } from '../../src/monitoring/retrain-pipeline.js';
import { BUILT_IN_PIPELINES } from '../../src/pipelines/builtin/catalog.js';
import { PipelineService } from '../../src/pipelines/pipeline-service.js';
import { buildApp } from '../../src/server/app.js';
import { WEB_UI_DIR } from '../../src/server/server.js';
import { loadWebUi } from '../../src/server/web-ui.js';
import { LiveModel } from '../../src/serving/live-model.js';
import { alertsOf, monitoringWithoutModel } from '../support/monitoring.js';
import { useTemporaryStores } from '../support/stores.js';

export const ADMIN_TOKEN = 'admin-t0ken';
export const API_KEY = 'api-k3y';

/**
 * The whole app (tracking, registry, artifact proxy, pipelines, predictions, feedback, the monitoring
 * checks, alerts, operations, the web UI) with an admin
 * token and an API key set, over temporary stores, and every route it declared (seen through its
 * `onRoute` option). No model is loaded: the prediction routes answer 503 past their checks.
 */
export function useFullApp(prefix: string): {
  readonly app: FastifyInstance;
  readonly routes: readonly RouteOptions[];
} {
  const temporary = useTemporaryStores(prefix);
  let app: FastifyInstance | undefined;
  let service: PipelineService | undefined;
  const routes: RouteOptions[] = [];
  beforeAll(async () => {
    const { stores } = temporary;
    service = new PipelineService({
      stores,
      pipelines: [...BUILT_IN_PIPELINES, retrainPipeline(() => stores.predictionLog)],
    });
    const live = new LiveModel('models:/not-registered/Production', stores, { pollMs: 0 });
    app = await buildApp({
      ...stores,
      adminToken: ADMIN_TOKEN,
      pipelines: { service, store: stores.pipelines },
      serving: { live, apiKey: API_KEY },
      monitoring: monitoringWithoutModel(stores),
      alerts: alertsOf(stores, service),
      ui: await loadWebUi(WEB_UI_DIR),
      onRoute: (route) => routes.push(route),
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await service?.close();
  });
  return {
    get app(): FastifyInstance {
      if (!app) throw new Error('the app is built only inside tests');
      return app;
    },
    routes,
  };
}
