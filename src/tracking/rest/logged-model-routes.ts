import { type Static, type TSchema, Type } from 'typebox';
import { invalidParameter } from '../../errors.js';
import { Required } from '../../http/fields.js';
import { Empty, type TypedApp } from '../../http/route.js';
import { joinArtifactPath, runArtifactPrefix } from '../artifact-paths.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { LoggedModelStatus } from '../entities.js';
import type { LoggedModelStore } from '../logged-model-store.js';
import { done, MLFLOW_API, mlflowRead, mlflowWrite } from './mlflow-endpoint.js';
import { Bool, bool, Id, IdList, ids, KeyValues, OptionalText, Paging, paging } from './mlflow-fields.js';
import { fileInfoJson, LOGGED_MODEL_STATUS_NAMES, loggedModelJson, nextPage } from './mlflow-json.js';
import { FileInfoJson, LoggedModelJson, NextPage } from './mlflow-schemas.js';
import { ProxiedArtifactUris } from './proxied-uris.js';

/** A logged model's id, as the path names it. */
const ModelPath = Type.Object({ model_id: Required });
const TagPath = Type.Object({ model_id: Required, tag_key: Required });

/** The model id MLflow's clients also repeat in the body: the path's counts. */
const BodyModelId = { model_id: Type.Optional(Type.String({ description: 'the same as the path' })) };

/** MLflow 3's LoggedModelStatus: its name as protobuf's JSON writes it, or its number. */
const StatusField = Type.Union(
  [
    Type.Enum(Object.values(LOGGED_MODEL_STATUS_NAMES)),
    Type.Integer({ minimum: 1, maximum: 3 }),
    Type.Enum(['1', '2', '3']),
  ],
  {
    description: 'LOGGED_MODEL_READY (2), LOGGED_MODEL_UPLOAD_FAILED (3) or LOGGED_MODEL_PENDING (1)',
  },
);

function status(value: Static<typeof StatusField>): LoggedModelStatus {
  const byNumber: Record<string, LoggedModelStatus> = { '1': 'PENDING', '2': 'READY', '3': 'FAILED' };
  const byName = Object.entries(LOGGED_MODEL_STATUS_NAMES).find(([, name]) => name === value)?.[0];
  return (byName as LoggedModelStatus | undefined) ?? byNumber[String(value)]!;
}

const LoggedModelSearch = Type.Object({
  experiment_ids: IdList,
  filter: Type.Optional(
    Type.String({ description: "e.g. \"metrics.accuracy > 0.9 AND params.lr = '0.1' AND name = 'model'\"" }),
  ),
  datasets: Type.Optional(
    Type.Array(Type.Object({ dataset_name: Required, dataset_digest: OptionalText }), {
      description: 'metric filters consider only the metrics on these datasets',
    }),
  ),
  ...Paging,
  order_by: Type.Optional(
    Type.Array(
      Type.Object({
        field_name: Required,
        ascending: Type.Optional(Bool),
        dataset_name: OptionalText,
        dataset_digest: OptionalText,
      }),
      { description: 'e.g. [{"field_name": "metrics.accuracy", "ascending": false}]; default: newest first' },
    ),
  ),
});

const ModelAnswer = Type.Object({ model: LoggedModelJson });

/** An MLflow route of a logged model: its options with the path's schema. */
function onModel<O extends { schema: object }, P extends TSchema>(options: O, params: P) {
  return { ...options, schema: { ...options.schema, params } };
}

/**
 * MLflow 3's logged-models API (`/api/2.0/mlflow/logged-models/...`): what an MLflow 3 client's
 * `log_model`, `load_model` and `search_logged_models` call. A model's files are written and read through
 * the artifact proxy at its `artifact_uri`. Every route needs the admin token when one is configured.
 */
