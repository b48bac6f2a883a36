/**
 * The tables of the SQL pipeline store, as Kysely sees them: rows, not domain objects
 * (`sql-pipeline-store.ts` converts them). Timestamps are milliseconds since the Unix epoch (BIGINT);
 * booleans are 0/1 integers on both dialects; `*_json` columns hold JSON text.
 */
import type { Generated } from 'kysely';

export interface PipelineRunsTable {
  run_id: string;
  pipeline: string;
  status: string;
  params_json: string;
  trigger: string;
  start_time: number;
  end_time: number | null;
  error: string | null;
  cancel_requested: number;
  owner_pid: number | null;
  owner_host: string | null;
  /** When the owner process started (`processStart`); null in runs of older Onsets. */
  owner_started: string | null;
}

export interface PipelineBlockRunsTable {
  run_id: string;
  block: string;
  /** The block's place in the pipeline's execution order. */
  position: number;
  status: string;
  attempts: number;
  start_time: number | null;
  end_time: number | null;
  error_message: string | null;
  error_stack: string | null;
  output_json: string | null;
}

export interface PipelineLogsTable {
  id: Generated<number>;
  run_id: string;
  block: string;
  attempt: number;
  timestamp: number;
  level: string;
  message: string;
}

export interface PipelineRunLinksTable {
  run_id: string;
  kind: string;
  target: string;
  block: string;
}

export interface PipelineSchedulesTable {
  schedule_id: string;
  pipeline: string;
  cron: string;
  timezone: string;
  params_json: string;
  enabled: number;
  next_run_time: number;
  last_run_id: string | null;
  created_time: number;
}

/** The pipeline tables by name (created by `migrations.ts`). */
export type PipelineTables = {
  pipeline_runs: PipelineRunsTable;
  pipeline_block_runs: PipelineBlockRunsTable;
  pipeline_logs: PipelineLogsTable;
  pipeline_run_links: PipelineRunLinksTable;
  pipeline_schedules: PipelineSchedulesTable;
};
