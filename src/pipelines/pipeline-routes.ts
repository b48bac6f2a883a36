import { type Static, Type } from 'typebox';
import { Int64, int64, Millis, Nullable, Required } from '../http/fields.js';
import { answers, BODILESS, Empty, type RoutePlugin } from '../http/route.js';
import { BLOCK_KINDS, upstreamOf } from './block.js';
import { executionOrder, type PipelineDefinition } from './pipeline.js';
import type { PipelineService } from './pipeline-service.js';
import {
  BLOCK_RUN_STATUSES,
  type BlockLogLine,
  type BlockRun,
  PIPELINE_RUN_STATUSES,
  type PipelineRun,
  type PipelineSchedule,
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
      retry: Type.Optional(
        Type.Object({
          attempts: Type.Integer({ description: 'in all, the first included' }),
          backoff_ms: Type.Integer({ description: 'the wait before the first retry (ms), doubled after' }),
        }),
      ),
    }),
    { description: 'in execution order' },
  ),
});

/*
 * The answers' field names are snake_case, as MLflow's and the prediction API's are; the entities in the
 * code stay camelCase. Each entity has one conversion below (`pipelineRunJson`, ...), which the CLI's
 * `--json` uses too, so an entity has one JSON shape. Data keys (parameter names, block outputs) stay as
 * they are.
 */

const BlockRunJson = Type.Object({
  block: Type.String(),
  status: Type.Enum(BLOCK_RUN_STATUSES),
  attempts: Type.Integer(),
  start_time: Nullable(Millis),
  end_time: Nullable(Millis),
  error: Nullable(
    Type.Object(
      { message: Type.String() },
      { description: "the last attempt's error (its stack stays on the server: onset pipeline logs)" },
    ),
  ),
  output: Nullable(
    Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), {
      description: "the block's summary of its output, by name",
    }),
  ),
});

/** A pipeline run: its parameters, its blocks and what it created. */
export const PipelineRunJson = Type.Object({
  run_id: Type.String(),
  pipeline: Type.String(),
  status: Type.Enum(PIPELINE_RUN_STATUSES),
  params: ParamValues,
  trigger: Type.String({ description: 'what started it: cli, api, schedule:<id>, alert:<name>, ...' }),
  start_time: Millis,
  end_time: Nullable(Millis),
  error: Nullable(Type.String()),
  cancel_requested: Type.Boolean(),
  owner: Nullable(
    Type.Object({
      pid: Type.Integer(),
      host: Type.String(),
      started: Type.Optional(
        Type.String({ description: 'when the process started: <boot id>/<clock ticks>' }),
      ),
    }),
  ),
  blocks: Type.Array(BlockRunJson, { description: "in the pipeline's execution order" }),
  links: Type.Array(
    Type.Object({
      kind: Type.Enum(['tracking_run', 'model_version']),
      target: Type.String({ description: 'a tracking run id, or name/version of a model version' }),
      block: Type.String({ description: 'the block that created it' }),
    }),
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
  schedule_id: Type.String(),
  pipeline: Type.String(),
  cron: Type.String(),
  timezone: Type.String(),
  params: ParamValues,
  enabled: Type.Boolean(),
  next_run_time: Millis,
  last_run_id: Nullable(Type.String({ description: 'the pipeline run it started last' })),
  created_time: Millis,
});

/** A run as the API answers it: a block's error without its stack (install paths, code layout). */
export function pipelineRunJson(run: PipelineRun): Static<typeof PipelineRunJson> {
  return {
    run_id: run.runId,
    pipeline: run.pipeline,
    status: run.status,
    params: run.params,
    trigger: run.trigger,
    start_time: run.startTime,
    end_time: run.endTime,
    error: run.error,
    cancel_requested: run.cancelRequested,
    owner:
      run.owner === null
        ? null
        : {
            pid: run.owner.pid,
            host: run.owner.host,
            ...(run.owner.started === undefined ? {} : { started: run.owner.started }),
          },
    blocks: run.blocks.map(blockRunJson),
    links: run.links.map((link) => ({ kind: link.kind, target: link.target, block: link.block })),
  };
}

function blockRunJson(block: BlockRun): Static<typeof BlockRunJson> {
  return {
    block: block.block,
    status: block.status,
    attempts: block.attempts,
    start_time: block.startTime,
    end_time: block.endTime,
    error: block.error === null ? null : { message: block.error.message },
    output: block.output,
  };
}

export function blockLogLineJson(line: BlockLogLine): Static<typeof BlockLogLineJson> {
  return {
    block: line.block,
    attempt: line.attempt,
    timestamp: line.timestamp,
    level: line.level,
    message: line.message,
  };
}

export function pipelineScheduleJson(schedule: PipelineSchedule): Static<typeof PipelineScheduleJson> {
  return {
    schedule_id: schedule.scheduleId,
    pipeline: schedule.pipeline,
    cron: schedule.cron,
    timezone: schedule.timezone,
    params: schedule.params,
    enabled: schedule.enabled,
    next_run_time: schedule.nextRunTime,
    last_run_id: schedule.lastRunId,
    created_time: schedule.createdTime,
  };
}

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
        ...(block.retry
          ? { retry: { attempts: block.retry.attempts, backoff_ms: block.retry.backoffMs } }
          : {}),
      };
    }),
  };
}

const ParamsField = Type.Optional(
  Type.Record(Type.String(), Type.Unknown(), {
    description: "the pipeline's parameters by name (see GET /api/onset/pipelines/{name}); default: theirs",
  }),
);
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
      return reply.status(202).send({ run: pipelineRunJson(await store.getRun(handle.runId)) });
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
        runs: page.items.map(pipelineRunJson),
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
    async ({ params }) => ({ run: pipelineRunJson(await store.getRun(params.id)) }),
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
      logs: (await store.getLogs(params.id, query.block ? { block: query.block } : {})).map(blockLogLineJson),
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
    async ({ params }) => ({ run: pipelineRunJson(await service.cancel(params.id)) }),
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
    async () => ({ schedules: (await store.listSchedules()).map(pipelineScheduleJson) }),
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
      return reply.status(201).send({ schedule: pipelineScheduleJson(schedule) });
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
