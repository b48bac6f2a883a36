import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { invalidParameter, OnsetError } from '../../errors.js';
import { migrate } from '../../store/migrations.js';
import type { Page } from '../../store/paging.js';
import { decodePageToken, resolveMaxResults, toPage } from '../../store/paging.js';
import { chunks, type SqlDatabase } from '../../store/sql-database.js';
import type { OwnerProcess } from '../../util/process.js';
import {
  BLOCK_RUN_STATUSES,
  type BlockLogLine,
  type BlockLogQuery,
  type BlockRun,
  type BlockRunStatus,
  type BlockRunUpdate,
  type LogLevel,
  PIPELINE_RUN_STATUSES,
  type PipelineParamValue,
  type PipelineRun,
  type PipelineRunInput,
  type PipelineRunOutcome,
  type PipelineRunQuery,
  type PipelineRunStatus,
  type PipelineSchedule,
  type PipelineStore,
  type RunLink,
  type ScheduleInput,
} from '../pipeline-store.js';
import { PIPELINE_MIGRATIONS } from './migrations.js';
import type {
  PipelineBlockRunsTable,
  PipelineRunsTable,
  PipelineSchedulesTable,
  PipelineTables,
} from './schema.js';

export const LIST_PIPELINE_RUNS_DEFAULT = 100;
export const LIST_PIPELINE_RUNS_MAX = 1_000;
/** Longer messages and stacks are cut (a log line is for people, not for dumping data). */
const MAX_MESSAGE = 8_000;
const MAX_STACK = 16_000;

const clip = (text: string, limit: number) => (text.length > limit ? `${text.slice(0, limit - 1)}…` : text);

function notFound(runId: string): OnsetError {
  return new OnsetError('RESOURCE_DOES_NOT_EXIST', `Pipeline run ${runId} does not exist`);
}

function toBlockRun(row: Selectable<PipelineBlockRunsTable>): BlockRun {
  return {
    block: row.block,
    status: row.status as BlockRunStatus,
    attempts: Number(row.attempts),
    startTime: row.start_time === null ? null : Number(row.start_time),
    endTime: row.end_time === null ? null : Number(row.end_time),
    error: row.error_message === null ? null : { message: row.error_message, stack: row.error_stack },
    output: row.output_json === null ? null : JSON.parse(row.output_json),
  };
}

function toSchedule(row: Selectable<PipelineSchedulesTable>): PipelineSchedule {
  return {
    scheduleId: row.schedule_id,
    pipeline: row.pipeline,
    cron: row.cron,
    timezone: row.timezone,
    params: JSON.parse(row.params_json) as Record<string, PipelineParamValue>,
    enabled: Number(row.enabled) === 1,
    nextRunTime: Number(row.next_run_time),
    lastRunId: row.last_run_id,
    createdTime: Number(row.created_time),
  };
}

/**
 * Migrates the pipeline tables of `database` (a no-op when they are up to date) and opens the pipeline
 * store over it.
 */
export async function openPipelineStore(database: SqlDatabase): Promise<PipelineStore> {
  await migrate(database, PIPELINE_MIGRATIONS);
  return new SqlPipelineStore(database.withTables<PipelineTables>());
}

/** `PipelineStore` over SQLite or PostgreSQL (see `SqlDatabase`), in the tables of `migrations.ts`. */
export class SqlPipelineStore implements PipelineStore {
  readonly #database: SqlDatabase<PipelineTables>;
  readonly #db: Kysely<PipelineTables>;

  constructor(database: SqlDatabase<PipelineTables>) {
    this.#database = database;
    this.#db = database.db;
  }

