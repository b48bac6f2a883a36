import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidParameter } from '../errors.js';
import { requireAdminToken } from '../http/admin-token.js';
import {
  type Fields,
  fieldsOf,
  optionalInteger,
  optionalString,
  requiredString,
} from '../tracking/rest/request.js';
import { upstreamOf } from './block.js';
import { executionOrder, type PipelineDefinition } from './pipeline.js';
import type { PipelineService } from './pipeline-service.js';
import { PIPELINE_RUN_STATUSES, type PipelineRunStatus, type PipelineStore } from './pipeline-store.js';
import { addSchedule } from './scheduler.js';

export interface PipelineApiOptions {
  readonly service: PipelineService;
  readonly store: PipelineStore;
  readonly adminToken?: string | undefined;
}

/** A pipeline definition as the API shows it: parameters and blocks in execution order with their wiring. */
export function describePipeline(pipeline: PipelineDefinition) {
  const byName = new Map(pipeline.blocks.map((block) => [block.name, block]));
  return {
    name: pipeline.name,
    description: pipeline.description,
    params: pipeline.params,
    blocks: executionOrder(pipeline).map((name) => {
      const block = byName.get(name)!;
      return {
        name,
        kind: block.kind,
        description: block.description,
        inputs: Object.fromEntries(
          Object.entries(block.inputs).map(([input, wire]) => [input, { from: wire.from, type: wire.type }]),
        ),
        upstream: upstreamOf(block),
        output: block.output,
        ...(block.retry ? { retry: block.retry } : {}),
      };
    }),
  };
}

function paramsOf(fields: Fields): Record<string, unknown> {
  const params = fields.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw invalidParameter('"params" must be an object of parameter names to values');
  }
  return params as Record<string, unknown>;
}

/**
 * The pipeline API under `/api/onset`: definitions, runs (start, list, show, logs, cancel) and schedules.
 * `POST /api/onset/pipelines/:name/runs` is the trigger monitoring alerts call to start retraining.
 * Changes need the admin token when one is configured.
 */
export async function pipelineApi(app: FastifyInstance, options: PipelineApiOptions): Promise<void> {
  const { service, store } = options;
  const admin = (request: FastifyRequest) =>
    requireAdminToken(request, options.adminToken, 'Starting or changing pipelines');
  const params = (request: FastifyRequest) => request.params as Record<string, string>;

  app.get('/api/onset/pipelines', async () => ({ pipelines: service.pipelines.map(describePipeline) }));
  app.get('/api/onset/pipelines/:name', async (request) =>
    describePipeline(service.find(params(request).name!)),
  );

  app.post('/api/onset/pipelines/:name/runs', async (request, reply) => {
    admin(request);
    const fields = fieldsOf(request.body ?? {});
    const trigger = optionalString(fields, 'trigger') ?? 'api';
    if (!/^[\w:.@/-]{1,200}$/.test(trigger)) {
      throw invalidParameter(
        '"trigger" is a short label such as "api" or "alert:drift" (letters, digits, : . @ / - _)',
      );
    }
    const handle = await service.start(params(request).name!, paramsOf(fields), trigger);
    return reply.status(202).send({ run: await store.getRun(handle.runId) });
  });

  app.get('/api/onset/pipeline-runs', async (request) => {
    const fields = fieldsOf(request.query);
    const status = optionalString(fields, 'status');
    if (status !== undefined && !(PIPELINE_RUN_STATUSES as readonly string[]).includes(status)) {
      throw invalidParameter(`Unknown status "${status}"; known: ${PIPELINE_RUN_STATUSES.join(', ')}`);
    }
    const pipeline = optionalString(fields, 'pipeline');
    const maxResults = optionalInteger(fields, 'max_results');
    const pageToken = optionalString(fields, 'page_token');
    const page = await store.listRuns({
      ...(pipeline ? { pipeline } : {}),
      ...(status ? { status: status as PipelineRunStatus } : {}),
      ...(maxResults === undefined ? {} : { maxResults }),
      ...(pageToken ? { pageToken } : {}),
    });
    return { runs: page.items, ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  app.get('/api/onset/pipeline-runs/:id', async (request) => ({
    run: await store.getRun(params(request).id!),
  }));
  app.get('/api/onset/pipeline-runs/:id/logs', async (request) => {
    const block = optionalString(fieldsOf(request.query), 'block');
    return { logs: await store.getLogs(params(request).id!, block ? { block } : {}) };
  });
  app.post('/api/onset/pipeline-runs/:id/cancel', async (request) => {
    admin(request);
    return { run: await service.cancel(params(request).id!) };
  });

  app.get('/api/onset/schedules', async () => ({ schedules: await store.listSchedules() }));
  app.post('/api/onset/schedules', async (request, reply) => {
    admin(request);
    const fields = fieldsOf(request.body ?? {});
    const schedule = await addSchedule(store, service.find(requiredString(fields, 'pipeline')), {
      cron: requiredString(fields, 'cron'),
      timezone: optionalString(fields, 'timezone') ?? 'UTC',
      params: paramsOf(fields),
    });
    return reply.status(201).send({ schedule });
  });
  app.delete('/api/onset/schedules/:id', async (request) => {
    admin(request);
    await store.deleteSchedule(params(request).id!);
    return {};
  });
}
