import { type Static, Type } from 'typebox';
import { Int64, int64, Millis, Nullable, Required } from '../http/fields.js';
import { answers, BODILESS, Empty, type RoutePlugin } from '../http/route.js';
import { BLOCK_KINDS, upstreamOf } from './block.js';
import { executionOrder, type PipelineDefinition } from './pipeline.js';
import type { PipelineService } from './pipeline-service.js';
import {
  BLOCK_RUN_STATUSES,
  PIPELINE_RUN_STATUSES,
  type PipelineRun,
  type PipelineStore,
} from './pipeline-store.js';
import { addSchedule } from './scheduler.js';

export interface PipelineApiOptions {
  readonly service: PipelineService;
  readonly store: PipelineStore;
}

const ParamValues = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]));

const ParamSpecJson = Type.Union([
  Type.Object({
    type: Type.Literal('string'),
    default: Type.String(),
    description: Type.String(),
    choices: Type.Optional(Type.Immutable(Type.Array(Type.String()))),
  }),
  Type.Object({
    type: Type.Enum(['integer', 'number']),
    default: Type.Number(),
    description: Type.String(),
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
  }),
  Type.Object({ type: Type.Literal('boolean'), default: Type.Boolean(), description: Type.String() }),
]);

/** A pipeline as the API shows it: its parameters, and its blocks in execution order with their wiring. */
export const PipelineJson = Type.Object({
  name: Type.String(),
  description: Type.String(),
  params: Type.Record(Type.String(), ParamSpecJson),
  blocks: Type.Array(
    Type.Object({
      name: Type.String(),
      kind: Type.Enum(BLOCK_KINDS),
      description: Type.String(),
      inputs: Type.Record(Type.String(), Type.Object({ from: Type.String(), type: Type.String() })),
      upstream: Type.Array(Type.String()),
      output: Type.String({ description: 'the type of value the block passes on' }),
      retry: Type.Optional(Type.Object({ attempts: Type.Integer(), backoffMs: Type.Integer() })),
    }),
    { description: 'in execution order' },
  ),
});

/** A pipeline run as the store keeps it. */
export const PipelineRunJson = Type.Object({
  runId: Type.String(),
  pipeline: Type.String(),
  status: Type.Enum(PIPELINE_RUN_STATUSES),
  params: ParamValues,
  trigger: Type.String({ description: 'what started it: cli, api, schedule:<id>, alert:<name>, ...' }),
  startTime: Millis,
  endTime: Nullable(Millis),
  error: Nullable(Type.String()),
  cancelRequested: Type.Boolean(),
  owner: Nullable(
    Type.Object({
      pid: Type.Integer(),
      host: Type.String(),
      started: Type.Optional(
        Type.String({ description: 'when the process started: <boot id>/<clock ticks>' }),
      ),
    }),
  ),
  blocks: Type.Immutable(
    Type.Array(
      Type.Object({
        block: Type.String(),
        status: Type.Enum(BLOCK_RUN_STATUSES),
        attempts: Type.Integer(),
        startTime: Nullable(Millis),
        endTime: Nullable(Millis),
        error: Nullable(
          Type.Object(
            { message: Type.String() },
            { description: "the last attempt's error (its stack stays on the server: onset pipeline show)" },
          ),
        ),
        output: Nullable(
          Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
        ),
      }),
      { description: "in the pipeline's execution order" },
    ),
  ),
  links: Type.Immutable(
    Type.Array(
      Type.Object({
        kind: Type.Enum(['tracking_run', 'model_version']),
        target: Type.String(),
        block: Type.String(),
      }),
    ),
  ),
});

export const BlockLogLineJson = Type.Object({
  block: Type.String(),
  attempt: Type.Integer(),
  timestamp: Millis,
  level: Type.Enum(['debug', 'info', 'warn', 'error']),
  message: Type.String(),
});

export const PipelineScheduleJson = Type.Object({
  scheduleId: Type.String(),
  pipeline: Type.String(),
  cron: Type.String(),
  timezone: Type.String(),
  params: ParamValues,
  enabled: Type.Boolean(),
  nextRunTime: Millis,
  lastRunId: Nullable(Type.String()),
  createdTime: Millis,
});

