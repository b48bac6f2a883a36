import { request, requestBlob, requestText } from './http.js';
import type {
  Experiment,
  FileInfo,
  Metric,
  ModelCard,
  ModelReport,
  ModelVersion,
  RegisteredModel,
  Run,
  StageTransition,
} from './types.js';

/** The MLflow-compatible tracking and registry API (`/api/2.0/mlflow/...`), as MLflow's own UI calls it. */
const API = '/api/2.0/mlflow';

export async function searchExperiments(): Promise<readonly Experiment[]> {
  const all: Experiment[] = [];
  let token: string | undefined;
  do {
    const page = await request<{ experiments?: Experiment[]; next_page_token?: string }>(
      `${API}/experiments/search`,
      { query: { max_results: 1000, page_token: token } },
    );
    all.push(...(page.experiments ?? []));
    token = page.next_page_token;
  } while (token);
  return all;
}

export async function getExperiment(id: string): Promise<Experiment> {
  return (
    await request<{ experiment: Experiment }>(`${API}/experiments/get`, { query: { experiment_id: id } })
  ).experiment;
}

export interface RunSearch {
  readonly experimentIds: readonly string[];
  readonly filter?: string;
  readonly orderBy?: readonly string[];
  readonly maxResults?: number;
  readonly pageToken?: string;
}

export async function searchRuns(
  search: RunSearch,
  signal?: AbortSignal,
): Promise<{ runs: readonly Run[]; nextPageToken: string | undefined }> {
  const answer = await request<{ runs?: Run[]; next_page_token?: string }>(`${API}/runs/search`, {
    method: 'POST',
    body: {
      experiment_ids: search.experimentIds,
      filter: search.filter ?? '',
      order_by: search.orderBy ?? [],
      max_results: search.maxResults ?? 100,
      ...(search.pageToken ? { page_token: search.pageToken } : {}),
    },
    ...(signal ? { signal } : {}),
  });
  return { runs: answer.runs ?? [], nextPageToken: answer.next_page_token };
}

export async function getRun(runId: string): Promise<Run> {
  return (await request<{ run: Run }>(`${API}/runs/get`, { query: { run_id: runId } })).run;
}

export async function metricHistory(runId: string, key: string): Promise<readonly Metric[]> {
  const answer = await request<{ metrics?: Metric[] }>(`${API}/metrics/get-history`, {
    query: { run_id: runId, metric_key: key, max_results: 25000 },
  });
  return answer.metrics ?? [];
}

/** Every value of one metric for up to 100 runs (MLflow's UI call `get-history-bulk`). */
export async function metricHistories(
  runIds: readonly string[],
  key: string,
): Promise<readonly (Metric & { run_id: string })[]> {
  const answer = await request<{ metrics?: (Metric & { run_id: string })[] }>(
    '/ajax-api/2.0/mlflow/metrics/get-history-bulk',
    { query: { run_id: runIds, metric_key: key, max_results: 25000 } },
  );
  return answer.metrics ?? [];
}

export async function listArtifacts(runId: string, path?: string): Promise<readonly FileInfo[]> {
  const answer = await request<{ files?: FileInfo[] }>(`${API}/artifacts/list`, {
    query: { run_id: runId, ...(path ? { path } : {}) },
  });
  return answer.files ?? [];
}

/**
 * The artifact proxy's URL of a file of a run: its `mlflow-artifacts:/...` location mapped onto
 * `/api/2.0/mlflow-artifacts/artifacts/...`.
 */
export function artifactUrl(run: Run, path: string): string {
  const root = run.info.artifact_uri.replace(/^mlflow-artifacts:(\/\/[^/]*)?\/?/, '');
  const parts = [...root.split('/'), ...path.split('/')].filter((part) => part !== '');
  return `/api/2.0/mlflow-artifacts/artifacts/${parts.map(encodeURIComponent).join('/')}`;
}

export function artifactText(run: Run, path: string): Promise<string> {
  return requestText(artifactUrl(run, path));
}

export function artifactBlob(run: Run, path: string): Promise<Blob> {
  return requestBlob(artifactUrl(run, path));
}

/** The model report a training run logged, or undefined when it logged none. */
export async function modelReport(run: Run): Promise<ModelReport | undefined> {
  const files = await listArtifacts(run.info.run_id, 'report');
  if (!files.some((file) => file.path === 'report/model-report.json')) return undefined;
  return JSON.parse(await artifactText(run, 'report/model-report.json')) as ModelReport;
}

/** The model card a training run logged (`report/model-card.json`), or undefined when it logged none. */
export async function modelCard(run: Run): Promise<ModelCard | undefined> {
  const files = await listArtifacts(run.info.run_id, 'report');
  if (!files.some((file) => file.path === 'report/model-card.json')) return undefined;
  return JSON.parse(await artifactText(run, 'report/model-card.json')) as ModelCard;
}

export async function searchRegisteredModels(): Promise<readonly RegisteredModel[]> {
  const all: RegisteredModel[] = [];
  let token: string | undefined;
  do {
    const page = await request<{ registered_models?: RegisteredModel[]; next_page_token?: string }>(
      `${API}/registered-models/search`,
      { query: { max_results: 1000, page_token: token } },
    );
    all.push(...(page.registered_models ?? []));
    token = page.next_page_token;
  } while (token);
  return all;
}

export async function getRegisteredModel(name: string): Promise<RegisteredModel> {
  return (
    await request<{ registered_model: RegisteredModel }>(`${API}/registered-models/get`, { query: { name } })
  ).registered_model;
}

/** A filter string's quoted value: MLflow's single quotes, with backslash escapes. */
export function quoted(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

export async function searchModelVersions(filter: string): Promise<readonly ModelVersion[]> {
  const all: ModelVersion[] = [];
  let token: string | undefined;
  do {
    const page = await request<{ model_versions?: ModelVersion[]; next_page_token?: string }>(
      `${API}/model-versions/search`,
      { query: { filter, max_results: 1000, page_token: token } },
    );
    all.push(...(page.model_versions ?? []));
    token = page.next_page_token;
  } while (token);
  return all;
}

export async function getModelVersion(name: string, version: string): Promise<ModelVersion> {
  return (
    await request<{ model_version: ModelVersion }>(`${API}/model-versions/get`, { query: { name, version } })
  ).model_version;
}

export async function transitionStage(
  name: string,
  version: string,
  stage: string,
  archiveExistingVersions: boolean,
  comment = '',
): Promise<ModelVersion> {
  return (
    await request<{ model_version: ModelVersion }>(`${API}/model-versions/transition-stage`, {
      method: 'POST',
      body: {
        name,
        version,
        stage,
        archive_existing_versions: archiveExistingVersions,
        ...(comment ? { comment } : {}),
      },
    })
  ).model_version;
}

export async function setAlias(name: string, alias: string, version: string): Promise<void> {
  await request(`${API}/registered-models/alias`, { method: 'POST', body: { name, alias, version } });
}

export async function deleteAlias(name: string, alias: string): Promise<void> {
  await request(`${API}/registered-models/alias`, { method: 'DELETE', body: { name, alias } });
}

/** The registry's stage history of a model (or one version), oldest first: who moved what, and why. */
export async function stageHistory(name: string, version?: string): Promise<readonly StageTransition[]> {
  const answer = await request<{ transitions: StageTransition[] }>('/api/onset/registry/stage-history', {
    query: { name, ...(version ? { version } : {}) },
  });
  return answer.transitions;
}