  async createRun(input: PipelineRunInput): Promise<PipelineRun> {
    const runId = randomUUID().replaceAll('-', '');
    const now = Date.now();
    await this.#database.transaction(async (trx) => {
      await trx
        .insertInto('pipeline_runs')
        .values({
          run_id: runId,
          pipeline: input.pipeline,
          status: 'RUNNING',
          params_json: JSON.stringify(input.params),
          trigger: input.trigger,
          start_time: now,
          end_time: null,
          error: null,
          cancel_requested: 0,
          owner_pid: input.owner?.pid ?? null,
          owner_host: input.owner?.host ?? null,
          owner_started: input.owner?.started ?? null,
        })
        .execute();
      for (const part of chunks(input.blocks.map((block, position) => ({ block, position })))) {
        await trx
          .insertInto('pipeline_block_runs')
          .values(
            part.map(({ block, position }) => ({
              run_id: runId,
              block,
              position,
              status: 'PENDING',
              attempts: 0,
              start_time: null,
              end_time: null,
              error_message: null,
              error_stack: null,
              output_json: null,
            })),
          )
          .execute();
      }
    });
    return this.getRun(runId);
  }

  async updateBlockRun(runId: string, block: string, update: BlockRunUpdate): Promise<void> {
    if (update.status !== undefined && !BLOCK_RUN_STATUSES.includes(update.status)) {
      throw invalidParameter(
        `Unknown block status "${update.status}"; known: ${BLOCK_RUN_STATUSES.join(', ')}`,
      );
    }
    const set: Partial<PipelineBlockRunsTable> = {};
    if (update.status !== undefined) set.status = update.status;
    if (update.attempts !== undefined) set.attempts = update.attempts;
    if (update.startTime !== undefined) set.start_time = update.startTime;
    if (update.endTime !== undefined) set.end_time = update.endTime;
    if (update.error !== undefined) {
      set.error_message = update.error === null ? null : clip(update.error.message, MAX_MESSAGE);
      set.error_stack = update.error?.stack ? clip(update.error.stack, MAX_STACK) : null;
    }
    if (update.output !== undefined)
      set.output_json = update.output === null ? null : JSON.stringify(update.output);
    if (Object.keys(set).length === 0) return;
    const result = await this.#db
      .updateTable('pipeline_block_runs')
      .set(set)
      .where('run_id', '=', runId)
      .where('block', '=', block)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) {
      throw new OnsetError('RESOURCE_DOES_NOT_EXIST', `Pipeline run ${runId} has no block "${block}"`);
    }
  }

  async finishRun(runId: string, outcome: PipelineRunOutcome): Promise<boolean> {
    if (!PIPELINE_RUN_STATUSES.includes(outcome.status) || outcome.status === ('RUNNING' as string)) {
      throw invalidParameter(
        `A run cannot finish as "${outcome.status}"; use SUCCEEDED, FAILED or CANCELLED`,
      );
    }
    const result = await this.#db
      .updateTable('pipeline_runs')
      .set({
        status: outcome.status,
        end_time: Date.now(),
        error: outcome.error ? clip(outcome.error, MAX_MESSAGE) : null,
      })
      .where('run_id', '=', runId)
      .where('status', '=', 'RUNNING')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) {
      await this.#runRow(runId); // 404 for an unknown run; an ended run stays as it is
      return false;
    }
    return true;
  }

  async appendLogs(runId: string, lines: readonly BlockLogLine[]): Promise<void> {
    for (const part of chunks(lines)) {
      await this.#db
        .insertInto('pipeline_logs')
        .values(
          part.map((line) => ({
            run_id: runId,
            block: line.block,
            attempt: line.attempt,
            timestamp: line.timestamp,
            level: line.level,
            message: clip(line.message, MAX_MESSAGE),
          })),
        )
        .execute();
    }
  }

  async addLink(runId: string, link: RunLink): Promise<void> {
    await this.#runRow(runId);
    await this.#db
      .insertInto('pipeline_run_links')
      .values({ run_id: runId, kind: link.kind, target: link.target, block: link.block })
      .onConflict((conflict) => conflict.columns(['run_id', 'kind', 'target']).doNothing())
      .execute();
  }

  async getRun(runId: string): Promise<PipelineRun> {
    const row = await this.#runRow(runId);
    const [run] = await this.#withDetails([row]);
    return run!;
  }

  async listRuns(query: PipelineRunQuery): Promise<Page<PipelineRun>> {
    if (query.status !== undefined && !PIPELINE_RUN_STATUSES.includes(query.status)) {
      throw invalidParameter(
        `Unknown pipeline run status "${query.status}"; known: ${PIPELINE_RUN_STATUSES.join(', ')}`,
      );
    }
    const limit = resolveMaxResults(query.maxResults, LIST_PIPELINE_RUNS_DEFAULT, LIST_PIPELINE_RUNS_MAX);
    const offset = decodePageToken(query.pageToken);
    let select = this.#db.selectFrom('pipeline_runs').selectAll();
    if (query.pipeline !== undefined) select = select.where('pipeline', '=', query.pipeline);
    if (query.status !== undefined) select = select.where('status', '=', query.status);
    const rows = await select
      .orderBy('start_time', 'desc')
      .orderBy('run_id', 'desc')
      .limit(limit + 1)
      .offset(offset)
      .execute();
    const page = toPage(rows, offset, limit);
    return { items: await this.#withDetails(page.items), nextPageToken: page.nextPageToken };
  }

  async getLogs(runId: string, query: BlockLogQuery = {}): Promise<readonly BlockLogLine[]> {
    await this.#runRow(runId);
    let select = this.#db.selectFrom('pipeline_logs').selectAll().where('run_id', '=', runId);
    if (query.block !== undefined) select = select.where('block', '=', query.block);
    const rows = await select.orderBy('id').execute();
    return rows.map((row) => ({
      block: row.block,
      attempt: Number(row.attempt),
      timestamp: Number(row.timestamp),
      level: row.level as LogLevel,
      message: row.message,
    }));
  }

  async requestCancel(runId: string): Promise<PipelineRun> {
    const row = await this.#runRow(runId);
    if (row.status !== 'RUNNING') {
      throw new OnsetError(
        'INVALID_STATE',
        `Pipeline run ${runId} has already ended (${row.status}); nothing to cancel`,
      );
    }
    await this.#db
      .updateTable('pipeline_runs')
      .set({ cancel_requested: 1 })
      .where('run_id', '=', runId)
      .where('status', '=', 'RUNNING')
      .execute();
    return this.getRun(runId);
  }

  async failAbandonedRuns(
    reason: string,
    host: string,
    isAlive: (owner: Pick<OwnerProcess, 'pid' | 'started'>) => boolean,
  ): Promise<number> {
    const candidates = await this.#db
      .selectFrom('pipeline_runs')
      .select(['run_id', 'owner_pid', 'owner_started'])
      .where('status', '=', 'RUNNING')
      .where('owner_host', '=', host)
      .execute();
    let failed = 0;
    for (const candidate of candidates) {
      const pid = Number(candidate.owner_pid);
      if (!Number.isSafeInteger(pid) || pid <= 0) continue;
      if (isAlive({ pid, started: candidate.owner_started ?? undefined })) continue;
      await this.#database.transaction(async (trx) => {
        const now = Date.now();
        const result = await trx
          .updateTable('pipeline_runs')
          .set({ status: 'FAILED', end_time: now, error: clip(reason, MAX_MESSAGE) })
          .where('run_id', '=', candidate.run_id)
          .where('status', '=', 'RUNNING')
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) return;
        await trx
          .updateTable('pipeline_block_runs')
          .set({
            status: 'FAILED',
            end_time: now,
            error_message: clip(reason, MAX_MESSAGE),
            error_stack: null,
          })
          .where('run_id', '=', candidate.run_id)
          .where('status', '=', 'RUNNING')
          .execute();
        await trx
          .updateTable('pipeline_block_runs')
          .set({ status: 'UPSTREAM_FAILED', end_time: now })
          .where('run_id', '=', candidate.run_id)
          .where('status', '=', 'PENDING')
          .execute();
        failed += 1;
      });
    }
    return failed;
  }

  async createSchedule(input: ScheduleInput): Promise<PipelineSchedule> {
    const scheduleId = randomUUID().replaceAll('-', '').slice(0, 12);
    await this.#db
      .insertInto('pipeline_schedules')
      .values({
        schedule_id: scheduleId,
        pipeline: input.pipeline,
        cron: input.cron,
        timezone: input.timezone,
        params_json: JSON.stringify(input.params),
        enabled: 1,
        next_run_time: input.nextRunTime,
        last_run_id: null,
        created_time: Date.now(),
      })
      .execute();
    return this.getSchedule(scheduleId);
  }

  async listSchedules(): Promise<readonly PipelineSchedule[]> {
    const rows = await this.#db
      .selectFrom('pipeline_schedules')
      .selectAll()
      .orderBy('created_time')
      .orderBy('schedule_id')
      .execute();
    return rows.map(toSchedule);
  }

  async getSchedule(scheduleId: string): Promise<PipelineSchedule> {
    const row = await this.#db
      .selectFrom('pipeline_schedules')
      .selectAll()
      .where('schedule_id', '=', scheduleId)
      .executeTakeFirst();
    if (!row) throw new OnsetError('RESOURCE_DOES_NOT_EXIST', `Schedule ${scheduleId} does not exist`);
    return toSchedule(row);
  }

  async deleteSchedule(scheduleId: string): Promise<void> {
    const result = await this.#db
      .deleteFrom('pipeline_schedules')
      .where('schedule_id', '=', scheduleId)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) {
      throw new OnsetError('RESOURCE_DOES_NOT_EXIST', `Schedule ${scheduleId} does not exist`);
    }
  }

  async setScheduleEnabled(scheduleId: string, enabled: boolean): Promise<PipelineSchedule> {
    await this.getSchedule(scheduleId);
    await this.#db
      .updateTable('pipeline_schedules')
      .set({ enabled: enabled ? 1 : 0 })
      .where('schedule_id', '=', scheduleId)
      .execute();
    return this.getSchedule(scheduleId);
  }

  async claimScheduleFiring(scheduleId: string, expected: number, next: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('pipeline_schedules')
      .set({ next_run_time: next })
      .where('schedule_id', '=', scheduleId)
      .where('next_run_time', '=', expected)
      .where('enabled', '=', 1)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async recordScheduleRun(scheduleId: string, runId: string): Promise<void> {
    await this.#db
      .updateTable('pipeline_schedules')
      .set({ last_run_id: runId })
      .where('schedule_id', '=', scheduleId)
      .execute();
  }

  async #runRow(runId: string): Promise<Selectable<PipelineRunsTable>> {
    if (typeof runId !== 'string' || runId.length === 0 || runId.length > 64) throw notFound(String(runId));
    const row = await this.#db
      .selectFrom('pipeline_runs')
      .selectAll()
      .where('run_id', '=', runId)
      .executeTakeFirst();
    if (!row) throw notFound(runId);
    return row;
  }

  async #withDetails(rows: readonly Selectable<PipelineRunsTable>[]): Promise<PipelineRun[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((row) => row.run_id);
    const blocks = await this.#db
      .selectFrom('pipeline_block_runs')
      .selectAll()
      .where('run_id', 'in', ids)
      .orderBy('run_id')
      .orderBy('position')
      .execute();
    const links = await this.#db
      .selectFrom('pipeline_run_links')
      .selectAll()
      .where('run_id', 'in', ids)
      .orderBy('run_id')
      .orderBy('kind')
      .orderBy('target')
      .execute();
    return rows.map((row) => ({
      runId: row.run_id,
      pipeline: row.pipeline,
      status: row.status as PipelineRunStatus,
      params: JSON.parse(row.params_json) as Record<string, PipelineParamValue>,
      trigger: row.trigger,
      startTime: Number(row.start_time),
      endTime: row.end_time === null ? null : Number(row.end_time),
      error: row.error,
      cancelRequested: Number(row.cancel_requested) === 1,
      owner:
        row.owner_pid === null || row.owner_host === null
          ? null
          : {
              pid: Number(row.owner_pid),
              host: row.owner_host,
              ...(row.owner_started === null ? {} : { started: row.owner_started }),
            },
      blocks: blocks.filter((block) => block.run_id === row.run_id).map(toBlockRun),
      links: links
        .filter((link) => link.run_id === row.run_id)
        .map((link) => ({ kind: link.kind as RunLink['kind'], target: link.target, block: link.block })),
    }));
  }
}
