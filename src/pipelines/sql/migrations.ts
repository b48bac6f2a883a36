import { ddlMigration, type MigrationSet } from '../../store/migrations.js';

/**
 * The pipeline tables' migrations, recorded in `onset_pipelines_migrations`. The first one creates the
 * runs, block runs, logs, links and schedules tables (or adopts those an older Onset made: its schema
 * version 2); the second records when the owner process started, so a reused pid is not taken for it.
 */
export const PIPELINE_MIGRATIONS: MigrationSet = {
  owner: 'pipelines',
  historyTable: 'onset_pipelines_migrations',
  lockTable: 'onset_pipelines_migrations_lock',
  migrations: {
    '0001_pipeline_runs_and_schedules': ddlMigration({
      legacyVersion: 2,
      statements: (t) => [
        `CREATE TABLE pipeline_runs (
            run_id TEXT NOT NULL PRIMARY KEY,
            pipeline TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
            params_json TEXT NOT NULL,
            trigger TEXT NOT NULL,
            start_time BIGINT NOT NULL,
            end_time BIGINT,
            error TEXT,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            owner_pid INTEGER,
            owner_host TEXT)`,
        'CREATE INDEX pipeline_runs_start ON pipeline_runs (start_time, run_id)',
        'CREATE INDEX pipeline_runs_pipeline ON pipeline_runs (pipeline, start_time)',
        'CREATE INDEX pipeline_runs_status ON pipeline_runs (status)',
        `CREATE TABLE pipeline_block_runs (
            run_id TEXT NOT NULL REFERENCES pipeline_runs (run_id) ON DELETE CASCADE,
            block TEXT NOT NULL,
            position INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN
              ('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'UPSTREAM_FAILED', 'CANCELLED')),
            attempts INTEGER NOT NULL,
            start_time BIGINT,
            end_time BIGINT,
            error_message TEXT,
            error_stack TEXT,
            output_json TEXT,
            PRIMARY KEY (run_id, block))`,
        `CREATE TABLE pipeline_logs (
            id ${t.bigSerialKey},
            run_id TEXT NOT NULL REFERENCES pipeline_runs (run_id) ON DELETE CASCADE,
            block TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            timestamp BIGINT NOT NULL,
            level TEXT NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
            message TEXT NOT NULL)`,
        'CREATE INDEX pipeline_logs_run ON pipeline_logs (run_id, id)',
        `CREATE TABLE pipeline_run_links (
            run_id TEXT NOT NULL REFERENCES pipeline_runs (run_id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('tracking_run', 'model_version')),
            target TEXT NOT NULL,
            block TEXT NOT NULL,
            PRIMARY KEY (run_id, kind, target))`,
        `CREATE TABLE pipeline_schedules (
            schedule_id TEXT NOT NULL PRIMARY KEY,
            pipeline TEXT NOT NULL,
            cron TEXT NOT NULL,
            timezone TEXT NOT NULL,
            params_json TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            next_run_time BIGINT NOT NULL,
            last_run_id TEXT,
            created_time BIGINT NOT NULL)`,
      ],
    }),
    '0002_owner_started': ddlMigration({
      statements: () => ['ALTER TABLE pipeline_runs ADD COLUMN owner_started TEXT'],
    }),
  },
};
