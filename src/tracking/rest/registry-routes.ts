import { type Static, Type } from 'typebox';
import { Required } from '../../http/fields.js';
import { Empty, type TypedApp } from '../../http/route.js';
import { joinUri } from '../artifact-paths.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { LoggedModelStore } from '../logged-model-store.js';
import { registerModelVersion } from '../model-registry.js';
import type { RegistryStore } from '../registry-store.js';
import type { TrackingStore } from '../tracking-store.js';
import { done, MLFLOW_API, mlflowRead, mlflowWrite } from './mlflow-endpoint.js';
import {
  Bool,
  bool,
  KeyValues,
  OptionalText,
  Paging,
  paging,
  Stage,
  StringList,
  stage,
  strings,
} from './mlflow-fields.js';
import { modelVersionJson, nextPage, registeredModelJson, stageTransitionJson } from './mlflow-json.js';
import { ModelVersionJson, NextPage, RegisteredModelJson, StageTransitionJson } from './mlflow-schemas.js';
import { ProxiedArtifactUris } from './proxied-uris.js';

const RegistrySearch = Type.Object({
  filter: Type.Optional(Type.String({ description: 'a search filter, e.g. "name = \'pd\'"; empty: none' })),
  ...Paging,
  order_by: Type.Optional(StringList),
});
const LatestVersions = Type.Object({
  name: Required,
  stages: Type.Optional(
    Type.Union([Type.Array(Stage), Stage], {
      description: 'a list of stages, or one stage (in any case); absent: every stage',
    }),
  ),
});
const ModelName = Type.Object({ name: Required });
const VersionRef = Type.Object({ name: Required, version: Required });
const AliasRef = Type.Object({ name: Required, alias: Required });

const RegisteredModelAnswer = Type.Object({ registered_model: RegisteredModelJson });
const RegisteredModelsPage = Type.Object({ registered_models: Type.Array(RegisteredModelJson), ...NextPage });
const ModelVersionAnswer = Type.Object({ model_version: ModelVersionJson });
const ModelVersions = Type.Object({ model_versions: Type.Array(ModelVersionJson) });
const ModelVersionsPage = Type.Object({ model_versions: Type.Array(ModelVersionJson), ...NextPage });

const searchQuery = (input: Static<typeof RegistrySearch>) => ({
  ...(input.filter ? { filter: input.filter } : {}),
  ...paging(input),
  ...(input.order_by === undefined ? {} : { orderBy: strings(input.order_by) }),
});

/**
 * MLflow's model registry endpoints (registered models, versions, stages, aliases) over Onset's registry.
 * Every route needs the admin token when one is configured (see `mlflowRead`).
 */