export function loggedModelRoutes(
  app: TypedApp,
  { loggedModels, artifacts }: { readonly loggedModels: LoggedModelStore; readonly artifacts: ArtifactStore },
): void {
  const url = (path: string) => `${MLFLOW_API}/logged-models${path}`;
  const uris = new ProxiedArtifactUris(artifacts.rootUri);

  app.post(
    url(''),
    mlflowWrite(
      'tracking',
      'Create a logged model (PENDING until finalized); its files go to <experiment location>/models/<id>/artifacts',
      Type.Object({
        experiment_id: Id,
        name: OptionalText,
        model_type: OptionalText,
        source_run_id: OptionalText,
        params: Type.Optional(KeyValues),
        tags: Type.Optional(KeyValues),
      }),
      ModelAnswer,
    ),
    async ({ body }) => {
      const model = await loggedModels.createLoggedModel({
        experimentId: String(body.experiment_id),
        ...(body.name ? { name: body.name } : {}),
        ...(body.model_type ? { modelType: body.model_type } : {}),
        ...(body.source_run_id ? { sourceRunId: body.source_run_id } : {}),
        params: body.params ?? [],
        tags: body.tags ?? [],
      });
      return { model: loggedModelJson(model, uris) };
    },
  );
  app.post(
    url('/search'),
    mlflowWrite(
      'tracking',
      'Search logged models of experiments (filter on attributes, metrics, params, tags; order; pages)',
      LoggedModelSearch,
      Type.Object({ models: Type.Array(LoggedModelJson), ...NextPage }),
    ),
    async ({ body }) => {
      const page = await loggedModels.searchLoggedModels({
        experimentIds: ids(body.experiment_ids),
        ...(body.filter ? { filter: body.filter } : {}),
        datasets: (body.datasets ?? []).map((dataset) => ({
          name: dataset.dataset_name,
          ...(dataset.dataset_digest ? { digest: dataset.dataset_digest } : {}),
        })),
        orderBy: (body.order_by ?? []).map((order) => ({
          field: order.field_name,
          ascending: bool(order.ascending) ?? true,
          ...(order.dataset_name ? { datasetName: order.dataset_name } : {}),
          ...(order.dataset_digest ? { datasetDigest: order.dataset_digest } : {}),
        })),
        ...paging(body),
      });
      return {
        models: page.items.map((model) => loggedModelJson(model, uris)),
        ...nextPage(page.nextPageToken),
      };
    },
  );
  app.get(
    url('/:model_id'),
    onModel(mlflowRead('tracking', 'Get a logged model', Type.Object({}), ModelAnswer), ModelPath),
    async ({ params }) => ({
      model: loggedModelJson(await loggedModels.getLoggedModel(params.model_id), uris),
    }),
  );
  app.patch(
    url('/:model_id'),
    onModel(
      mlflowWrite(
        'tracking',
        'Finalize a logged model: READY once its files are uploaded, UPLOAD_FAILED when that failed',
        Type.Object({ ...BodyModelId, status: StatusField }),
        ModelAnswer,
      ),
      ModelPath,
    ),
    async ({ params, body }) => ({
      model: loggedModelJson(
        await loggedModels.finalizeLoggedModel(params.model_id, status(body.status)),
        uris,
      ),
    }),
  );
  app.delete(
    url('/:model_id'),
    onModel(
      mlflowWrite(
        'tracking',
        'Delete a logged model (gone from gets and searches; its files stay)',
        Type.Object(BodyModelId),
        Empty,
      ),
      ModelPath,
    ),
    ({ params }) => done(loggedModels.deleteLoggedModel(params.model_id)),
  );
  app.patch(
    url('/:model_id/tags'),
    onModel(
      mlflowWrite(
        'tracking',
        'Set tags of a logged model',
        Type.Object({ ...BodyModelId, tags: KeyValues }),
        Empty,
      ),
      ModelPath,
    ),
    ({ params, body }) => done(loggedModels.setLoggedModelTags(params.model_id, body.tags)),
  );
  app.delete(
    url('/:model_id/tags/:tag_key'),
    onModel(mlflowRead('tracking', 'Delete a tag of a logged model', Type.Object({}), Empty), TagPath),
    ({ params }) => done(loggedModels.deleteLoggedModelTag(params.model_id, params.tag_key)),
  );
  app.post(
    url('/:model_id/params'),
    onModel(
      mlflowWrite(
        'tracking',
        'Log params of a logged model (write-once)',
        Type.Object({ ...BodyModelId, params: Type.Optional(KeyValues) }),
        Empty,
      ),
      ModelPath,
    ),
    ({ params, body }) => done(loggedModels.logLoggedModelParams(params.model_id, body.params ?? [])),
  );
  app.get(
    url('/:model_id/artifacts/directories'),
    onModel(
      mlflowRead(
        'artifacts',
        "List a logged model's files under a directory",
        Type.Object({
          artifact_directory_path: Type.Optional(Type.String({ description: 'default: the root' })),
          page_token: Type.Optional(Type.String({ description: 'unused: every file comes in one page' })),
        }),
        Type.Object({ root_uri: Type.String(), files: Type.Array(FileInfoJson), ...NextPage }),
      ),
      ModelPath,
    ),
    async ({ params, query }) => {
      const model = await loggedModels.getLoggedModel(params.model_id);
      const root = runArtifactPrefix(artifacts, model.artifactLocation);
      const sub = (query.artifact_directory_path ?? '').replace(/\/+$/, '');
      if (sub.split('/').includes('..'))
        throw invalidParameter('Invalid path: artifact_directory_path must not hold ".." steps');
      const entries = await artifacts.list(joinArtifactPath(root, sub));
      return {
        root_uri: uris.present(model.artifactLocation),
        files: entries.map((entry) => fileInfoJson(entry, joinArtifactPath(sub, entry.path))),
      };
    },
  );
}
