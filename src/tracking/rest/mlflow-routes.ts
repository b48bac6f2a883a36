import type { RoutePlugin } from '../../http/route.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { LoggedModelStore } from '../logged-model-store.js';
import type { RegistryStore } from '../registry-store.js';
import type { TrackingStore } from '../tracking-store.js';
import { artifactRoutes } from './artifact-routes.js';
import { loggedModelRoutes } from './logged-model-routes.js';
import { mlflowInput } from './mlflow-endpoint.js';
import { registryRoutes } from './registry-routes.js';
import { trackingRoutes } from './tracking-routes.js';

export interface MlflowApiOptions {
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  readonly loggedModels: LoggedModelStore;
  readonly artifacts: ArtifactStore;
  /** Largest artifact upload, in bytes (default 512 MiB). */
  readonly artifactUploadLimit?: number;
}

/**
 * MLflow's REST API (`/api/2.0/mlflow/...`: tracking and registry) and artifact proxy
 * (`/api/2.0/mlflow-artifacts/...`) over Onset's stores, with MLflow's paths, request and response shapes
 * and error format.
 */
export const mlflowApi: RoutePlugin<MlflowApiOptions> = async (app, options) => {
  await app.register(async (scope) => {
    mlflowInput(scope);
    trackingRoutes(scope, options);
    loggedModelRoutes(scope, options);
    registryRoutes(scope, options);
  });
  await app.register(async (scope) =>
    artifactRoutes(scope, {
      ...options,
      registeredFilesUnder: async (path) => {
        const [version] = await options.registry.versionsStoredAt(path);
        return version && `model ${version.name} version ${version.version}`;
      },
    }),
  );
};
