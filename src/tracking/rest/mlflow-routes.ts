import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidParameter } from '../../errors.js';
import { requireAdminToken } from '../../http/admin-token.js';
import { joinArtifactPath, joinUri, runArtifactPrefix, sourceArtifactPath } from '../artifact-paths.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { MODEL_STAGES, type ModelStage, RUN_STATUSES, type RunStatus, type ViewType } from '../entities.js';
import { registerModelVersion } from '../model-registry.js';
import type { RegistryStore } from '../registry-store.js';
import { logMetric, logParam, setTag } from '../tracking-client.js';
import type { TrackingStore } from '../tracking-store.js';
import {
  experimentJson,
  metricJson,
  modelVersionJson,
  registeredModelJson,
  runInfoJson,
  runJson,
} from './mlflow-json.js';
import {
  type Fields,
  fieldsOf,
  idList,
  keyValues,
  metricValue,
  optionalBoolean,
  optionalId,
  optionalInteger,
  optionalString,
  requiredString,
  stringList,
} from './request.js';

export interface MlflowApiOptions {
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  readonly artifacts: ArtifactStore;
  /** When set, registry writes need `Authorization: Bearer <token>`. */
  readonly adminToken?: string | undefined;
}

const VIEW_TYPES: readonly ViewType[] = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'];

function viewType(fields: Fields, name: string): ViewType | undefined {
  const value = optionalString(fields, name);
  if (value === undefined) return undefined;
  if (!(VIEW_TYPES as readonly string[]).includes(value)) {
    throw invalidParameter(`Parameter '${name}' must be one of ${VIEW_TYPES.join(', ')}, got '${value}'`);
  }
  return value as ViewType;
}

function stage(fields: Fields, name: string): ModelStage {
  const value = requiredString(fields, name);
  // MLflow accepts stages case-insensitively.
  const match = MODEL_STAGES.find((s) => s.toLowerCase() === value.toLowerCase());
  if (!match)
    throw invalidParameter(`Invalid model version stage '${value}'; use one of ${MODEL_STAGES.join(', ')}`);
  return match;
}

function runStatus(fields: Fields, name: string): RunStatus | undefined {
  const value = optionalString(fields, name);
  if (value === undefined) return undefined;
  if (!(RUN_STATUSES as readonly string[]).includes(value)) {
    throw invalidParameter(`Invalid run status '${value}'; use one of ${RUN_STATUSES.join(', ')}`);
  }
  return value as RunStatus;
}

/**
 * MLflow's REST API (`/api/2.0/mlflow/...`) and artifact proxy (`/api/2.0/mlflow-artifacts/...`) over
 * Onset's stores, with MLflow's paths, request and response shapes and error format.
 */
