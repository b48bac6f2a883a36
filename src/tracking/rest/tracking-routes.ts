import { type Static, Type } from 'typebox';
import { invalidParameter } from '../../errors.js';
import { Int64, int64, Required } from '../../http/fields.js';
import { Empty, type TypedApp } from '../../http/route.js';
import { joinArtifactPath, runArtifactPrefix } from '../artifact-paths.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { type Experiment, type Metric, RUN_STATUSES, type Run, type ViewType } from '../entities.js';
import type { LoggedModelStore } from '../logged-model-store.js';
import { metricHistoryBulk, sampledMetricHistories } from '../metric-histories.js';
import { logMetric, logParam, setTag } from '../tracking-client.js';
import type { TrackingStore } from '../tracking-store.js';
import { done, MLFLOW_AJAX_API, MLFLOW_API, mlflowRead, mlflowWrite } from './mlflow-endpoint.js';
import {
  Id,
  IdList,
  ids,
  KeyValues,
  MetricValue,
  metricValue,
  OptionalText,
  Paging,
  paging,
  StringList,
  strings,
} from './mlflow-fields.js';
import {
  datasetSummaryJson,
  experimentJson,
  fileInfoJson,
  metricJson,
  metricOfRunJson,
  nextPage,
  runInfoJson,
  runJson,
} from './mlflow-json.js';
import {
  DatasetSummaryJson,
  ExperimentJson,
  FileInfoJson,
  MetricJson,
  MetricOfRunJson,
  NextPage,
  RunInfoJson,
  RunJson,
} from './mlflow-schemas.js';
import { ProxiedArtifactUris } from './proxied-uris.js';

/** MLflow's limit of experiments per `search-datasets` call. */
const MAX_DATASET_SEARCH_EXPERIMENTS = 20;

const VIEW_TYPES: readonly ViewType[] = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'];
const ViewTypeField = Type.Optional(Type.Enum(VIEW_TYPES, { description: 'default ACTIVE_ONLY' }));
const Filter = Type.Optional(
  Type.String({ description: 'a search filter, e.g. "metrics.roc_auc > 0.9"; empty: none' }),
);
const OrderBy = Type.Optional(StringList);

/** A run, by `run_id` or, as older MLflow clients send it, `run_uuid`. */
const RunRef = {
  run_id: Required,
  run_uuid: Type.Optional(
    Type.String({ description: 'the older name of run_id, read when run_id is absent' }),
  ),
};

const ExperimentSearch = Type.Object({
  filter: Filter,
  view_type: ViewTypeField,
  ...Paging,
  order_by: OrderBy,
});

const ExperimentsPage = Type.Object({ experiments: Type.Array(ExperimentJson), ...NextPage });
const ExperimentAnswer = Type.Object({ experiment: ExperimentJson });
const RunAnswer = Type.Object({ run: RunJson });

/** MLflow's DatasetInput as a request gives it: the dataset and the tags of the run's use of it. */
const DatasetInputField = Type.Object({
  tags: Type.Optional(KeyValues),
  dataset: Type.Object({
    name: Required,
    digest: Required,
    source_type: Required,
    source: Type.String(),
    schema: Type.Optional(Type.String({ description: 'JSON text, e.g. an MLflow column spec' })),
    profile: Type.Optional(Type.String({ description: 'JSON text, e.g. {"num_rows": 2}' })),
  }),
});

/** MLflow 3's fields of a metric value that link it to a logged model and the dataset it was computed on. */
const ModelLinkFields = {
  model_id: Type.Optional(Type.String({ description: 'a logged model to link the value to (MLflow 3)' })),
  dataset_name: OptionalText,
  dataset_digest: OptionalText,
};
interface ModelLink {
  readonly model_id?: string;
  readonly dataset_name?: string;
  readonly dataset_digest?: string;
}
const modelLink = (fields: ModelLink): ModelLink => ({
  ...(fields.model_id ? { model_id: fields.model_id } : {}),
  ...(fields.dataset_name ? { dataset_name: fields.dataset_name } : {}),
  ...(fields.dataset_digest ? { dataset_digest: fields.dataset_digest } : {}),
});

/** The fields MLflow requires of a logged model's JSON (`runs/log-model`). */
const LOGGED_MODEL_FIELDS = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'] as const;