/** A pipeline definition as the API shows it: parameters and blocks in execution order with their wiring. */
export function describePipeline(pipeline: PipelineDefinition): Static<typeof PipelineJson> {
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

const ParamsField = Type.Optional(
  Type.Record(Type.String(), Type.Unknown(), {
    description: "the pipeline's parameters by name (see GET /api/onset/pipelines/{name}); default: theirs",
  }),
);
/** A run as the API answers it: a block's error without its stack (install paths, code layout). */
function runJson(run: PipelineRun): Static<typeof PipelineRunJson> {
  return {
    ...run,
    blocks: run.blocks.map((block) => ({
      ...block,
      error: block.error === null ? null : { message: block.error.message },
    })),
  };
}

const PipelineName = Type.Object({ name: Type.String() });
const ById = Type.Object({ id: Type.String() });
const RunAnswer = Type.Object({ run: PipelineRunJson });

/**
 * The pipeline API under `/api/onset`: definitions, runs (start, list, show, logs, cancel) and schedules.
 * `POST /api/onset/pipelines/:name/runs` is the trigger monitoring alerts call to start retraining.
 * Every route, reads included (run details and logs), needs the admin token when one is configured.
 */
export const pipelineApi: RoutePlugin<PipelineApiOptions> = async (app, { service, store }) => {
  const tags = ['pipelines'];
  app.get(
    '/api/onset/pipelines',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'The pipelines this server runs',
        response: answers(Type.Object({ pipelines: Type.Array(PipelineJson) })),
      },
    },
    async () => ({ pipelines: service.pipelines.map(describePipeline) }),
  );
  app.get(
    '/api/onset/pipelines/:name',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'A pipeline: its parameters and blocks',
        params: PipelineName,
        response: answers(PipelineJson),
      },
    },
    async ({ params }) => describePipeline(service.find(params.name)),
  );

  app.post(
    '/api/onset/pipelines/:name/runs',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Start a run in the background (the trigger monitoring alerts call)',
        params: PipelineName,
        body: Type.Union(
          [
            Type.Object({
              params: ParamsField,
              trigger: Type.Optional(
                Type.String({
                  pattern: '^[\\w:.@/-]{1,200}$',
                  description:
                    'a short label such as "api" (the default) or "alert:drift": letters, digits and : . @ / - _',
                }),
              ),
            }),
            Type.Null(),
          ],
          { description: 'an object, or no body at all' },
        ),
        response: answers(RunAnswer, 202),
      },
    },
    async ({ params, body }, reply) => {
      const handle = await service.start(params.name, body?.params ?? {}, body?.trigger ?? 'api');
      return reply.status(202).send({ run: runJson(await store.getRun(handle.runId)) });
    },
  );

  app.get(
    '/api/onset/pipeline-runs',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Pipeline runs, newest first (pages)',
        querystring: Type.Object({
          pipeline: Type.Optional(Type.String({ description: 'only runs of this pipeline' })),
          status: Type.Optional(Type.Enum(PIPELINE_RUN_STATUSES)),
          max_results: Type.Optional(Int64),
          page_token: Type.Optional(Type.String()),
        }),
        response: answers(
          Type.Object({
            runs: Type.Immutable(Type.Array(PipelineRunJson)),
            next_page_token: Type.Optional(Type.String({ description: 'absent on the last page' })),
          }),
        ),
      },
    },
    async ({ query }) => {
      const maxResults = int64(query.max_results);
      const page = await store.listRuns({
        ...(query.pipeline ? { pipeline: query.pipeline } : {}),
        ...(query.status ? { status: query.status } : {}),
        ...(maxResults === undefined ? {} : { maxResults }),
        ...(query.page_token ? { pageToken: query.page_token } : {}),
      });
      return {
        runs: page.items.map(runJson),
        ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
      };
    },
  );
  app.get(
    '/api/onset/pipeline-runs/:id',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'A pipeline run with its blocks', params: ById, response: answers(RunAnswer) },
    },
    async ({ params }) => ({ run: runJson(await store.getRun(params.id)) }),
  );
  app.get(
    '/api/onset/pipeline-runs/:id/logs',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "A run's log lines (of one block, or all)",
        params: ById,
        querystring: Type.Object({
          block: Type.Optional(Type.String({ description: 'default: every block' })),
        }),
        response: answers(Type.Object({ logs: Type.Immutable(Type.Array(BlockLogLineJson)) })),
      },
    },
    async ({ params, query }) => ({
      logs: await store.getLogs(params.id, query.block ? { block: query.block } : {}),
    }),
  );
  app.post(
    '/api/onset/pipeline-runs/:id/cancel',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Cancel a running run (wherever it runs)',
        ...BODILESS,
        params: ById,
        response: answers(RunAnswer),
      },
    },
    async ({ params }) => ({ run: runJson(await service.cancel(params.id)) }),
  );

  app.get(
    '/api/onset/schedules',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'The schedules',
        response: answers(Type.Object({ schedules: Type.Immutable(Type.Array(PipelineScheduleJson)) })),
      },
    },
    async () => ({ schedules: await store.listSchedules() }),
  );
  app.post(
    '/api/onset/schedules',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Schedule a pipeline (cron expression and parameters checked now)',
        body: Type.Object({
          pipeline: Required,
          cron: Type.String({
            minLength: 1,
            description:
              'a cron expression: 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds',
          }),
          timezone: Type.Optional(Type.String({ description: 'an IANA time zone; default UTC' })),
          params: ParamsField,
        }),
        response: answers(Type.Object({ schedule: PipelineScheduleJson }), 201),
      },
    },
    async ({ body }, reply) => {
      const schedule = await addSchedule(store, service.find(body.pipeline), {
        cron: body.cron,
        timezone: body.timezone ?? 'UTC',
        params: body.params ?? {},
      });
      return reply.status(201).send({ schedule });
    },
  );
  app.delete(
    '/api/onset/schedules/:id',
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'Delete a schedule', params: ById, response: answers(Empty) },
    },
    async ({ params }) => {
      await store.deleteSchedule(params.id);
      return {};
    },
  );
};