export async function mlflowApi(app: FastifyInstance, options: MlflowApiOptions): Promise<void> {
  const { tracking, registry, artifacts } = options;
  const base = '/api/2.0/mlflow';

  const body = (request: FastifyRequest): Fields => fieldsOf(request.body);
  const query = (request: FastifyRequest): Fields => fieldsOf(request.query);
  /** GET reads the query string; other methods read the JSON body (and fall back to the query). */
  const input = (request: FastifyRequest): Fields =>
    request.method === 'GET' ? query(request) : { ...query(request), ...body(request) };

  const requireAdmin = (request: FastifyRequest): void =>
    requireAdminToken(request, options.adminToken, 'This registry change');

  type Handler = (fields: Fields, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  const route = (
    methods: readonly ('GET' | 'POST' | 'PATCH' | 'DELETE')[],
    path: string,
    handler: Handler,
    admin = false,
  ) => {
    app.route({
      method: [...methods],
      url: `${base}${path}`,
      handler: async (request, reply) => {
        if (admin) requireAdmin(request);
        return (await handler(input(request), request, reply)) ?? {};
      },
    });
  };

  // Experiments.
  route(['POST'], '/experiments/create', async (f) => ({
    experiment_id: await tracking.createExperiment({
      name: requiredString(f, 'name'),
      ...(optionalString(f, 'artifact_location')
        ? { artifactLocation: optionalString(f, 'artifact_location')! }
        : {}),
      tags: keyValues(f, 'tags'),
    }),
  }));
  route(['GET'], '/experiments/get', async (f) => ({
    experiment: experimentJson(
      await tracking.getExperiment(optionalId(f, 'experiment_id') ?? requiredString(f, 'experiment_id')),
    ),
  }));
  route(['GET'], '/experiments/get-by-name', async (f) => ({
    experiment: experimentJson(await tracking.getExperimentByName(requiredString(f, 'experiment_name'))),
  }));
  route(['GET', 'POST'], '/experiments/search', async (f) => {
    const page = await tracking.searchExperiments({
      ...optionalFilter(f),
      ...optionalViewType(viewType(f, 'view_type')),
      ...paging(f),
      ...orderBy(f),
    });
    return { experiments: page.items.map(experimentJson), ...nextPage(page.nextPageToken) };
  });
  // MLflow 1.x's list call, still used by older clients: every experiment of a view type, unpaged.
  route(['GET'], '/experiments/list', async (f) => {
    const experiments = [];
    let pageToken: string | undefined;
    do {
      const page = await tracking.searchExperiments({
        ...optionalViewType(viewType(f, 'view_type')),
        maxResults: 1000,
        ...(pageToken ? { pageToken } : {}),
      });
      experiments.push(...page.items.map(experimentJson));
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);
    return { experiments };
  });
  route(['POST'], '/experiments/update', async (f) => {
    await tracking.renameExperiment(requiredString(f, 'experiment_id'), requiredString(f, 'new_name'));
  });
  route(['POST'], '/experiments/delete', async (f) => {
    await tracking.deleteExperiment(requiredString(f, 'experiment_id'));
  });
  route(['POST'], '/experiments/restore', async (f) => {
    await tracking.restoreExperiment(requiredString(f, 'experiment_id'));
  });
  route(['POST'], '/experiments/set-experiment-tag', async (f) => {
    await tracking.setExperimentTag(requiredString(f, 'experiment_id'), {
      key: requiredString(f, 'key'),
      value: optionalString(f, 'value') ?? '',
    });
  });

  // Runs.
  route(['POST'], '/runs/create', async (f) => {
    const startTime = optionalInteger(f, 'start_time');
    const runName = optionalString(f, 'run_name');
    const userId = optionalString(f, 'user_id');
    const run = await tracking.createRun({
      experimentId: optionalId(f, 'experiment_id') ?? '0',
      tags: keyValues(f, 'tags'),
      // A remote client owns this run: the server's restarts must not fail it.
      owner: null,
      ...(startTime === undefined ? {} : { startTime }),
      ...(runName === undefined ? {} : { runName }),
      ...(userId === undefined ? {} : { userId }),
    });
    return { run: runJson(run) };
  });
  route(['POST'], '/runs/update', async (f) => {
    const runId = runIdOf(f);
    const status = runStatus(f, 'status');
    const endTime = optionalInteger(f, 'end_time');
    const runName = optionalString(f, 'run_name');
    const info = await tracking.updateRun(runId, {
      ...(status === undefined ? {} : { status }),
      ...(endTime === undefined ? {} : { endTime }),
      ...(runName === undefined ? {} : { runName }),
    });
    return { run_info: runInfoJson(info) };
  });
  route(['GET'], '/runs/get', async (f) => ({
    run: runJson(await tracking.getRun(runIdOf(f))),
  }));
  route(['POST'], '/runs/search', async (f) => {
    const page = await tracking.searchRuns({
      experimentIds: idList(f, 'experiment_ids') ?? [],
      ...optionalFilter(f),
      ...optionalViewType(viewType(f, 'run_view_type')),
      ...paging(f),
      ...orderBy(f),
    });
    return { runs: page.items.map(runJson), ...nextPage(page.nextPageToken) };
  });
  route(['POST'], '/runs/delete', async (f) => {
    await tracking.deleteRun(requiredString(f, 'run_id'));
  });
  route(['POST'], '/runs/restore', async (f) => {
    await tracking.restoreRun(requiredString(f, 'run_id'));
  });
  route(['POST'], '/runs/log-metric', async (f) => {
    const step = optionalInteger(f, 'step');
    const timestamp = optionalInteger(f, 'timestamp');
    await logMetric(tracking, runIdOf(f), requiredString(f, 'key'), metricValue(f, 'value'), {
      ...(step === undefined ? {} : { step }),
      ...(timestamp === undefined ? {} : { timestamp }),
    });
  });
  route(['POST'], '/runs/log-parameter', async (f) => {
    await logParam(tracking, runIdOf(f), requiredString(f, 'key'), optionalString(f, 'value') ?? '');
  });
  route(['POST'], '/runs/set-tag', async (f) => {
    await setTag(tracking, runIdOf(f), requiredString(f, 'key'), optionalString(f, 'value') ?? '');
  });
  route(['POST'], '/runs/delete-tag', async (f) => {
    await tracking.deleteTag(requiredString(f, 'run_id'), requiredString(f, 'key'));
  });
  route(['POST'], '/runs/log-batch', async (f) => {
    const metrics = Array.isArray(f.metrics) ? f.metrics : f.metrics === undefined ? [] : null;
    if (metrics === null) throw invalidParameter("Parameter 'metrics' must be a list");
    await tracking.logBatch(requiredString(f, 'run_id'), {
      metrics: metrics.map((item, i) => {
        const m = fieldsOf(item);
        const key = m.key;
        if (typeof key !== 'string' || key === '')
          throw invalidParameter(`metrics[${i}] needs a non-empty string 'key'`);
        return {
          key,
          value: metricValue(m, 'value'),
          timestamp: optionalInteger(m, 'timestamp') ?? Date.now(),
          step: optionalInteger(m, 'step') ?? 0,
        };
      }),
      params: keyValues(f, 'params'),
      tags: keyValues(f, 'tags'),
    });
  });
  route(['GET'], '/metrics/get-history', async (f) => {
    const page = await tracking.getMetricHistory(runIdOf(f), requiredString(f, 'metric_key'), paging(f));
    return { metrics: page.items.map(metricJson), ...nextPage(page.nextPageToken) };
  });
  route(['GET'], '/artifacts/list', async (f) => {
    const run = await tracking.getRun(runIdOf(f));
    const root = runArtifactPrefix(artifacts, run.info.artifactUri);
    // MLflow clients may send a directory with a trailing slash.
    const sub = (optionalString(f, 'path') ?? '').replace(/\/+$/, '');
    const entries = await artifacts.list(joinArtifactPath(root, sub));
    return {
      root_uri: run.info.artifactUri,
      files: entries.map((entry) => ({
        path: joinArtifactPath(sub, entry.path),
        is_dir: entry.isDir,
        ...(entry.size === undefined ? {} : { file_size: entry.size }),
      })),
    };
  });

  // Registered models.
  route(
    ['POST'],
    '/registered-models/create',
    async (f) => ({
      registered_model: registeredModelJson(
        await registry.createRegisteredModel({
          name: requiredString(f, 'name'),
          description: optionalString(f, 'description') ?? '',
          tags: keyValues(f, 'tags'),
        }),
      ),
    }),
    true,
  );
  route(['GET'], '/registered-models/get', async (f) => ({
    registered_model: registeredModelJson(await registry.getRegisteredModel(requiredString(f, 'name'))),
  }));
  route(['GET', 'POST'], '/registered-models/search', async (f) => {
    const page = await registry.searchRegisteredModels({ ...optionalFilter(f), ...paging(f), ...orderBy(f) });
    return { registered_models: page.items.map(registeredModelJson), ...nextPage(page.nextPageToken) };
  });
  route(
    ['POST'],
    '/registered-models/rename',
    async (f) => ({
      registered_model: registeredModelJson(
        await registry.renameRegisteredModel(requiredString(f, 'name'), requiredString(f, 'new_name')),
      ),
    }),
    true,
  );
  route(
    ['PATCH'],
    '/registered-models/update',
    async (f) => ({
      registered_model: registeredModelJson(
        await registry.updateRegisteredModel(
          requiredString(f, 'name'),
          optionalString(f, 'description') ?? '',
        ),
      ),
    }),
    true,
  );
  route(
    ['DELETE'],
    '/registered-models/delete',
    async (f) => {
      await registry.deleteRegisteredModel(requiredString(f, 'name'));
    },
    true,
  );
  route(
    ['POST'],
    '/registered-models/set-tag',
    async (f) => {
      await registry.setRegisteredModelTag(requiredString(f, 'name'), {
        key: requiredString(f, 'key'),
        value: optionalString(f, 'value') ?? '',
      });
    },
    true,
  );
  route(['GET', 'POST'], '/registered-models/get-latest-versions', async (f) => {
    const stages = stringList(f, 'stages')?.map((s) => stage({ stage: s }, 'stage'));
    const versions = await registry.getLatestVersions(requiredString(f, 'name'), stages);
    return { model_versions: versions.map(modelVersionJson) };
  });

  // Model versions.
  route(
    ['POST'],
    '/model-versions/create',
    async (f) => {
      const runId = optionalString(f, 'run_id');
      const description = optionalString(f, 'description');
      const version = await registerModelVersion(
        { tracking, registry, artifacts },
        {
          name: requiredString(f, 'name'),
          source: requiredString(f, 'source'),
          runId: runId ?? null,
          ...(description === undefined ? {} : { description }),
        },
      );
      for (const tag of keyValues(f, 'tags'))
        await registry.setModelVersionTag(version.name, version.version, tag);
      return {
        model_version: modelVersionJson(await registry.getModelVersion(version.name, version.version)),
      };
    },
    true,
  );
  route(['GET'], '/model-versions/get', async (f) => ({
    model_version: modelVersionJson(
      await registry.getModelVersion(requiredString(f, 'name'), requiredString(f, 'version')),
    ),
  }));
  route(['GET', 'POST'], '/model-versions/search', async (f) => {
    const page = await registry.searchModelVersions({ ...optionalFilter(f), ...paging(f), ...orderBy(f) });
    return { model_versions: page.items.map(modelVersionJson), ...nextPage(page.nextPageToken) };
  });
  route(
    ['PATCH'],
    '/model-versions/update',
    async (f) => ({
      model_version: modelVersionJson(
        await registry.updateModelVersion(
          requiredString(f, 'name'),
          requiredString(f, 'version'),
          optionalString(f, 'description') ?? '',
        ),
      ),
    }),
    true,
  );
  route(
    ['DELETE'],
    '/model-versions/delete',
    async (f) => {
      await registry.deleteModelVersion(requiredString(f, 'name'), requiredString(f, 'version'));
    },
    true,
  );
  route(
    ['POST'],
    '/model-versions/set-tag',
    async (f) => {
      await registry.setModelVersionTag(requiredString(f, 'name'), requiredString(f, 'version'), {
        key: requiredString(f, 'key'),
        value: optionalString(f, 'value') ?? '',
      });
    },
    true,
  );
  route(
    ['POST'],
    '/model-versions/transition-stage',
    async (f, request) => {
      const version = await registry.transitionModelVersionStage({
        name: requiredString(f, 'name'),
        version: requiredString(f, 'version'),
        stage: stage(f, 'stage'),
        archiveExistingVersions: optionalBoolean(f, 'archive_existing_versions') ?? false,
        user: optionalString(f, 'user_id') ?? String(request.headers['x-onset-user'] ?? 'api'),
        reason: optionalString(f, 'comment') ?? optionalString(f, 'reason') ?? '',
      });
      return { model_version: modelVersionJson(version) };
    },
    true,
  );
  route(['GET'], '/model-versions/get-download-uri', async (f) => {
    const version = await registry.getModelVersion(requiredString(f, 'name'), requiredString(f, 'version'));
    const run = version.runId ? await tracking.getRun(version.runId) : undefined;
    return { artifact_uri: joinUri(artifacts.rootUri, sourceArtifactPath(artifacts, version.source, run)) };
  });
  route(
    ['POST'],
    '/registered-models/alias',
    async (f) => {
      await registry.setAlias(
        requiredString(f, 'name'),
        requiredString(f, 'alias'),
        requiredString(f, 'version'),
      );
    },
    true,
  );
  route(
    ['DELETE'],
    '/registered-models/alias',
    async (f) => {
      await registry.deleteAlias(requiredString(f, 'name'), requiredString(f, 'alias'));
    },
    true,
  );
  route(['GET'], '/registered-models/alias', async (f) => ({
    model_version: modelVersionJson(
      await registry.getModelVersionByAlias(requiredString(f, 'name'), requiredString(f, 'alias')),
    ),
  }));

  // The artifact proxy: list, download, upload, relative to the artifact root.
  const artifactsBase = '/api/2.0/mlflow-artifacts/artifacts';
  app.get(artifactsBase, async (request) => {
    const path = optionalString(query(request), 'path') ?? '';
    const entries = await artifacts.list(path);
    return {
      files: entries.map((entry) => ({
        path: entry.path,
        is_dir: entry.isDir,
        ...(entry.size === undefined ? {} : { file_size: entry.size }),
      })),
    };
  });
  app.get(`${artifactsBase}/*`, async (request, reply) => {
    const path = (request.params as { '*': string })['*'];
    const stored = await artifacts.stat(path);
    reply.header('content-type', 'application/octet-stream');
    reply.header('x-onset-sha256', stored.sha256);
    return reply.send(await artifacts.stream(path));
  });
  app.register(async (scope) => {
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: 512 * 1024 * 1024 },
      (_request, payload, done) => done(null, payload),
    );
    scope.put(`${artifactsBase}/*`, async (request) => {
      const path = (request.params as { '*': string })['*'];
      const content = Buffer.isBuffer(request.body) ? request.body : Buffer.from(String(request.body ?? ''));
      const stored = await artifacts.put(path, content);
      return { path: stored.path, size: stored.size, sha256: stored.sha256 };
    });
  });
}

/** A run id: `run_id`, or `run_uuid` as older MLflow clients send it. */
function runIdOf(fields: Fields): string {
  return optionalString(fields, 'run_id') ?? requiredString(fields, 'run_uuid');
}

function optionalFilter(fields: Fields): { filter?: string } {
  const filter = optionalString(fields, 'filter');
  return filter === undefined || filter === '' ? {} : { filter };
}

function optionalViewType(view: ViewType | undefined): { viewType?: ViewType } {
  return view === undefined ? {} : { viewType: view };
}

function paging(fields: Fields): { maxResults?: number; pageToken?: string } {
  const maxResults = optionalInteger(fields, 'max_results');
  const pageToken = optionalString(fields, 'page_token');
  return {
    ...(maxResults === undefined ? {} : { maxResults }),
    ...(pageToken === undefined || pageToken === '' ? {} : { pageToken }),
  };
}

function orderBy(fields: Fields): { orderBy?: readonly string[] } {
  const clauses = stringList(fields, 'order_by');
  return clauses === undefined ? {} : { orderBy: clauses };
}

function nextPage(token: string | null): { next_page_token?: string } {
  return token === null ? {} : { next_page_token: token };
}