function loggedModel(modelJson: string): Record<string, unknown> {
  let model: unknown;
  try {
    model = JSON.parse(modelJson);
  } catch {
    model = undefined;
  }
  if (typeof model !== 'object' || model === null || Array.isArray(model)) {
    throw invalidParameter(
      `Malformed model info. model_json ${JSON.stringify(modelJson.slice(0, 200))} is not a valid JSON object.`,
    );
  }
  const missing = LOGGED_MODEL_FIELDS.filter((field) => !Object.hasOwn(model, field));
  if (missing.length > 0) {
    throw invalidParameter(`Model json is missing mandatory fields: ${missing.join(', ')}`);
  }
  return model as Record<string, unknown>;
}

const optionalFilter = (filter: string | undefined) => (filter ? { filter } : {});
const optionalView = (viewType: ViewType | undefined) => (viewType === undefined ? {} : { viewType });
const optionalOrder = (orderBy: Static<typeof StringList> | undefined) =>
  orderBy === undefined ? {} : { orderBy: strings(orderBy) };

/**
 * MLflow's tracking endpoints (experiments, runs, metrics, a run's artifacts) over Onset's tracking store.
 * Every route needs the admin token when one is configured (see `mlflowRead`).
 */
export function trackingRoutes(
  app: TypedApp,
  {
    tracking,
    loggedModels,
    artifacts,
  }: {
    readonly tracking: TrackingStore;
    readonly loggedModels: LoggedModelStore;
    readonly artifacts: ArtifactStore;
  },
): void {
  /**
   * Logs metric values with `log` and links those naming a logged model (MLflow 3's `model_id`, with the
   * dataset they were computed on) to it; an unknown model is refused before anything is logged.
   */
  const logMetricsOfModels = async (
    runId: string,
    metrics: readonly (Metric & ModelLink)[],
    log: () => Promise<unknown>,
  ) => {
    const linked = metrics.filter((metric) => metric.model_id !== undefined && metric.model_id !== '');
    if (linked.length > 0)
      await loggedModels.checkLoggedModelsExist(linked.map((metric) => metric.model_id!));
    await log();
    await loggedModels.logLoggedModelMetrics(
      linked.map((metric) => ({
        key: metric.key,
        value: metric.value,
        timestamp: metric.timestamp,
        step: metric.step,
        modelId: metric.model_id!,
        runId,
        datasetName: metric.dataset_name || null,
        datasetDigest: metric.dataset_digest || null,
      })),
    );
    return {};
  };
  const url = (path: string) => `${MLFLOW_API}${path}`;
  const uris = new ProxiedArtifactUris(artifacts.rootUri);
  const experimentAnswer = (experiment: Experiment) => experimentJson(experiment, uris);
  const runAnswer = (run: Run) => runJson(run, uris);

  // Experiments.
  app.post(
    url('/experiments/create'),
    mlflowWrite(
      'tracking',
      'Create an experiment',
      Type.Object({
        name: Required,
        artifact_location: Type.Optional(Type.String({ description: 'default: under the artifact root' })),
        tags: Type.Optional(KeyValues),
      }),
      Type.Object({ experiment_id: Type.String() }),
    ),
    async ({ body }) => ({
      experiment_id: await tracking.createExperiment({
        name: body.name,
        ...(body.artifact_location ? { artifactLocation: uris.accept(body.artifact_location) } : {}),
        tags: body.tags ?? [],
      }),
    }),
  );
  app.get(
    url('/experiments/get'),
    mlflowRead('tracking', 'Get an experiment by id', Type.Object({ experiment_id: Id }), ExperimentAnswer),
    async ({ query }) => ({
      experiment: experimentAnswer(await tracking.getExperiment(String(query.experiment_id))),
    }),
  );
  app.get(
    url('/experiments/get-by-name'),
    mlflowRead(
      'tracking',
      'Get an experiment by name',
      Type.Object({ experiment_name: Required }),
      ExperimentAnswer,
    ),
    async ({ query }) => ({
      experiment: experimentAnswer(await tracking.getExperimentByName(query.experiment_name)),
    }),
  );
  const searchExperiments = async (input: Static<typeof ExperimentSearch>) => {
    const page = await tracking.searchExperiments({
      ...optionalFilter(input.filter),
      ...optionalView(input.view_type),
      ...paging(input),
      ...optionalOrder(input.order_by),
    });
    return { experiments: page.items.map(experimentAnswer), ...nextPage(page.nextPageToken) };
  };
  const searchSummary = 'Search experiments (filter, order, pages)';
  app.get(
    url('/experiments/search'),
    mlflowRead('tracking', searchSummary, ExperimentSearch, ExperimentsPage),
    ({ query }) => searchExperiments(query),
  );
  app.post(
    url('/experiments/search'),
    mlflowWrite('tracking', searchSummary, ExperimentSearch, ExperimentsPage),
    ({ body }) => searchExperiments(body),
  );
  // MLflow 1.x's list call, still used by older clients: every experiment of a view type, unpaged.
  app.get(
    url('/experiments/list'),
    mlflowRead(
      'tracking',
      'List every experiment of a view type (MLflow 1.x; unpaged)',
      Type.Object({ view_type: ViewTypeField }),
      Type.Object({ experiments: Type.Array(ExperimentJson) }),
    ),
    async ({ query }) => {
      const experiments = [];
      let pageToken: string | undefined;
      do {
        const page = await tracking.searchExperiments({
          ...optionalView(query.view_type),
          maxResults: 1000,
          ...(pageToken ? { pageToken } : {}),
        });
        experiments.push(...page.items.map(experimentAnswer));
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken);
      return { experiments };
    },
  );
  app.post(
    url('/experiments/update'),
    mlflowWrite(
      'tracking',
      'Rename an experiment',
      Type.Object({ experiment_id: Required, new_name: Required }),
      Empty,
    ),
    ({ body }) => done(tracking.renameExperiment(body.experiment_id, body.new_name)),
  );
  const ExperimentRef = Type.Object({ experiment_id: Required });
  app.post(
    url('/experiments/delete'),
    mlflowWrite('tracking', 'Delete an experiment and its runs (restorable)', ExperimentRef, Empty),
    ({ body }) => done(tracking.deleteExperiment(body.experiment_id)),
  );
  app.post(
    url('/experiments/restore'),
    mlflowWrite('tracking', 'Restore a deleted experiment and its runs', ExperimentRef, Empty),
    ({ body }) => done(tracking.restoreExperiment(body.experiment_id)),
  );
  app.post(
    url('/experiments/set-experiment-tag'),
    mlflowWrite(
      'tracking',
      'Set a tag of an experiment',
      Type.Object({ experiment_id: Required, key: Required, value: OptionalText }),
      Empty,
    ),
    ({ body }) =>
      done(tracking.setExperimentTag(body.experiment_id, { key: body.key, value: body.value ?? '' })),
  );
  app.post(
    url('/experiments/delete-experiment-tag'),
    mlflowWrite(
      'tracking',
      'Delete a tag of an experiment',
      Type.Object({ experiment_id: Required, key: Required }),
      Empty,
    ),
    ({ body }) => done(tracking.deleteExperimentTag(body.experiment_id, body.key)),
  );

  // Runs.
  app.post(
    url('/runs/create'),
    mlflowWrite(
      'tracking',
      'Create a run',
      Type.Object({
        experiment_id: Type.Optional(Id),
        tags: Type.Optional(KeyValues),
        start_time: Type.Optional(Int64),
        run_name: OptionalText,
        user_id: OptionalText,
      }),
      RunAnswer,
    ),
    async ({ body }) => {
      const startTime = int64(body.start_time);
      const run = await tracking.createRun({
        experimentId: body.experiment_id === undefined ? '0' : String(body.experiment_id),
        tags: body.tags ?? [],
        // A remote client owns this run: the server's restarts must not fail it.
        owner: null,
        ...(startTime === undefined ? {} : { startTime }),
        ...(body.run_name === undefined ? {} : { runName: body.run_name }),
        ...(body.user_id === undefined ? {} : { userId: body.user_id }),
      });
      return { run: runAnswer(run) };
    },
  );
  app.post(
    url('/runs/update'),
    mlflowWrite(
      'tracking',
      "Update a run's status, end time or name",
      Type.Object({
        ...RunRef,
        status: Type.Optional(Type.Enum(RUN_STATUSES)),
        end_time: Type.Optional(Int64),
        run_name: OptionalText,
      }),
      Type.Object({ run_info: RunInfoJson }),
    ),
    async ({ body }) => {
      const endTime = int64(body.end_time);
      const info = await tracking.updateRun(body.run_id, {
        ...(body.status === undefined ? {} : { status: body.status }),
        ...(endTime === undefined ? {} : { endTime }),
        ...(body.run_name === undefined ? {} : { runName: body.run_name }),
      });
      return { run_info: runInfoJson(info, uris) };
    },
  );
  app.get(
    url('/runs/get'),
    mlflowRead(
      'tracking',
      'Get a run with its latest metrics, params and tags',
      Type.Object(RunRef),
      RunAnswer,
    ),
    async ({ query }) => ({ run: runAnswer(await tracking.getRun(query.run_id)) }),
  );
  app.post(
    url('/runs/search'),
    mlflowWrite(
      'tracking',
      'Search runs of experiments (filter, order, pages)',
      Type.Object({
        experiment_ids: Type.Optional(IdList),
        filter: Filter,
        run_view_type: ViewTypeField,
        ...Paging,
        order_by: OrderBy,
      }),
      Type.Object({ runs: Type.Array(RunJson), ...NextPage }),
    ),
    async ({ body }) => {
      const page = await tracking.searchRuns({
        experimentIds: body.experiment_ids === undefined ? [] : ids(body.experiment_ids),
        ...optionalFilter(body.filter),
        ...optionalView(body.run_view_type),
        ...paging(body),
        ...optionalOrder(body.order_by),
        // An artifact_uri in the filter is the URI clients see (mlflow-artifacts:/...).
        artifactRoot: ProxiedArtifactUris.SEARCH_ROOT,
      });
      return { runs: page.items.map(runAnswer), ...nextPage(page.nextPageToken) };
    },
  );
  const RunIdOnly = Type.Object({ run_id: Required });
  app.post(
    url('/runs/delete'),
    mlflowWrite('tracking', 'Delete a run (restorable)', RunIdOnly, Empty),
    ({ body }) => done(tracking.deleteRun(body.run_id)),
  );
  app.post(
    url('/runs/restore'),
    mlflowWrite('tracking', 'Restore a deleted run', RunIdOnly, Empty),
    ({ body }) => done(tracking.restoreRun(body.run_id)),
  );
  app.post(
    url('/runs/log-metric'),
    mlflowWrite(
      'tracking',
      'Log one value of a metric',
      Type.Object({
        ...RunRef,
        key: Required,
        value: MetricValue,
        step: Type.Optional(Int64),
        timestamp: Type.Optional(Int64),
        ...ModelLinkFields,
      }),
      Empty,
    ),
    async ({ body }) => {
      const metric = {
        key: body.key,
        value: metricValue(body.value),
        step: int64(body.step) ?? 0,
        timestamp: int64(body.timestamp) ?? Date.now(),
        ...modelLink(body),
      };
      return logMetricsOfModels(body.run_id, [metric], () =>
        logMetric(tracking, body.run_id, metric.key, metric.value, {
          step: metric.step,
          timestamp: metric.timestamp,
        }),
      );
    },
  );
  const KeyValueOfRun = Type.Object({ ...RunRef, key: Required, value: OptionalText });
  app.post(
    url('/runs/log-parameter'),
    mlflowWrite('tracking', 'Log a parameter (write-once)', KeyValueOfRun, Empty),
    ({ body }) => done(logParam(tracking, body.run_id, body.key, body.value ?? '')),
  );
  app.post(
    url('/runs/set-tag'),
    mlflowWrite('tracking', 'Set a tag of a run', KeyValueOfRun, Empty),
    ({ body }) => done(setTag(tracking, body.run_id, body.key, body.value ?? '')),
  );
  app.post(
    url('/runs/delete-tag'),
    mlflowWrite('tracking', 'Delete a tag of a run', Type.Object({ run_id: Required, key: Required }), Empty),
    ({ body }) => done(tracking.deleteTag(body.run_id, body.key)),
  );
  app.post(
    url('/runs/log-batch'),
    mlflowWrite(
      'tracking',
      'Log metrics, params and tags in one call (all or nothing)',
      Type.Object({
        run_id: Required,
        metrics: Type.Optional(
          Type.Array(
            Type.Object({
              key: Required,
              value: MetricValue,
              timestamp: Type.Optional(Int64),
              step: Type.Optional(Int64),
              ...ModelLinkFields,
            }),
          ),
        ),
        params: Type.Optional(KeyValues),
        tags: Type.Optional(KeyValues),
      }),
      Empty,
    ),
    ({ body }) => {
      const metrics = (body.metrics ?? []).map((metric) => ({
        key: metric.key,
        value: metricValue(metric.value),
        timestamp: int64(metric.timestamp) ?? Date.now(),
        step: int64(metric.step) ?? 0,
        ...modelLink(metric),
      }));
      return logMetricsOfModels(body.run_id, metrics, () =>
        tracking.logBatch(body.run_id, {
          metrics: metrics.map(({ key, value, timestamp, step }) => ({ key, value, timestamp, step })),
          params: body.params ?? [],
          tags: body.tags ?? [],
        }),
      );
    },
  );
  app.post(
    url('/runs/log-inputs'),
    mlflowWrite(
      'tracking',
      'Log datasets (each stored once per experiment by name and digest) and logged models a run used',
      Type.Object({
        run_id: Required,
        datasets: Type.Optional(
          Type.Array(DatasetInputField, { description: 'required unless models are given (MLflow 3)' }),
        ),
        models: Type.Optional(Type.Array(Type.Object({ model_id: Required }), { description: 'MLflow 3' })),
      }),
      Empty,
    ),
    async ({ body }) => {
      if (body.datasets === undefined && body.models === undefined) {
        throw invalidParameter("Missing value for required parameter 'datasets'.");
      }
      const models = (body.models ?? []).map((model) => ({ modelId: model.model_id }));
      if (models.length > 0) await loggedModels.checkLoggedModelsExist(models.map((model) => model.modelId));
      return done(
        tracking.logInputs(
          body.run_id,
          (body.datasets ?? []).map(({ tags, dataset }) => ({
            tags: tags ?? [],
            dataset: {
              name: dataset.name,
              digest: dataset.digest,
              sourceType: dataset.source_type,
              source: dataset.source,
              schema: dataset.schema ?? null,
              profile: dataset.profile ?? null,
            },
          })),
          models,
        ),
      );
    },
  );
  app.post(
    url('/runs/outputs'),
    mlflowWrite(
      'tracking',
      'Log logged models a run produced, with the step of each (MLflow 3)',
      Type.Object({
        run_id: Required,
        models: Type.Array(Type.Object({ model_id: Required, step: Type.Optional(Int64) })),
      }),
      Empty,
    ),
    async ({ body }) => {
      const models = body.models.map((model) => ({ modelId: model.model_id, step: int64(model.step) ?? 0 }));
      await loggedModels.checkLoggedModelsExist(models.map((model) => model.modelId));
      return done(tracking.logOutputs(body.run_id, models));
    },
  );
  app.post(
    url('/runs/log-model'),
    mlflowWrite(
      'tracking',
      "Record a logged model's MLmodel (as JSON) in the run's mlflow.log-model.history tag",
      Type.Object({
        run_id: Required,
        model_json: Type.String({
          minLength: 1,
          description:
            'the MLmodel as a JSON object, with artifact_path, flavors, utc_time_created and run_id',
        }),
      }),
      Empty,
    ),
    ({ body }) => done(tracking.recordLoggedModel(body.run_id, loggedModel(body.model_json))),
  );
  app.get(
    url('/metrics/get-history'),
    mlflowRead(
      'tracking',
      "Every logged value of a run's metric, by step (pages)",
      Type.Object({ ...RunRef, metric_key: Required, ...Paging }),
      Type.Object({ metrics: Type.Array(MetricJson), ...NextPage }),
    ),
    async ({ query }) => {
      const page = await tracking.getMetricHistory(query.run_id, query.metric_key, paging(query));
      return { metrics: page.items.map(metricJson), ...nextPage(page.nextPageToken) };
    },
  );
  const BulkHistory = Type.Object({
    run_id: Type.Optional(StringList),
    metric_key: Type.Optional(Type.String()),
    max_results: Type.Optional(Int64),
  });
  const BulkInterval = Type.Object({
    run_ids: StringList,
    metric_key: Required,
    start_step: Type.Optional(Int64),
    end_step: Type.Optional(Int64),
    max_results: Type.Optional(Int64),
  });
  const MetricsOfRuns = Type.Object({ metrics: Type.Array(MetricOfRunJson) });
  const DatasetSearch = Type.Object({ experiment_ids: Type.Optional(IdList) });
  for (const prefix of [MLFLOW_API, MLFLOW_AJAX_API]) {
    app.get(
      `${prefix}/metrics/get-history-bulk`,
      mlflowRead(
        'tracking',
        "Every value of a metric of several runs (MLflow's UI call: at most 100 runs and 25,000 values)",
        BulkHistory,
        MetricsOfRuns,
      ),
      async ({ query }) => {
        if (!query.metric_key) {
          throw invalidParameter('GetMetricHistoryBulk request must specify a metric_key.');
        }
        const maxResults = int64(query.max_results);
        const metrics = await metricHistoryBulk(tracking, {
          runIds: query.run_id === undefined ? [] : strings(query.run_id),
          key: query.metric_key,
          ...(maxResults === undefined ? {} : { maxResults }),
        });
        return { metrics: metrics.map(metricOfRunJson) };
      },
    );
    app.get(
      `${prefix}/metrics/get-history-bulk-interval`,
      mlflowRead(
        'tracking',
        'The values of a metric of several runs at sampled steps (for charts: at most 100 runs, 2,500 steps)',
        BulkInterval,
        MetricsOfRuns,
      ),
      async ({ query }) => {
        const [maxResults, startStep, endStep] = [query.max_results, query.start_step, query.end_step].map(
          int64,
        );
        const metrics = await sampledMetricHistories(tracking, {
          runIds: strings(query.run_ids),
          key: query.metric_key,
          ...(maxResults === undefined ? {} : { maxResults }),
          ...(startStep === undefined ? {} : { startStep }),
          ...(endStep === undefined ? {} : { endStep }),
        });
        return { metrics: metrics.map(metricOfRunJson) };
      },
    );
    app.post(
      `${prefix}/experiments/search-datasets`,
      mlflowWrite(
        'tracking',
        "The datasets of experiments with the contexts runs used them in (MLflow's UI call: at most 20 experiments)",
        DatasetSearch,
        Type.Object({ dataset_summaries: Type.Array(DatasetSummaryJson) }),
      ),
      async ({ body }) => {
        const experimentIds = body.experiment_ids === undefined ? [] : ids(body.experiment_ids);
        if (experimentIds.length === 0) {
          throw invalidParameter('SearchDatasets request must specify at least one experiment_id.');
        }
        if (experimentIds.length > MAX_DATASET_SEARCH_EXPERIMENTS) {
          throw invalidParameter(
            `SearchDatasets request cannot specify more than ${MAX_DATASET_SEARCH_EXPERIMENTS} experiment_ids. Received ${experimentIds.length} experiment_ids.`,
          );
        }
        const summaries = await tracking.searchDatasets(experimentIds);
        return { dataset_summaries: summaries.map(datasetSummaryJson) };
      },
    );
  }
  app.get(
    url('/artifacts/list'),
    mlflowRead(
      'artifacts',
      "List a run's artifacts under a path",
      Type.Object({ ...RunRef, path: Type.Optional(Type.String({ description: 'default: the root' })) }),
      Type.Object({ root_uri: Type.String(), files: Type.Array(FileInfoJson) }),
    ),
    async ({ query }) => {
      const run = await tracking.getRun(query.run_id);
      const root = runArtifactPrefix(artifacts, run.info.artifactUri);
      // MLflow clients may send a directory with a trailing slash.
      const sub = (query.path ?? '').replace(/\/+$/, '');
      const entries = await artifacts.list(joinArtifactPath(root, sub));
      return {
        root_uri: uris.present(run.info.artifactUri),
        files: entries.map((entry) => fileInfoJson(entry, joinArtifactPath(sub, entry.path))),
      };
    },
  );
}
