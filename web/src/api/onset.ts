import { request, requestText } from './http.js';
import type {
  BatchAnswer,
  FeatureSchema,
  LogLine,
  MonitoringCheck,
  Pipeline,
  PipelineRun,
  Prediction,
  ReceivedAlert,
  Schedule,
  ServedModel,
  Traffic,
} from './types.js';

/** The pipeline API (`/api/onset/...`), the prediction API and the operations routes. */

export async function listPipelines(): Promise<readonly Pipeline[]> {
  return (await request<{ pipelines: Pipeline[] }>('/api/onset/pipelines')).pipelines;
}

export function getPipeline(name: string): Promise<Pipeline> {
  return request<Pipeline>(`/api/onset/pipelines/${encodeURIComponent(name)}`);
}

export async function startPipeline(
  name: string,
  params: Readonly<Record<string, unknown>>,
): Promise<PipelineRun> {
  return (
    await request<{ run: PipelineRun }>(`/api/onset/pipelines/${encodeURIComponent(name)}/runs`, {
      method: 'POST',
      body: { params, trigger: 'ui' },
    })
  ).run;
}

export async function listPipelineRuns(
  query: { pipeline?: string; maxResults?: number; pageToken?: string } = {},
): Promise<{ runs: readonly PipelineRun[]; nextPageToken: string | undefined }> {
  const answer = await request<{ runs: PipelineRun[]; next_page_token?: string }>(
    '/api/onset/pipeline-runs',
    {
      query: { pipeline: query.pipeline, max_results: query.maxResults, page_token: query.pageToken },
    },
  );
  return { runs: answer.runs, nextPageToken: answer.next_page_token };
}

export async function getPipelineRun(id: string): Promise<PipelineRun> {
  return (await request<{ run: PipelineRun }>(`/api/onset/pipeline-runs/${encodeURIComponent(id)}`)).run;
}

export async function pipelineRunLogs(id: string): Promise<readonly LogLine[]> {
  return (await request<{ logs: LogLine[] }>(`/api/onset/pipeline-runs/${encodeURIComponent(id)}/logs`)).logs;
}

export async function cancelPipelineRun(id: string): Promise<PipelineRun> {
  return (
    await request<{ run: PipelineRun }>(`/api/onset/pipeline-runs/${encodeURIComponent(id)}/cancel`, {
      method: 'POST',
    })
  ).run;
}

export async function listSchedules(): Promise<readonly Schedule[]> {
  return (await request<{ schedules: Schedule[] }>('/api/onset/schedules')).schedules;
}

export async function addSchedule(input: {
  pipeline: string;
  cron: string;
  timezone: string;
  params: Readonly<Record<string, unknown>>;
}): Promise<Schedule> {
  return (await request<{ schedule: Schedule }>('/api/onset/schedules', { method: 'POST', body: input }))
    .schedule;
}

export async function deleteSchedule(id: string): Promise<void> {
  await request(`/api/onset/schedules/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

/** The served model (`GET /model`). */
export function servedModel(): Promise<ServedModel> {
  return request<ServedModel>('/model', { access: 'apiKey' });
}

/** The feature schema (`GET /schema`): what the prediction form is generated from. */
export function featureSchema(): Promise<FeatureSchema> {
  return request<FeatureSchema>('/schema', { access: 'public' });
}

export type Values = Readonly<Record<string, string | number>>;

export function explain(data: Values, patientId?: string): Promise<Prediction> {
  return request<Prediction>('/explain', {
    method: 'POST',
    access: 'apiKey',
    body: { data, ...(patientId ? { patient_id: patientId } : {}) },
  });
}

export function predictBatch(
  records: readonly { data: Values; patient_id?: string }[],
): Promise<BatchAnswer> {
  return request<BatchAnswer>('/predict/batch', { method: 'POST', access: 'apiKey', body: { records } });
}

/** The Prometheus text of `/metrics`. */
export function metricsText(): Promise<string> {
  return requestText('/metrics', { access: 'public' });
}

/** Predictions over time from the prediction log (`GET /api/onset/monitoring/traffic`). */
export function traffic(query: { window: string; buckets: number; model?: string }): Promise<Traffic> {
  return request<Traffic>('/api/onset/monitoring/traffic', { query });
}

/** The stored monitoring checks of a kind, newest first. */
export async function listChecks(query: {
  kind: 'drift' | 'performance';
  maxResults?: number;
}): Promise<readonly MonitoringCheck[]> {
  return (
    await request<{ checks: MonitoringCheck[] }>('/api/onset/monitoring/checks', {
      query: { kind: query.kind, max_results: query.maxResults },
    })
  ).checks;
}

/** One stored check with its whole result. */
export async function getCheck(id: string): Promise<MonitoringCheck> {
  return (await request<{ check: MonitoringCheck }>(`/api/onset/monitoring/checks/${encodeURIComponent(id)}`))
    .check;
}

/** Runs a check of the served model now; answers it once stored. */
export async function runCheck(kind: 'drift' | 'performance'): Promise<MonitoringCheck> {
  return (
    await request<{ check: MonitoringCheck }>(`/api/onset/monitoring/${kind}`, { method: 'POST', body: {} })
  ).check;
}

/** The alerts Alertmanager sent, newest first. */
export async function listAlerts(
  query: { status?: 'firing' | 'resolved'; maxResults?: number } = {},
): Promise<readonly ReceivedAlert[]> {
  return (
    await request<{ alerts: ReceivedAlert[] }>('/api/onset/alerts', {
      query: { status: query.status, max_results: query.maxResults },
    })
  ).alerts;
}

/** The alerts firing now: of the latest 200 received, those whose newest notification says firing. */
export async function firingAlerts(): Promise<readonly ReceivedAlert[]> {
  const newest = new Map<string, ReceivedAlert>();
  for (const alert of await listAlerts({ maxResults: 200 }))
    if (!newest.has(alert.fingerprint)) newest.set(alert.fingerprint, alert);
  return [...newest.values()].filter((alert) => alert.status === 'firing');
}