export function registryRoutes(
  app: TypedApp,
  stores: {
    readonly tracking: TrackingStore;
    readonly registry: RegistryStore;
    readonly artifacts: ArtifactStore;
    readonly loggedModels: LoggedModelStore;
  },
): void {
  const { registry, artifacts } = stores;
  const url = (path: string) => `${MLFLOW_API}${path}`;
  const uris = new ProxiedArtifactUris(artifacts.rootUri);

  // Registered models.
  app.post(
    url('/registered-models/create'),
    mlflowWrite(
      'registry',
      'Create a registered model',
      Type.Object({ name: Required, description: OptionalText, tags: Type.Optional(KeyValues) }),
      RegisteredModelAnswer,
    ),
    async ({ body }) => ({
      registered_model: registeredModelJson(
        await registry.createRegisteredModel({
          name: body.name,
          description: body.description ?? '',
          tags: body.tags ?? [],
        }),
      ),
    }),
  );
  app.get(
    url('/registered-models/get'),
    mlflowRead(
      'registry',
      'Get a registered model with its latest versions',
      ModelName,
      RegisteredModelAnswer,
    ),
    async ({ query }) => ({
      registered_model: registeredModelJson(await registry.getRegisteredModel(query.name)),
    }),
  );
  const searchModels = async (input: Static<typeof RegistrySearch>) => {
    const page = await registry.searchRegisteredModels(searchQuery(input));
    return { registered_models: page.items.map(registeredModelJson), ...nextPage(page.nextPageToken) };
  };
  const searchModelsSummary = 'Search registered models (filter, order, pages)';
  app.get(
    url('/registered-models/search'),
    mlflowRead('registry', searchModelsSummary, RegistrySearch, RegisteredModelsPage),
    ({ query }) => searchModels(query),
  );
  app.post(
    url('/registered-models/search'),
    mlflowWrite('registry', searchModelsSummary, RegistrySearch, RegisteredModelsPage),
    ({ body }) => searchModels(body),
  );
  app.post(
    url('/registered-models/rename'),
    mlflowWrite(
      'registry',
      'Rename a registered model (its versions and aliases follow)',
      Type.Object({ name: Required, new_name: Required }),
      RegisteredModelAnswer,
    ),
    async ({ body }) => ({
      registered_model: registeredModelJson(await registry.renameRegisteredModel(body.name, body.new_name)),
    }),
  );
  app.patch(
    url('/registered-models/update'),
    mlflowWrite(
      'registry',
      "Update a registered model's description",
      Type.Object({ name: Required, description: OptionalText }),
      RegisteredModelAnswer,
    ),
    async ({ body }) => ({
      registered_model: registeredModelJson(
        await registry.updateRegisteredModel(body.name, body.description ?? ''),
      ),
    }),
  );
  app.delete(
    url('/registered-models/delete'),
    mlflowWrite('registry', 'Delete a registered model and all its versions', ModelName, Empty),
    ({ body }) => done(registry.deleteRegisteredModel(body.name)),
  );
  app.post(
    url('/registered-models/set-tag'),
    mlflowWrite(
      'registry',
      'Set a tag of a registered model',
      Type.Object({ name: Required, key: Required, value: OptionalText }),
      Empty,
    ),
    ({ body }) => done(registry.setRegisteredModelTag(body.name, { key: body.key, value: body.value ?? '' })),
  );
  app.delete(
    url('/registered-models/delete-tag'),
    mlflowWrite(
      'registry',
      'Delete a tag of a registered model (no error when it has no such tag)',
      Type.Object({ name: Required, key: Required }),
      Empty,
    ),
    ({ body }) => done(registry.deleteRegisteredModelTag(body.name, body.key)),
  );
  const latestVersions = async (input: Static<typeof LatestVersions>) => {
    const stages = input.stages === undefined ? undefined : strings(input.stages).map(stage);
    return { model_versions: (await registry.getLatestVersions(input.name, stages)).map(modelVersionJson) };
  };
  const latestSummary = 'The latest version of a registered model in each stage';
  app.get(
    url('/registered-models/get-latest-versions'),
    mlflowRead('registry', latestSummary, LatestVersions, ModelVersions),
    ({ query }) => latestVersions(query),
  );
  app.post(
    url('/registered-models/get-latest-versions'),
    mlflowWrite('registry', latestSummary, LatestVersions, ModelVersions),
    ({ body }) => latestVersions(body),
  );

  // Model versions.
  app.post(
    url('/model-versions/create'),
    mlflowWrite(
      'registry',
      "Register a model as a new version: from runs:/, mlflow-artifacts:/, an artifact URI under the root, models:/NAME/VERSION or a logged model's models:/m-... (its files' sizes and sha256s and the run's key metrics are recorded)",
      Type.Object({
        name: Required,
        source: Required,
        run_id: OptionalText,
        description: OptionalText,
        tags: Type.Optional(KeyValues),
        model_id: OptionalText,
      }),
      ModelVersionAnswer,
    ),
    async ({ body }) => {
      const version = await registerModelVersion(stores, {
        name: body.name,
        source: body.source,
        runId: body.run_id ?? null,
        modelId: body.model_id ?? null,
        ...(body.tags === undefined ? {} : { tags: body.tags }),
        ...(body.description === undefined ? {} : { description: body.description }),
      });
      return { model_version: modelVersionJson(version) };
    },
  );
  app.get(
    url('/model-versions/get'),
    mlflowRead('registry', 'Get a model version', VersionRef, ModelVersionAnswer),
    async ({ query }) => ({
      model_version: modelVersionJson(await registry.getModelVersion(query.name, query.version)),
    }),
  );
  const searchVersions = async (input: Static<typeof RegistrySearch>) => {
    const page = await registry.searchModelVersions(searchQuery(input));
    return { model_versions: page.items.map(modelVersionJson), ...nextPage(page.nextPageToken) };
  };
  const searchVersionsSummary = 'Search model versions (filter, order, pages)';
  app.get(
    url('/model-versions/search'),
    mlflowRead('registry', searchVersionsSummary, RegistrySearch, ModelVersionsPage),
    ({ query }) => searchVersions(query),
  );
  app.post(
    url('/model-versions/search'),
    mlflowWrite('registry', searchVersionsSummary, RegistrySearch, ModelVersionsPage),
    ({ body }) => searchVersions(body),
  );
  app.patch(
    url('/model-versions/update'),
    mlflowWrite(
      'registry',
      "Update a model version's description",
      Type.Object({ name: Required, version: Required, description: OptionalText }),
      ModelVersionAnswer,
    ),
    async ({ body }) => ({
      model_version: modelVersionJson(
        await registry.updateModelVersion(body.name, body.version, body.description ?? ''),
      ),
    }),
  );
  app.delete(
    url('/model-versions/delete'),
    mlflowWrite('registry', 'Delete a model version (its number is not reused)', VersionRef, Empty),
    ({ body }) => done(registry.deleteModelVersion(body.name, body.version)),
  );
  app.post(
    url('/model-versions/set-tag'),
    mlflowWrite(
      'registry',
      'Set a tag of a model version',
      Type.Object({ name: Required, version: Required, key: Required, value: OptionalText }),
      Empty,
    ),
    ({ body }) =>
      done(registry.setModelVersionTag(body.name, body.version, { key: body.key, value: body.value ?? '' })),
  );
  app.delete(
    url('/model-versions/delete-tag'),
    mlflowWrite(
      'registry',
      'Delete a tag of a model version (no error when it has no such tag)',
      Type.Object({ name: Required, version: Required, key: Required }),
      Empty,
    ),
    ({ body }) => done(registry.deleteModelVersionTag(body.name, body.version, body.key)),
  );
  app.post(
    url('/model-versions/transition-stage'),
    mlflowWrite(
      'registry',
      'Move a model version to a stage (optionally archiving the versions in it); recorded as made by the authenticated principal (admin, or anonymous without an admin token)',
      Type.Object({
        name: Required,
        version: Required,
        stage: Stage,
        archive_existing_versions: Type.Optional(Bool),
        comment: Type.Optional(Type.String({ description: 'why (also accepted as `reason`)' })),
        reason: OptionalText,
      }),
      ModelVersionAnswer,
    ),
    async ({ body, principal }) => ({
      model_version: modelVersionJson(
        await registry.transitionModelVersionStage({
          name: body.name,
          version: body.version,
          stage: stage(body.stage),
          archiveExistingVersions: bool(body.archive_existing_versions) ?? false,
          // Who proved it with their credentials, never a name the client claims.
          user: principal,
          reason: body.comment ?? body.reason ?? '',
        }),
      ),
    }),
  );
  app.get(
    url('/model-versions/get-download-uri'),
    mlflowRead(
      'registry',
      "Where a model version's files are: mlflow-artifacts:/... (through this server's artifact proxy) when Onset stores them, the source otherwise",
      VersionRef,
      Type.Object({ artifact_uri: Type.String() }),
    ),
    async ({ query }) => {
      const version = await registry.getModelVersion(query.name, query.version);
      const location = version.storageLocation;
      // Through the proxy when Onset stores it; the client's own URI when it is elsewhere.
      return {
        artifact_uri: location === null ? version.source : uris.present(joinUri(artifacts.rootUri, location)),
      };
    },
  );

  // Onset's own: MLflow's open-source API keeps no stage history (Databricks' has transition requests).
  app.get(
    '/api/onset/registry/stage-history',
    mlflowRead(
      'registry',
      "A model's stage transitions (or one version's), oldest first: from, to, when, who (as their credentials proved) and why",
      Type.Object({
        name: Required,
        version: Type.Optional(Type.String({ description: 'only this version; default: every version' })),
      }),
      Type.Object({ transitions: Type.Array(StageTransitionJson) }),
    ),
    // An unknown model or version is the store's 404, not an empty history.
    async ({ query }) => ({
      transitions: (await registry.getStageHistory(query.name, query.version || undefined)).map(
        stageTransitionJson,
      ),
    }),
  );

  // Aliases.
  app.post(
    url('/registered-models/alias'),
    mlflowWrite(
      'registry',
      'Point an alias (e.g. champion) at a model version',
      Type.Object({ name: Required, alias: Required, version: Required }),
      Empty,
    ),
    ({ body }) => done(registry.setAlias(body.name, body.alias, body.version)),
  );
  app.delete(
    url('/registered-models/alias'),
    mlflowWrite('registry', 'Delete an alias (no error when the model has no such alias)', AliasRef, Empty),
    ({ body }) => done(registry.deleteAlias(body.name, body.alias)),
  );
  app.get(
    url('/registered-models/alias'),
    mlflowRead('registry', 'The model version an alias points at', AliasRef, ModelVersionAnswer),
    async ({ query }) => ({
      model_version: modelVersionJson(await registry.getModelVersionByAlias(query.name, query.alias)),
    }),
  );
}
